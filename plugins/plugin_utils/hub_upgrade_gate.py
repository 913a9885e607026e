"""The gate between upgrade batches: a hub of batch N moves a release to a new chart version
only when every hub of batch N-1 has run that version for the soak time and is healthy now.

Batches are inventory data: each hub's ``hub_upgrade_batch`` names its batch, and
``hub_upgrade_batches`` lists them in the order an upgrade goes through the fleet. A hub
"moves" a release when the release is deployed at an older chart version than the inventory
now pins (a first install is not a move; going back to an older version is never held). A
hub of the previous batch is ready when helm's deployed revision of the release of that chart
is at the version, has been (without a revision at another version in between) for at least
``hub_upgrade_soak``, the hub's Deployments and DaemonSets are rolled out, and where its
smoke check was run (``hub_smoke_record``) the last one passed after it moved.

A companion release (``hub_companion_releases``) moves the same way. Only the hubs of the batch
before that run a release of its chart count for it; when none does, nothing can have soaked on
it and the move is not held, with a warning saying so.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import release_record, revision
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import age, deployed_at

RAN = ("deployed", "superseded")  # revisions that served (a failed or pending one never did)


@dataclass(frozen=True)
class RevisionRecord:
    """One revision of a release, as helm recorded it."""

    revision: int
    status: str
    chart: str
    chart_version: str
    deployed_at: datetime.datetime | None


def revision_records(secrets: Iterable[Mapping[str, Any]]) -> dict[str, list[RevisionRecord]]:
    """Each release's revisions (newest first) from its helm Secrets (full, with their records)."""
    found: dict[str, list[RevisionRecord]] = {}
    for secret in secrets:
        labels = revision(secret)
        record = release_record(secret)
        chart = (record.get("chart") or {}).get("metadata") or {}
        found.setdefault(labels.release, []).append(RevisionRecord(
            labels.version, labels.status, str(chart.get("name", "")), str(chart.get("version", "")),
            deployed_at(record)))
    return {name: sorted(items, key=lambda r: r.revision, reverse=True) for name, items in found.items()}


def running_since(records: list[RevisionRecord], version: str) -> datetime.datetime | None:
    """Since when a release (``records`` newest first) has run ``version`` without a break: the
    deploy time of the oldest of the revisions at that version that served last; None when the
    deployed revision is at another version (or none is deployed)."""
    served = [r for r in records if r.status in RAN]
    if not served or served[0].status != "deployed" or served[0].chart_version != version:
        return None
    since = served[0].deployed_at
    for record in served[1:]:
        if record.chart_version != version:
            break
        since = record.deployed_at or since
    return since


@dataclass
class PreviousHub:
    """A hub of the batch before, as its cluster shows it."""

    name: str
    releases: dict[str, list[RevisionRecord]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    unreadable: str = ""
    smoke: dict[str, Any] | None = None  # its last smoke check (hub_smoke_record), None when none was run


def hub_problems(hub: PreviousHub, chart: str, version: str, soak: float, now: datetime.datetime) -> list[str]:
    """Why ``hub`` does not let the next batch move ``chart`` to ``version`` ([] when it does)."""
    if hub.unreadable:
        return [f"{hub.name}: could not be read ({hub.unreadable})"]
    mine = [records for records in hub.releases.values() if records and records[0].chart == chart]
    if not mine:
        return [f"{hub.name}: has no {chart} release"]
    problems = []
    for records in mine:
        since = running_since(records, version)
        if since is None:
            deployed = next((r for r in records if r.status == "deployed"), None)
            runs = f"runs {chart} {deployed.chart_version}" if deployed else f"has no deployed {chart} revision"
            problems.append(f"{hub.name}: {runs}, not {version}")
        elif (now - since).total_seconds() < soak:
            ready = since + datetime.timedelta(seconds=soak)
            problems.append(f"{hub.name}: runs {chart} {version} since {since.strftime('%Y-%m-%dT%H:%M:%SZ')} "
                            f"({age((now - since).total_seconds())}), soaked at {ready.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if hub.pending:
        problems.append(f"{hub.name}: not healthy now: {'; '.join(hub.pending)}")
    problems += smoke_problems(hub, chart, version, [running_since(records, version) for records in mine])
    return problems


def runs_chart(hub: PreviousHub, chart: str) -> bool:
    """Whether ``hub`` has a release of ``chart`` (by its latest revision)."""
    return any(records and records[0].chart == chart for records in hub.releases.values())


def batch_problems(previous: list[PreviousHub], moves: Mapping[str, str], companion_charts: Collection[str],
                   soak: float, now: datetime.datetime) -> tuple[list[str], list[str]]:
    """(why the batch before does not let a hub make ``moves`` (chart -> version), warnings). A
    companion chart counts only the hubs that run it; none does: its move is not held, and said so."""
    problems: list[str] = []
    warnings: list[str] = []
    for chart, version in sorted(moves.items()):
        hubs = previous
        if chart in companion_charts:
            hubs = [hub for hub in previous if hub.unreadable or runs_chart(hub, chart)]
            if not hubs:
                warnings.append(f"no hub of the batch before runs a companion release of {chart}: its move to "
                                f"{version} is not held (nothing can have soaked on it)")
                continue
        problems += [problem for hub in hubs for problem in hub_problems(hub, chart, version, soak, now)]
    return problems, warnings


def smoke_problems(hub: PreviousHub, chart: str, version: str, since: list[datetime.datetime | None]) -> list[str]:
    """Where the hub's smoke check was run: its last one must have passed, after the hub moved."""
    if hub.smoke is None:
        return []
    at = hub.smoke.get("at")
    when = at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else "an unknown time"
    if hub.smoke.get("status") != "passed":
        where = f" at step '{hub.smoke.get('step')}'" if hub.smoke.get("step") else ""
        return [f"{hub.name}: its last smoke check failed{where} ({when})"]
    moved = max((s for s in since if s is not None), default=None)
    if moved is not None and (at is None or at < moved):
        return [f"{hub.name}: its last smoke check ({when}) ran before it moved to {chart} {version}: run "
                "playbooks/smoke.yml on it"]
    return []


def previous_batch(batches: list[str], batch: str) -> str:
    """The batch before ``batch`` ("" for the first)."""
    index = batches.index(batch)
    return batches[index - 1] if index > 0 else ""


def gate_message(hub: str, batch: str, before: str, moves: Mapping[str, str], problems: list[str], soak: str) -> str:
    versions = ", ".join(f"{chart} to {version}" for chart, version in sorted(moves.items()))
    return (f"hub {hub}: batch {batch!r} may not move {versions} yet: batch {before!r} is not ready "
            f"(hub_upgrade_soak {soak or '0s'}):\n- " + "\n- ".join(problems) +
            "\nNothing was changed for this hub. Run it again once the batch before has soaked, or move it back "
            "by pinning its previous version (README: Upgrading the fleet).")
