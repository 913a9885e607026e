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


# AWX runs a job template with Job Slicing N > 1 as a workflow job named like the job template,
# whose N jobs (launched by the workflow: launch type "workflow") each get every N-th host of the
# inventory. AWX hands a slice no variable with its slice number or count (job_slice_number and
# job_slice_count stay in AWX's database); these variables of every job are what tells a slice.
# AWX sets each with both prefixes; an older Tower set the tower_ one only.
SLICE_VARIABLES = ("job_launch_type", "workflow_job_name", "job_template_name")
SLICE_PREFIXES = ("awx", "tower")


def _job_variable(variables: Mapping[str, object], name: str) -> tuple[str, str]:
    """The variable of AWX's that is set, and its value (('awx_<name>', '') when none is)."""
    for prefix in SLICE_PREFIXES:
        value = variables.get(f"{prefix}_{name}")
        if value not in (None, ""):
            return f"{prefix}_{name}", str(value)
    return f"awx_{name}", ""


def sliced_job_refusal(variables: Mapping[str, object], check_mode: bool = False) -> str:
    """Why this run must not deploy: it is one slice of a sliced AWX job ('' when it is not, or in
    check mode, which deploys nothing). A slice holds an arbitrary part of every cluster's hubs, so
    a cluster's production hubs could deploy in one slice while its canaries deploy (or fail) in
    another, and the other slices' hubs are not in this run's waves at all."""
    launch, workflow, template = (_job_variable(variables, name) for name in SLICE_VARIABLES)
    if check_mode or launch[1] != "workflow" or not workflow[1] or workflow[1] != template[1]:
        return ""
    return (f"this run is one slice of a sliced AWX job ({launch[0]}: workflow, {workflow[0]} = "
            f"{template[0]} = '{template[1]}'): a slice holds every N-th hub of the inventory, so a "
            "cluster's production hubs could deploy without its canaries (staging hubs); nothing was "
            f"changed. Set Job Slicing of the job template '{template[1]}' to 1 (forks bound the "
            "parallelism), or make one job template per cluster or wave with a limit (cluster_<name>). "
            "A job of a workflow template that is named like its job template is taken for a slice "
            "too: rename the workflow template.")
