"""Filter ``hub_duplicates``: hub names and namespaces used by more than one selected hub
(``plugin_utils/hub_duplicates.py``), for the validate play of ``playbooks/hub.yml``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_duplicates import (
    HubIdentity,
    duplicate_problems,
    hub_identity,
)

IDENTITY_VARIABLES = ("hub_name", "hub_namespace", "cluster_name", "hub_dask_gateway_enabled", "secrets_dir", "inventory_dir",
                      "jupyterhub_release_name", "binderhub_service_release_name", "jupyterhub_dask_gateway_release_name")


def _identity(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> HubIdentity | None:
    try:
        variables = {name: hostvars[host].get(name) for name in IDENTITY_VARIABLES}
    except Exception:  # a variable that does not template is the hub model's to report
        return None
    return hub_identity(host, variables)


def hub_duplicates(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Host -> messages for each selected hub whose hub_name, or (per cluster) namespace or releases'
    cluster-scoped objects, another one uses."""
    identities = [identity for host in hosts if (identity := _identity(host, hostvars)) is not None]
    return duplicate_problems(identities)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hub_duplicates": hub_duplicates}
