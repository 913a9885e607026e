"""Filter ``hub_duplicates``: hub names and namespaces used by more than one selected hub
(``plugin_utils/hub_duplicates.py``), for playbooks of your own (``playbooks/hub.yml`` finds them in
its comparison of every hub, ``hub_rollout_state``; ``playbooks/validate.yml`` in ``hub_validate``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_duplicates import (
    HubIdentity,
    duplicate_problems,
    read_identity,
)


def _identity(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> HubIdentity | None:
    return read_identity(host, lambda name: hostvars[host].get(name), (Exception,))


def hub_duplicates(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Host -> messages for each selected hub whose hub_name, or (per cluster) namespace or releases'
    cluster-scoped objects, another one uses."""
    identities = [identity for host in hosts if (identity := _identity(host, hostvars)) is not None]
    return duplicate_problems(identities)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hub_duplicates": hub_duplicates}
