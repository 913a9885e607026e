"""Filters ``hub_affected`` and ``hub_affected_report`` (``plugin_utils/hub_affected.py``): the hubs
a change affects, and the same by cluster and stage for CI."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_affected import affected_hubs, affected_report


def _paths(changed: Iterable[str] | str) -> list[str]:
    return changed.split() if isinstance(changed, str) else [str(c) for c in changed]


def hub_affected(inputs: Mapping[str, Mapping[str, Iterable[str]]], changed: Iterable[str] | str,
                 root: str) -> dict[str, list[str]]:
    return affected_hubs(inputs, _paths(changed), root)


def hub_affected_report(affected: Mapping[str, Iterable[str]], hostvars: Mapping[str, Mapping[str, Any]],
                        changed: Iterable[str] | str) -> dict[str, object]:
    hubs = {host: (str(hostvars[host].get("cluster_name", "")), str(hostvars[host].get("hub_stage", "production")))
            for host in affected}
    return affected_report(affected, hubs, _paths(changed))


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hub_affected": hub_affected, "hub_affected_report": hub_affected_report}
