"""The upgrade gate holds a companion release's chart move too (hub_companion_releases), on the
embedded cluster with the genuine jupyterhub chart and a chart of the tests' own
(tests/companion_support.py) at two versions: the late batch may not move its companion chart
before the canary, which runs it in a namespace of its own, has; once the canary moved and
soaked, it may."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from companion_support import CHART, write_chart
from support import PlaybookRun, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

SUFFIX = secrets.token_hex(3)
CANARY, LATE = f"ucomp-canary-{SUFFIX}", f"ucomp-late-{SUFFIX}"
HOME = f"{CANARY}-home"  # the canary's companion lives in a namespace of its own
BATCHES = {CANARY: "canary", LATE: "late"}
PROFILES = [{"display_name": "Course", "slug": "course", "default": True,
             "kubespawner_override": {"image": "quay.io/jupyter/minimal-notebook:2024-03-18"}}]


def write_hubs(inventory: Path, charts: dict[str, str], soak: str) -> None:
    for host, batch in BATCHES.items():
        companion: dict[str, Any] = {"chart": f"../charts/{charts[host]}", "order": "after", "wait": False}
        if host == CANARY:
            companion["namespace"] = HOME
        variables = local_hub_vars(host, jupyterhub_profiles=PROFILES, jupyterhub_storage={"type": "none"},
                                   hub_image_building="disabled", hub_values_files=["values/local-cluster.values.yaml"],
                                   hub_companion_releases=[companion], hub_upgrade_batch=batch,
                                   hub_upgrade_batches=["canary", "late"], hub_upgrade_soak=soak)
        (inventory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(variables))


def rollout(inventory: Path, report: Path, *extra: str) -> tuple[PlaybookRun, dict[str, str]]:
    """The run and each hub's companion chart version after it (from the rollout report)."""
    run = run_playbook("-i", str(inventory), "playbooks/hub.yml", *extra, env=project_env(HUB_ROLLOUT_REPORT=str(report)),
                       timeout=1200)
    rows = json.loads(report.read_text())["releases"]
    return run, {row["hub"]: row["chart_version"] for row in rows if row["chart"] == CHART}


@pytest.fixture(scope="module")
def campaign(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("upgrade-companions")
    write_chart(root / "charts" / "nfs-old", version="0.3.0")
    write_chart(root / "charts" / "nfs-new", version="0.4.0")
    inventory = local_inventory(root / "inventory", {host: {} for host in BATCHES})
    old, new = dict.fromkeys(BATCHES, "nfs-old"), dict.fromkeys(BATCHES, "nfs-new")
    steps: dict[str, Any] = {}
    try:
        write_hubs(inventory, old, "1h")
        steps["install"] = rollout(inventory, root / "install.json")
        write_hubs(inventory, new, "1h")
        steps["held"] = rollout(inventory, root / "held.json", "-l", LATE)
        steps["canary"] = rollout(inventory, root / "canary.json", "-l", CANARY)
        write_hubs(inventory, new, "1s")
        steps["soaked"] = rollout(inventory, root / "soaked.json", "-l", LATE)
        yield steps
    finally:
        remove_namespaces([*BATCHES, HOME], project_env(KUBECONFIG=str(kubeconfig)))


def test_both_hubs_start_on_the_older_companion_chart(campaign: dict[str, Any]) -> None:
    run, versions = campaign["install"]
    assert run.rc == 0, run.output[-4000:]
    assert versions == dict.fromkeys(BATCHES, "0.3.0")


def test_the_gate_holds_the_late_batchs_companion_move_before_the_canary_has_moved(campaign: dict[str, Any]) -> None:
    run, versions = campaign["held"]
    assert run.rc != 0
    message = " ".join(run.output.split("TASK [Hold the hub until the batch before it has soaked", 1)[1].split())
    assert f"hub {LATE}: batch 'late' may not move {CHART} to 0.4.0 yet: batch 'canary' is not ready" in message
    assert f"{CANARY}: runs {CHART} 0.3.0, not 0.4.0" in message  # read in the canary's companion namespace
    assert versions.get(LATE) != "0.4.0"


def test_the_late_batch_moves_once_the_canary_has_soaked_on_it(campaign: dict[str, Any]) -> None:
    run, versions = campaign["canary"]
    assert run.rc == 0, run.output[-4000:]
    assert versions == {CANARY: "0.4.0"}
    run, versions = campaign["soaked"]
    assert run.rc == 0, run.output[-4000:]
    assert versions == {LATE: "0.4.0"}
