"""Rollout waves: canaries before production per cluster, at most K hubs of a cluster at once.

A cluster's hubs are cut into chunks of at most ``max_parallel`` hubs, its staging hubs'
chunks first; wave *i* is every cluster's *i*-th chunk. Deploying the waves one after the
other keeps each cluster's staging hubs ahead of its production hubs and never has more
than ``max_parallel`` hubs of one cluster deploying, while clusters proceed side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

STAGES = ("staging", "production")


def _chunks(hosts: list[str], size: int) -> list[list[str]]:
    return [hosts[i:i + size] for i in range(0, len(hosts), size)]


def cluster_chunks(hubs: Iterable[Mapping[str, object]], max_parallel: int) -> dict[str, list[list[str]]]:
    """cluster -> its chunks in deploy order (staging chunks, then production chunks).

    A hub's ``max_parallel`` (its cluster's ``cluster_max_parallel_deploys``) overrides the default.
    """
    by_cluster: dict[str, dict[str, list[str]]] = {}
    bound: dict[str, int] = {}
    for hub in hubs:
        cluster, stage = str(hub["cluster"]), hub.get("stage") if hub.get("stage") in STAGES else "production"
        by_cluster.setdefault(cluster, {s: [] for s in STAGES})[str(stage)].append(str(hub["host"]))
        given = hub.get("max_parallel")
        bound[cluster] = max_parallel if given is None else given  # type: ignore[assignment]  # the model checked it
        if not isinstance(bound[cluster], int) or isinstance(bound[cluster], bool) or bound[cluster] < 1:
            raise ValueError(f"cluster {cluster}: cluster_max_parallel_deploys must be at least 1, not {bound[cluster]}")
    return {cluster: [chunk for stage in STAGES for chunk in _chunks(sorted(stages[stage]), bound[cluster])]
            for cluster, stages in sorted(by_cluster.items())}


def rollout_waves(hubs: Iterable[Mapping[str, object]], max_parallel: int) -> list[list[str]]:
    """The waves: lists of hosts deployed together."""
    chunks = cluster_chunks(hubs, max_parallel)
    depth = max((len(c) for c in chunks.values()), default=0)
    return [[host for cluster in chunks.values() if i < len(cluster) for host in cluster[i]] for i in range(depth)]


def blocked_by_canaries(hubs: Iterable[Mapping[str, object]], failed: Iterable[str]) -> list[str]:
    """Production hubs of every cluster where a staging hub (canary) failed."""
    hubs = list(hubs)
    failed = set(failed)
    stopped = {hub["cluster"] for hub in hubs if hub.get("stage") == "staging" and hub["host"] in failed}
    return sorted(str(hub["host"]) for hub in hubs if hub["cluster"] in stopped and hub.get("stage") != "staging")


def rollout_plan(hubs: list[Mapping[str, object]], max_parallel: int, max_fail_percentage: int = 100) -> dict[str, object]:
    """What the deploy play needs: hosts in wave order, the wave sizes as ``serial``, the hubs."""
    waves = rollout_waves(hubs, max_parallel)
    return {"order": [host for wave in waves for host in wave], "serial": [len(wave) for wave in waves] or [0],
            "waves": waves, "hubs": list(hubs), "max_fail_percentage": max_fail_percentage}
