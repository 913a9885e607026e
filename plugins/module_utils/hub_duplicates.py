"""Names that must be unique across hubs: ``hub_name`` across the fleet, ``hub_namespace`` per cluster.

Each hub is validated alone by the hub model, so two hubs that would deploy into one
namespace, or two hosts that are the same hub, pass it. These plain functions compare the
selected hubs and name both hosts, the variable and the value, e.g.::

    hub 'research-2': hub_namespace: 'research' is also the namespace of hub 'research' on
    cluster 'europe'; expected a namespace of its own per cluster (it defaults to hub_name)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class HubIdentity:
    """Who a hub is: its host, its hub_name and namespace (defaults applied) and its cluster."""

    host: str
    name: str
    namespace: str
    cluster: str


def hub_identity(host: str, variables: Mapping[str, object]) -> HubIdentity | None:
    """The identity of one hub from its variables, or None when they are not strings.

    ``hub_name`` defaults to the host, ``hub_namespace`` to ``hub_name`` (as in the hub
    model); values of the wrong type are left to the hub model, which reports them.
    """
    name = variables.get("hub_name") or host
    namespace = variables.get("hub_namespace") or name
    cluster = variables.get("cluster_name") or ""
    if not all(isinstance(value, str) for value in (name, namespace, cluster)):
        return None
    return HubIdentity(host=host, name=str(name), namespace=str(namespace), cluster=str(cluster))


def _shared(hubs: Iterable[HubIdentity], key: str) -> dict[tuple[str, ...], list[HubIdentity]]:
    users: dict[tuple[str, ...], list[HubIdentity]] = {}
    for hub in hubs:
        value = (hub.name,) if key == "hub_name" else (hub.cluster, hub.namespace)
        users.setdefault(value, []).append(hub)
    return {value: found for value, found in users.items() if len(found) > 1}


def _others(hub: HubIdentity, found: list[HubIdentity]) -> str:
    return ", ".join(repr(other.host) for other in found if other.host != hub.host)


def duplicate_problems(hubs: Iterable[HubIdentity]) -> dict[str, list[str]]:
    """Host -> messages for every hub that shares its hub_name with another host (any
    cluster) or its namespace with another hub of its cluster; hubs without duplicates are absent."""
    hubs = list(hubs)
    problems: dict[str, list[str]] = {}
    for found in _shared(hubs, "hub_name").values():
        for hub in found:
            problems.setdefault(hub.host, []).append(
                f"hub {hub.host!r}: hub_name: {hub.name!r} is also the hub_name of host(s) {_others(hub, found)}; "
                "expected a hub_name of its own across the fleet (it defaults to the inventory hostname)")
    for found in _shared(hubs, "hub_namespace").values():
        for hub in found:
            problems.setdefault(hub.host, []).append(
                f"hub {hub.host!r}: hub_namespace: {hub.namespace!r} is also the namespace of hub(s) "
                f"{_others(hub, found)} on cluster {hub.cluster!r}; "
                "expected a namespace of its own per cluster (it defaults to hub_name)")
    return problems
