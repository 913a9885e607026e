"""Filters of the secrets role: the desired content of a hub's secret values file
(``plugin_utils/sealed_values.py``, which the ``hub_secret_values`` action uses too).

``hub_sealed_values`` takes the decrypted current content and returns it with the
toolkit-managed keys set; every other key (what a person added) is kept. Generated
tokens are kept when present and only created when missing or when rotating.
``hub_sealed_values_changed`` lists, by dotted key name only, what differs between
two contents, so a run can say what it rewrites without showing any value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils import sealed_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.sealed_values import SealedValuesError, get_path

__all__ = ["get_path", "hub_sealed_values", "hub_sealed_values_changed"]


def hub_sealed_values(current: object, registry: Mapping[str, Any] | None = None, tokens: Iterable[Any] = (),
                      rotate: bool = False, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    try:
        return sealed_values.hub_sealed_values(current, registry, tokens, rotate, extra)
    except SealedValuesError as error:
        raise AnsibleFilterError(str(error)) from None


def hub_sealed_values_changed(current: object, desired: object) -> list[str]:
    return sealed_values.hub_sealed_values_changed(current, desired)


class FilterModule:
    """Filters of the secrets role."""

    def filters(self) -> dict[str, Any]:
        return {
            "hub_sealed_values": hub_sealed_values,
            "hub_sealed_values_changed": hub_sealed_values_changed,
        }
