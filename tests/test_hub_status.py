"""The fleet's version map (playbooks/status.yml): what each hub runs, from helm's records on
the embedded cluster, next to what its inventory pins. The releases are the genuine charts
(jupyterhub 4.3.5 and dask-gateway from ../shared/charts)."""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import (
    Deployed,
    Pinned,
    age,
    deployed_at,
    drift,
    status_rows,
    status_table,
)
from support import SHARED_CHARTS, local_hub_vars, local_inventory, project_env, run_playbook

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_helm_times_with_nanoseconds_and_offsets() -> None:
    assert deployed_at({"info": {"last_deployed": "2026-11-30T15:40:29.399921696Z"}}) == \
        datetime.datetime(2026, 11, 30, 15, 40, 29, 399921, tzinfo=UTC)
    assert deployed_at({"info": {"last_deployed": "2026-11-30T16:40:29.5+01:00"}}) == \
        datetime.datetime(2026, 11, 30, 15, 40, 29, 500000, tzinfo=UTC)
    assert deployed_at({"info": {"last_deployed": "yesterday"}}) is None
    assert deployed_at({}) is None


def test_drift_says_why_a_release_differs() -> None:
    pin = Pinned("a", "jupyterhub", "4.4.0", "5.5.0")
    at = NOW - datetime.timedelta(hours=5)
    assert drift(pin, Deployed("jupyterhub", "4.4.0", "5.5.0", 3, "deployed", at)) == ""
    assert drift(pin, Deployed("jupyterhub", "4.3.5", "5.4.6", 3, "deployed", at)) == "chart version 4.3.5, pinned 4.4.0"
    assert drift(pin, Deployed("basehub", "4.4.0", "", 3, "deployed", at)) == "chart basehub, pinned jupyterhub"
    assert drift(pin, Deployed("jupyterhub", "4.4.0", "5.5.0", 4, "failed", at)) == "latest revision failed"
    assert drift(pin, None) == "not deployed"
    assert drift(None, Deployed("basehub", "1.0.0", "", 1, "deployed", at)) == "not in the inventory"


def test_rows_put_the_inventorys_releases_first_and_show_ages() -> None:
    deployed = {"zz-umbrella": Deployed("basehub", "1.0.0", "", 9, "deployed", NOW - datetime.timedelta(days=3)),
                "a": Deployed("jupyterhub", "4.4.0", "5.5.0", 2, "deployed", NOW - datetime.timedelta(minutes=7))}
    rows = status_rows("a", "c", "a", [Pinned("a", "jupyterhub", "4.4.0", "5.5.0"),
                                       Pinned("a-binderhub", "binderhub-service", "0.1.0", "")], deployed, NOW)
    assert [(r["release"], r["drift"]) for r in rows] == [("a", ""), ("a-binderhub", "not deployed"),
                                                          ("zz-umbrella", "not in the inventory")]
    assert [age(r["age_seconds"]) for r in rows] == ["7m", "-", "3d"]
    lines = status_table(rows).splitlines()
    assert lines[0].split()[:3] == ["hub", "cluster", "release"] and len(lines) == 4
    assert lines[3].split()[2:5] == ["zz-umbrella", "-", "1.0.0"] and lines[3].endswith("not in the inventory")


HUB, BROKEN = "status-a", "status-broken"


def helm(*args: str, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["helm", *args], env=project_env(KUBECONFIG=str(kubeconfig)), capture_output=True,
                          text=True, check=False, timeout=300)


def helm_secrets(kubeconfig: Path) -> list[str]:
    found = subprocess.run(["kubectl", "get", "secrets", "-n", HUB, "-l", "owner=helm", "-o", "name"],
                           env=project_env(KUBECONFIG=str(kubeconfig)), capture_output=True, text=True, check=True)
    return sorted(found.stdout.split())


@pytest.fixture(scope="module")
def version_map(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """status-a runs jupyterhub 4.3.5 (its inventory pins 4.4.0), no binderhub-service, and a
    dask-gateway release its inventory does not know; status-broken pins a chart version that
    does not exist."""
    root = tmp_path_factory.mktemp("status")
    values = ["values/local-cluster.values.yaml"]
    inventory = local_inventory(root / "inventory", {
        HUB: local_hub_vars(HUB, hub_values_files=values, jupyterhub_storage={"type": "none"}),
        BROKEN: local_hub_vars(BROKEN, hub_values_files=values, jupyterhub_chart_version="9.9.9"),
    })
    try:
        for release, chart in ((HUB, "jupyterhub-4.3.5"), (f"{HUB}-extra", "dask-gateway")):
            installed = helm("install", release, str(SHARED_CHARTS / chart), "-n", HUB, "--create-namespace",
                             kubeconfig=kubeconfig)
            assert installed.returncode == 0, installed.stderr
        before = helm_secrets(kubeconfig)
        report = root / "status.json"
        run = run_playbook("-i", str(inventory), "playbooks/status.yml", "-e", f"hub_status_report_path={report}")
        yield {"run": run, "report": json.loads(report.read_text()), "before": before,
               "after": helm_secrets(kubeconfig), "inventory": inventory, "root": root}
    finally:
        for release in (HUB, f"{HUB}-extra"):
            helm("uninstall", release, "-n", HUB, "--wait=false", kubeconfig=kubeconfig)
        subprocess.run(["kubectl", "delete", "namespace", HUB, "--ignore-not-found", "--wait=false"],
                       env=project_env(KUBECONFIG=str(kubeconfig)), capture_output=True, check=False)


def rows_of(version_map: dict[str, Any], hub: str) -> dict[str, dict[str, Any]]:
    return {row["release"]: row for row in version_map["report"]["releases"] if row["hub"] == hub}


def test_map_shows_the_deployed_version_next_to_the_pin(version_map: dict[str, Any]) -> None:
    rows = rows_of(version_map, HUB)
    hub = rows[HUB]
    assert (hub["chart_version"], hub["app_version"], hub["pinned_chart_version"], hub["pinned_app_version"]) == \
        ("4.3.5", "5.4.6", "4.4.0", "5.5.0"), hub
    assert hub["drift"] == "chart version 4.3.5, pinned 4.4.0" and hub["age_seconds"] >= 0, hub
    assert rows[f"{HUB}-binderhub"]["drift"] == "not deployed", rows
    assert rows[f"{HUB}-extra"]["drift"] == "not in the inventory" and rows[f"{HUB}-extra"]["chart"] == "dask-gateway"
    assert version_map["report"]["summary"]["chart_versions"]["jupyterhub"] == {"4.3.5": 1}
    assert f"{HUB}  " in version_map["run"].output and "chart version 4.3.5, pinned 4.4.0" in version_map["run"].output


def test_a_broken_inventory_is_a_row_and_fails_the_run_after_the_map(version_map: dict[str, Any]) -> None:
    rows = rows_of(version_map, BROKEN)
    assert list(rows) == ["-"], rows
    assert rows["-"]["drift"].startswith(f"inventory invalid: hub '{BROKEN}'") and "9.9.9" in rows["-"]["drift"], rows
    assert version_map["run"].rc != 0
    assert f"fatal: [{BROKEN}]" in version_map["run"].output and f"fatal: [{HUB}]" not in version_map["run"].output


def test_the_map_changes_nothing(version_map: dict[str, Any]) -> None:
    assert version_map["before"] == version_map["after"]
    assert "changed=0" in version_map["run"].output.split("PLAY RECAP", 1)[1]


def test_fail_on_drift(version_map: dict[str, Any]) -> None:
    run = run_playbook("-i", str(version_map["inventory"]), "playbooks/status.yml", "-l", HUB,
                       "-e", f"hub_status_report_path={version_map['root'] / 'again.json'}",
                       "-e", "hub_status_fail_on_drift=true")
    assert run.rc != 0 and f"fatal: [{HUB}]" in run.output, run.output[-2000:]
    assert "not in the inventory" in run.output.split(f"fatal: [{HUB}]", 1)[1]
