"""Filters of the rollout waves (``plugin_utils/hub_waves.py``): ``hub_rollout_waves`` and
``hub_blocked_by_canaries`` and ``hub_rollout_plan``, fed with ``[{host, cluster, stage}]`` of the selected hubs;
``hub_sliced_job_refusal``, fed with the run's AWX job variables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_waves import (
    blocked_by_canaries,
    rollout_plan,
    rollout_waves,
    sliced_job_refusal,
)


def hub_rollout_waves(hubs: Iterable[Mapping[str, object]], max_parallel: int = 5) -> list[list[str]]:
    return rollout_waves(hubs, int(max_parallel))


def hub_blocked_by_canaries(hubs: Iterable[Mapping[str, object]], failed: Iterable[str]) -> list[str]:
    return blocked_by_canaries(hubs, failed)


def _hub(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {"host": host, "cluster": str(hostvars[host].get("cluster_name", "")),
            "stage": str(hostvars[host].get("hub_stage", "production"))}


def _failed_hub(host: str, hostvars: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    try:
        return _hub(host, hostvars)
    except Exception:  # a hub that failed validation may hold variables that do not template
        return None


def hub_rollout_plan(hosts: Iterable[str], hostvars: Mapping[str, Mapping[str, Any]],
                     max_parallel: int = 5, max_fail_percentage: int = 100,
                     active: Iterable[str] | None = None,
                     compared: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, object]:
    """The rollout plan of the selected hubs, from their cluster_name, hub_stage, cluster_max_parallel_deploys.
    Of ``hosts``, those not ``active`` are not deployed: a hub skipped as unchanged since its last
    rollout or of another batch (``compared``, the fact ``hub_rollout_compared`` of
    ``hub_rollout_state``) is left out;
    the others failed validation: they are listed as ``failed`` and kept in ``hubs``, so that a
    canary that failed validation stops its cluster's production hubs."""
    hosts = list(hosts)
    active = set(hosts if active is None else active)
    skipped = {host for host, entry in (compared or {}).items() if entry.get("skipped")}
    hubs, failed = [], []
    for host in hosts:
        if host not in active:
            if host not in skipped and (hub := _failed_hub(host, hostvars)):
                failed.append(host)
                hubs.append(hub)
        else:
            hubs.append({**_hub(host, hostvars),
                         "max_parallel": int(hostvars[host].get("cluster_max_parallel_deploys", max_parallel))})
    plan = rollout_plan([hub for hub in hubs if hub["host"] not in failed], int(max_parallel), int(max_fail_percentage))
    return {**plan, "hubs": hubs, "failed": failed}


def hub_sliced_job_refusal(variables: Mapping[str, Any], check_mode: bool = False) -> str:
    return sliced_job_refusal(variables, bool(check_mode))


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hub_rollout_waves": hub_rollout_waves, "hub_blocked_by_canaries": hub_blocked_by_canaries,
                "hub_rollout_plan": hub_rollout_plan, "hub_sliced_job_refusal": hub_sliced_job_refusal}
