"""One broken hub never blocks the fleet: a hub that fails validation is reported failed and not
deployed while the other hubs are deployed (the run exits non-zero); hub_rollout_strict stops
every hub instead; a canary that fails validation stops its cluster's production hubs."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import LOCAL_INVENTORY, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

GOOD, BAD, CANARY, PRODUCTION = "iso-good", "iso-bad", "iso-canary", "iso-prod"
BROKEN = {"hub_sentinel_misspelt_variable": True}  # refused by the hub model: an unknown hub_* variable


def namespaces() -> set[str]:
    out = subprocess.run(["kubectl", "get", "namespaces", "-o", "json"], env=project_env(), capture_output=True,
                         text=True, check=True)
    return {item["metadata"]["name"] for item in json.loads(out.stdout)["items"]}


def run(inventory: Path, report: Path, *extra: str) -> tuple[int, str, dict[str, list[dict[str, Any]]]]:
    done = run_playbook("-i", str(inventory), "playbooks/hub.yml", *extra,
                        env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1500)
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in json.loads(report.read_text())["releases"] if report.exists() else []:
        rows.setdefault(row["hub"], []).append(row)
    return done.rc, done.output, rows


@pytest.fixture(scope="module")
def root(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    directory = tmp_path_factory.mktemp("isolation")
    try:
        yield directory
    finally:
        remove_namespaces((GOOD, BAD, CANARY, PRODUCTION), project_env(KUBECONFIG=str(kubeconfig)))


@pytest.fixture(scope="module")
def fleet(root: Path) -> Path:
    hubs = {GOOD: local_hub_vars(GOOD, hub_stage="production", jupyterhub_storage={"type": "none"}),
            BAD: local_hub_vars(BAD, hub_stage="production", jupyterhub_storage={"type": "none"}, **BROKEN)}
    return local_inventory(root / "fleet", hubs)


def test_strict_stops_every_hub(fleet: Path, root: Path) -> None:
    rc, output, _ = run(fleet, root / "strict.json", "-e", "hub_rollout_strict=true")
    assert rc != 0
    assert f"hub_rollout_strict: hub(s) {BAD} failed validation; no hub is deployed" in output, output[-6000:]
    assert not {GOOD, BAD} & namespaces()


def test_a_broken_hub_is_not_deployed_and_the_others_are(fleet: Path, root: Path) -> None:
    rc, output, rows = run(fleet, root / "isolated.json")
    assert rc != 0, output[-6000:]
    assert "hub_sentinel_misspelt_variable" in output
    assert [row["status"] for row in rows[GOOD]] == ["changed", "changed"], rows
    assert all(row["status"].startswith("failed") for row in rows[BAD]), rows
    assert GOOD in namespaces() and BAD not in namespaces()


def test_a_canary_that_fails_validation_stops_its_clusters_production_hubs(root: Path) -> None:
    hubs = {CANARY: local_hub_vars(CANARY, hub_stage="staging", jupyterhub_storage={"type": "none"}, **BROKEN),
            PRODUCTION: local_hub_vars(PRODUCTION, hub_stage="production", jupyterhub_storage={"type": "none"})}
    rc, output, rows = run(local_inventory(root / "canary", hubs), root / "canary.json")
    assert rc != 0
    assert "hub_sentinel_misspelt_variable" in output, output[-6000:]
    assert [row["status"] for row in rows[PRODUCTION]] == ["not deployed: a canary of cluster local failed"], rows
    assert not {CANARY, PRODUCTION} & namespaces()
