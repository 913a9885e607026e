"""Filter ``registry_view``: the hub's registry without its password, as the hub roles take it
(``jupyterhub_registry``, ``binderhub_service_registry``), from the registry role's
``registry_definition``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import registry_view as view_of


def registry_view(definition: Mapping[str, Any], hub: str = "") -> dict[str, Any]:
    """The non-secret fields of a registry definition, checked (the password never passes)."""
    if not isinstance(definition, Mapping):
        raise AnsibleFilterError(f"registry_view: expected the registry role's registry_definition (a mapping), "
                                 f"got {type(definition).__name__}")
    try:
        return asdict(view_of(definition, hub or "?"))
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"registry_view": registry_view}
