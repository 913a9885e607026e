"""An upgrade campaign in batches on the embedded cluster, on the genuine jupyterhub charts
4.3.5 and 4.4.0: the canary batch moves first, a fleet-wide change for something else keeps
every hub on the version it pins, the gate holds the next batch until the canary has soaked
(and says since when), then lets it go; the version map shows the split fleet. The gate's
rules on helm's revision history are tested without a cluster first."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_upgrade_gate import (
    PreviousHub,
    RevisionRecord,
    batch_problems,
    hub_problems,
    running_since,
)
from support import PlaybookRun, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(hours_ago: float) -> datetime.datetime:
    return NOW - datetime.timedelta(hours=hours_ago)


def test_running_since_is_the_oldest_revision_of_the_version_that_served_last() -> None:
    records = [RevisionRecord(5, "deployed", "jupyterhub", "4.4.0", at(1)),
               RevisionRecord(4, "failed", "jupyterhub", "4.5.0", at(2)),
               RevisionRecord(3, "superseded", "jupyterhub", "4.4.0", at(30)),
               RevisionRecord(2, "superseded", "jupyterhub", "4.3.5", at(50)),
               RevisionRecord(1, "superseded", "jupyterhub", "4.4.0", at(90))]
    assert running_since(records, "4.4.0") == at(30)
    assert running_since(records, "4.3.5") is None
    assert running_since(records[1:], "4.4.0") is None  # nothing deployed


def test_a_hub_of_the_batch_before_must_run_the_version_for_the_soak_and_be_healthy() -> None:
    soaked = PreviousHub("c", {"c": [RevisionRecord(2, "deployed", "jupyterhub", "4.4.0", at(30))]})
    assert hub_problems(soaked, "jupyterhub", "4.4.0", 24 * 3600, NOW) == []
    fresh = PreviousHub("c", {"c": [RevisionRecord(2, "deployed", "jupyterhub", "4.4.0", at(2))]})
    assert hub_problems(fresh, "jupyterhub", "4.4.0", 24 * 3600, NOW) == [
        "c: runs jupyterhub 4.4.0 since 2026-11-30T10:00:00Z (2h), soaked at 2026-12-01T10:00:00Z"]
    behind = PreviousHub("c", {"c": [RevisionRecord(1, "deployed", "jupyterhub", "4.3.5", at(2))]})
    assert hub_problems(behind, "jupyterhub", "4.4.0", 0, NOW) == ["c: runs jupyterhub 4.3.5, not 4.4.0"]
    sick = PreviousHub("c", soaked.releases, pending=["Deployment hub: 0/1 available"])
    assert hub_problems(sick, "jupyterhub", "4.4.0", 0, NOW) == ["c: not healthy now: Deployment hub: 0/1 available"]
    assert hub_problems(PreviousHub("c", unreadable="403"), "jupyterhub", "4.4.0", 0, NOW) == ["c: could not be read (403)"]


def test_a_companion_chart_counts_only_the_hubs_that_run_it() -> None:
    """A hub chart every hub of the batch before must run; a companion release's chart only those
    that have one - and when none has, its move is not held, with a warning."""
    hub_chart = {"c1": [RevisionRecord(2, "deployed", "jupyterhub", "4.4.0", at(30))]}
    nfs_old = {"c1-nfs": [RevisionRecord(1, "deployed", "home-nfs", "0.3.0", at(30))]}
    with_nfs = PreviousHub("c1", {**hub_chart, **nfs_old})
    without = PreviousHub("c2", dict(hub_chart))
    problems, warnings = batch_problems([with_nfs, without], {"home-nfs": "0.4.0"}, {"home-nfs"}, 0, NOW)
    assert (problems, warnings) == (["c1: runs home-nfs 0.3.0, not 0.4.0"], [])
    nfs_new = {"c1-nfs": [RevisionRecord(2, "deployed", "home-nfs", "0.4.0", at(30)), *nfs_old["c1-nfs"]]}
    assert batch_problems([PreviousHub("c1", {**hub_chart, **nfs_new}), without], {"home-nfs": "0.4.0"},
                          {"home-nfs"}, 3600, NOW) == ([], [])
    problems, warnings = batch_problems([without], {"home-nfs": "0.4.0", "jupyterhub": "4.4.0"}, {"home-nfs"}, 0, NOW)
    assert problems == [] and warnings == [
        "no hub of the batch before runs a companion release of home-nfs: its move to 0.4.0 is not held "
        "(nothing can have soaked on it)"]
    # the hub's own charts: every hub of the batch before must run them
    assert batch_problems([without], {"dask-gateway": "2026.3.0"}, set(), 0, NOW) == (["c2: has no dask-gateway release"], [])


def test_where_a_smoke_check_was_run_the_last_one_must_have_passed_after_the_move() -> None:
    soaked = {"c": [RevisionRecord(2, "deployed", "jupyterhub", "4.4.0", at(30))]}
    passed_after = PreviousHub("c", soaked, smoke={"status": "passed", "step": "", "profile": "", "at": at(29)})
    assert hub_problems(passed_after, "jupyterhub", "4.4.0", 0, NOW) == []
    failed = PreviousHub("c", soaked, smoke={"status": "failed", "step": "pod image", "profile": "small", "at": at(1)})
    assert hub_problems(failed, "jupyterhub", "4.4.0", 0, NOW) == [
        "c: its last smoke check failed at step 'pod image' (2026-11-30T11:00:00Z)"]
    before = PreviousHub("c", soaked, smoke={"status": "passed", "step": "", "profile": "", "at": at(31)})
    assert hub_problems(before, "jupyterhub", "4.4.0", 0, NOW) == [
        "c: its last smoke check (2026-11-29T05:00:00Z) ran before it moved to jupyterhub 4.4.0: run playbooks/smoke.yml on it"]
    assert hub_problems(PreviousHub("c", soaked), "jupyterhub", "4.4.0", 0, NOW) == []  # no smoke check was run


BATCHES = {"ub-canary": "canary", "ub-early-1": "early", "ub-early-2": "early",
           "ub-late-1": "late", "ub-late-2": "late", "ub-late-3": "late"}
EARLY = [hub for hub, batch in BATCHES.items() if batch == "early"]
LATE = [hub for hub, batch in BATCHES.items() if batch == "late"]


def write_hubs(inventory: Path, pins: dict[str, str], soak: str, values: list[str]) -> None:
    for host, batch in BATCHES.items():
        variables = local_hub_vars(host, hub_values_files=values, jupyterhub_storage={"type": "none"},
                                   jupyterhub_chart_version=pins[host], hub_upgrade_batch=batch,
                                   hub_upgrade_batches=["canary", "early", "late"], hub_upgrade_soak=soak)
        (inventory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(variables))


def rollout(inventory: Path, report: Path, *extra: str) -> tuple[PlaybookRun, dict[str, dict[str, Any]]]:
    run = run_playbook("-i", str(inventory), "playbooks/hub.yml", *extra,
                       env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1200)
    rows = {row["hub"]: row for row in json.loads(report.read_text())["releases"] if row["release"] == row["hub"]
            or row["release"] == "-"}
    return run, rows


@pytest.fixture(scope="module")
def campaign(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("batches")
    base = ["values/local-cluster.values.yaml"]
    inventory = local_inventory(root / "inventory", {host: {} for host in BATCHES},
                                values={"cull.values.yaml": {"jupyterhub": {"cull": {"every": 900}}}})
    old, new = dict.fromkeys(BATCHES, "4.3.5"), dict.fromkeys(BATCHES, "4.4.0")
    changed = [*base, "values/cull.values.yaml"]
    steps: dict[str, Any] = {}
    try:
        write_hubs(inventory, old, "1h", base)
        steps["install"] = rollout(inventory, root / "install.json")
        # The canary moves; every hub gets an unrelated change (a values file) in the same run.
        write_hubs(inventory, {**old, "ub-canary": "4.4.0"}, "1h", changed)
        steps["canary"] = rollout(inventory, root / "canary.json")
        # The early batch is pinned to 4.4.0 while the canary has run it for less than the soak.
        pins = {**old, "ub-canary": "4.4.0", **dict.fromkeys(EARLY, "4.4.0")}
        write_hubs(inventory, pins, "1h", changed)
        steps["held"] = rollout(inventory, root / "held.json", "-l", ",".join(EARLY))
        write_hubs(inventory, pins, "1s", changed)
        steps["soaked"] = rollout(inventory, root / "soaked.json", "-l", ",".join(EARLY))
        write_hubs(inventory, new, "1s", changed)
        steps["fleet"] = rollout(inventory, root / "fleet.json")
        # The late batch goes back: the same operation with the old pin, never held.
        write_hubs(inventory, {**new, **dict.fromkeys(LATE, "4.3.5")}, "30d", changed)
        steps["back"] = rollout(inventory, root / "back.json", "-e", "hub_upgrade_run_batch=late")
        report = root / "status.json"
        status = run_playbook("-i", str(inventory), "playbooks/status.yml", "-e", f"hub_status_report_path={report}")
        steps["map"] = {row["hub"]: row for row in json.loads(report.read_text())["releases"] if row["release"] == row["hub"]}
        steps["map rc"] = status.rc
        yield steps
    finally:
        remove_namespaces(BATCHES, project_env(KUBECONFIG=str(kubeconfig)))


def test_fleet_starts_on_the_older_chart(campaign: dict[str, Any]) -> None:
    run, rows = campaign["install"]
    assert run.rc == 0, run.output[-3000:]
    assert {hub: row["chart_version"] for hub, row in rows.items()} == dict.fromkeys(BATCHES, "4.3.5")


def test_canary_moves_and_an_unrelated_change_keeps_every_pin(campaign: dict[str, Any]) -> None:
    run, rows = campaign["canary"]
    assert run.rc == 0, run.output[-3000:]
    moved = {hub: (row["chart_version_before"], row["chart_version"], row["status"]) for hub, row in rows.items()}
    assert moved == {hub: ("4.3.5", "4.4.0" if hub == "ub-canary" else "4.3.5", "changed") for hub in BATCHES}


def test_gate_holds_the_next_batch_before_the_soak(campaign: dict[str, Any]) -> None:
    run, rows = campaign["held"]
    assert run.rc != 0
    assert {hub: rows[hub]["status"] for hub in EARLY} == dict.fromkeys(EARLY, "failed"), rows
    message = run.output.split("TASK [Hold the hub until the batch before it has soaked", 1)[1]
    for hub in EARLY:
        assert f"hub {hub}: batch 'early' may not move jupyterhub to 4.4.0 yet: batch 'canary' is not ready" in message
    assert "ub-canary: runs jupyterhub 4.4.0 since 20" in message and "soaked at 20" in message
    assert "TASK [imagebuilding.hubs.jupyterhub : Deploy" not in run.output  # nothing changed


def test_gate_lets_the_batch_go_once_soaked_and_the_fleet_follows(campaign: dict[str, Any]) -> None:
    run, rows = campaign["soaked"]
    assert run.rc == 0, run.output[-3000:]
    assert {hub: (rows[hub]["chart_version_before"], rows[hub]["chart_version"]) for hub in EARLY} == \
        dict.fromkeys(EARLY, ("4.3.5", "4.4.0"))
    run, rows = campaign["fleet"]
    assert run.rc == 0, run.output[-3000:]
    assert {hub: row["chart_version"] for hub, row in rows.items()} == dict.fromkeys(BATCHES, "4.4.0")


def test_a_batch_goes_back_without_the_gate_and_with_a_warning(campaign: dict[str, Any]) -> None:
    run, rows = campaign["back"]
    assert run.rc == 0, run.output[-3000:]
    assert sorted(rows) == LATE, rows  # the run selected the late batch
    assert {hub: (rows[hub]["chart_version_before"], rows[hub]["chart_version"]) for hub in LATE} == \
        dict.fromkeys(LATE, ("4.4.0", "4.3.5"))
    for hub in LATE:
        assert f"release {hub}: the app version goes back from 5.5.0 to 5.4.6" in run.output


def test_version_map_shows_the_split_fleet(campaign: dict[str, Any]) -> None:
    assert campaign["map rc"] == 0
    assert {hub: (row["chart_version"], row["drift"]) for hub, row in campaign["map"].items()} == {
        hub: ("4.3.5" if hub in LATE else "4.4.0", "") for hub in BATCHES}
