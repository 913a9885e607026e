"""A hub moved between the genuine jupyterhub charts 4.3.5 and 4.4.0 by its inventory pin, on
the embedded cluster: the report says version before -> after (also in check mode), the
way back is the same operation with the old pin and warns that the app version goes back,
and the version map shows the hub as pinned after each move."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import SHARED_CHARTS, PlaybookRun, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

HUB = "upgrade-drill"


def test_keys_the_pinned_chart_no_longer_accepts_are_named(tmp_path: Path) -> None:
    """The final values are checked against the schema of the version the hub moves to. The two
    genuine releases accept the same keys, so the newer chart here is 4.4.0 unpacked as a made-up
    9.0.0 whose schema no longer has ``cull.every`` (a test double, in a temporary directory)."""
    import shutil

    from test_release_rules import _rendering, problems

    charts = tmp_path / "charts"
    for chart in ("binderhub-service", "jupyterhub"):
        shutil.copytree(SHARED_CHARTS / chart, charts / chart)
    newer = charts / "jupyterhub-9.0.0"
    shutil.copytree(SHARED_CHARTS / "jupyterhub", newer)
    (newer / "Chart.yaml").write_text((newer / "Chart.yaml").read_text().replace("version: 4.4.0", "version: 9.0.0"))
    schema = json.loads((newer / "values.schema.json").read_text())
    del schema["properties"]["cull"]["properties"]["every"]
    (newer / "values.schema.json").write_text(json.dumps(schema))
    values = {"jupyterhub": {"cull": {"every": 600}}}
    assert problems(_rendering(tmp_path, values, hub_charts_dir=str(charts))) == []
    found = problems(_rendering(tmp_path, values, hub_charts_dir=str(charts), jupyterhub_chart_version="9.0.0"))
    assert any(m.startswith("hub 'staging': hub_values_files[") and "staging.extra.values.yaml): jupyterhub.cull.every: "
               "is not a key the chart accepts" in m for m in found), found


def pin(inventory: Path, version: str) -> None:
    host_vars = inventory / "host_vars" / f"{HUB}.yml"
    variables = yaml.safe_load(host_vars.read_text())
    host_vars.write_text(yaml.safe_dump({**variables, "jupyterhub_chart_version": version}))


def rollout(inventory: Path, report: Path, *extra: str) -> tuple[PlaybookRun, dict[str, Any]]:
    run = run_playbook("-i", str(inventory), "playbooks/hub.yml", *extra,
                       env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=900)
    rows = {row["release"]: row for row in json.loads(report.read_text())["releases"]}
    return run, rows[HUB]


def version_map(inventory: Path, root: Path) -> dict[str, Any]:
    report = root / "status.json"
    run = run_playbook("-i", str(inventory), "playbooks/status.yml", "-e", f"hub_status_report_path={report}")
    assert run.rc == 0, run.output[-3000:]
    return {row["release"]: row for row in json.loads(report.read_text())["releases"]}[HUB]


@pytest.fixture(scope="module")
def drill(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("upgrade")
    inventory = local_inventory(root / "inventory", {HUB: local_hub_vars(
        HUB, hub_values_files=["values/local-cluster.values.yaml"], jupyterhub_storage={"type": "none"},
        jupyterhub_chart_version="4.3.5")})
    steps: dict[str, Any] = {}
    try:
        steps["install"] = rollout(inventory, root / "install.json")
        steps["map 4.3.5"] = version_map(inventory, root)
        pin(inventory, "4.4.0")
        steps["preview"] = rollout(inventory, root / "preview.json", "--check", "--diff")
        steps["upgrade"] = rollout(inventory, root / "upgrade.json")
        steps["map 4.4.0"] = version_map(inventory, root)
        pin(inventory, "4.3.5")
        steps["back"] = rollout(inventory, root / "back.json")
        steps["map back"] = version_map(inventory, root)
        yield steps
    finally:
        remove_namespaces([HUB], project_env(KUBECONFIG=str(kubeconfig)))


def test_install_on_the_older_chart(drill: dict[str, Any]) -> None:
    run, row = drill["install"]
    assert run.rc == 0, run.output[-3000:]
    assert (row["chart_version_before"], row["chart_version"], row["app_version"]) == ("", "4.3.5", "5.4.6"), row
    assert drill["map 4.3.5"]["drift"] == "" and drill["map 4.3.5"]["chart_version"] == "4.3.5"


def test_check_mode_previews_the_move(drill: dict[str, Any]) -> None:
    run, row = drill["preview"]
    assert run.rc == 0, run.output[-3000:]
    assert (row["status"], row["chart_version_before"], row["chart_version"]) == ("would change", "4.3.5", "4.4.0"), row
    assert "4.3.5 -> 4.4.0" in run.output  # the report's table
    # helm diff's manifest change: the chart label of the hub's objects, old and new.
    lines = [line.strip() for line in run.output.splitlines()]
    assert "- helm.sh/chart: jupyterhub-4.3.5" in [" ".join(line.split()) for line in lines], run.output[-3000:]
    assert "+ helm.sh/chart: jupyterhub-4.4.0" in [" ".join(line.split()) for line in lines], run.output[-3000:]


def test_the_upgrade_says_before_and_after(drill: dict[str, Any]) -> None:
    run, row = drill["upgrade"]
    assert run.rc == 0, run.output[-3000:]
    assert (row["status"], row["chart_version_before"], row["chart_version"]) == ("changed", "4.3.5", "4.4.0"), row
    assert (row["app_version_before"], row["app_version"]) == ("5.4.6", "5.5.0"), row
    assert "goes back" not in run.output
    assert (drill["map 4.4.0"]["chart_version"], drill["map 4.4.0"]["drift"]) == ("4.4.0", "")


def test_the_way_back_is_the_old_pin_and_warns(drill: dict[str, Any]) -> None:
    run, row = drill["back"]
    assert run.rc == 0, run.output[-3000:]
    assert (row["status"], row["chart_version_before"], row["chart_version"]) == ("changed", "4.4.0", "4.3.5"), row
    assert f"release {HUB}: the app version goes back from 5.5.0 to 5.4.6" in run.output
    assert (drill["map back"]["chart_version"], drill["map back"]["drift"]) == ("4.3.5", "")
