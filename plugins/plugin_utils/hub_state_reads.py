"""What the cluster says about a hub's last rollout, for the comparison with its state record
(``hub_state.why_not_skipped``): the record, helm's deployed revisions and pending releases, and
the Deployments and DaemonSets that have not rolled out. ``reasons`` reads many hubs at once, a
few requests of each in flight together (the requests wait on the API server, not on this
process), one client per cluster access.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import deployed_revisions
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_health import pending_workloads, release_pending
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_state import (
    STATE_SECRET,
    releases_elsewhere,
    why_not_skipped,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeError, path

# Hubs read at once: enough to keep the API server busy, few enough not to crowd a small one.
READERS = 8


@dataclass(frozen=True)
class StateQuestion:
    """One hub to compare: its namespace, the digest of its inputs now and the client of its cluster."""

    host: str
    namespace: str
    digest: str
    kube: Kube


def cluster_reason(kube: Kube, namespace: str, digest: str) -> tuple[str, dict[str, Any] | None]:
    """Why the hub of ``namespace`` must be rolled out ('' when it is as recorded), and its record."""
    record = kube.get_or_none(path("v1", "secrets", namespace, STATE_SECRET))
    if record is None:
        return why_not_skipped(None, digest, {}, [], []), None
    deployed, pending = deployed_revisions(kube.metadata(path("v1", "secrets", namespace), labelSelector="owner=helm"))
    # Companion releases of namespaces of their own: only those the record lists are the hub's.
    elsewhere = releases_elsewhere(record, namespace)
    for where, names in elsewhere.items():
        there, stuck = deployed_revisions(kube.metadata(path("v1", "secrets", where), labelSelector="owner=helm"))
        deployed.update({name: revision for name, revision in there.items() if name in names})
        pending += [name for name in stuck if name in names]
    reason = why_not_skipped(record, digest, deployed, pending, [])
    if not reason:
        not_rolled_out = pending_workloads(kube, namespace) + [
            line for where, names in elsewhere.items() for name in names
            for lines in release_pending(kube, where, name, ("deployment", "daemonset")).values() for line in lines]
        reason = why_not_skipped(record, digest, deployed, pending, not_rolled_out)
    return reason, record


def _answer(question: StateQuestion) -> tuple[str, dict[str, Any] | None]:
    try:
        return cluster_reason(question.kube, question.namespace, question.digest)
    except (KubeError, HTTPError, OSError) as error:  # never skip a hub whose cluster cannot be read
        return f"its cluster could not be read ({error.__class__.__name__})", None


def reasons(questions: list[StateQuestion], readers: int = READERS) -> Mapping[str, tuple[str, dict[str, Any] | None]]:
    """host -> (why it must be rolled out or '', its record) for every question."""
    if len(questions) <= 1:
        return {question.host: _answer(question) for question in questions}
    with ThreadPoolExecutor(max_workers=max(1, min(readers, len(questions)))) as pool:
        return dict(zip([question.host for question in questions], pool.map(_answer, questions), strict=True))
