"""The no-op fast paths on the demo hub `staging`: a hub unchanged since its last rollout is
skipped after the one task that compares every selected hub (no check, lock, registry, secrets
or helm of its own); a release whose values did not
change runs no helm; one changed value upgrades its release; hub_force re-applies (helm
upgrade runs); a revision made by hand, and check mode, are never skipped."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, SHARED_CHARTS, PlaybookRun, project_env, run_playbook

INVENTORY = ROOT / "inventories" / "local"
HELM_TASK = "imagebuilding.hubs.jupyterhub : Deploy the jupyterhub and dask-gateway releases"
COMPARE_TASK = "Compare every selected hub with the state its last rollout recorded"
PREFLIGHT_TASK = "TASK [Check the hub - its entry, variables, registry, secrets, charts and final values]"
LOCK_TASK = "TASK [Take the hub's rollout lock]"


def deploy_staging(report: Path, *extra: str) -> tuple[PlaybookRun, dict[str, dict[str, Any]]]:
    run = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", "-l", "staging", *extra,
                       env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1500)
    assert run.rc == 0, run.output[-6000:]
    rows = json.loads(report.read_text())["releases"]
    return run, {row["chart"]: row for row in rows if row["hub"] == "staging"}  # keyed by chart


def task_outcome(output: str, task: str, host: str) -> str:
    """ok/changed/skipping/failed of one host's task (delegated or not), from the default callback's output."""
    section = output.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
    match = re.search(rf"^(ok|changed|skipping|failed|fatal): \[{host}(?: -> [^\]]+)?\]", section, re.MULTILINE)
    assert match, section
    return match[1]


@pytest.fixture(scope="module")
def converged(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """staging deployed with its inventory values and the digest recorded."""
    report = tmp_path_factory.mktemp("report") / "rollout.json"
    deploy_staging(report)
    return report


def test_unchanged_hub_is_skipped_after_one_task(converged: Path) -> None:
    run, rows = deploy_staging(converged)
    assert task_outcome(run.output, COMPARE_TASK, "staging") == "ok"
    # Nothing after the comparison ran for the hub: no checks, no lock, no roles, no helm.
    assert PREFLIGHT_TASK not in run.output, run.output[-4000:]
    assert LOCK_TASK not in run.output and f"TASK [{HELM_TASK}]" not in run.output, run.output[-4000:]
    assert rows["jupyterhub"]["helm"] == [] and rows["binderhub-service"]["helm"] == [], rows
    assert rows["jupyterhub"]["status"] == "unchanged"
    assert rows["jupyterhub"]["revision_after"] == rows["jupyterhub"]["revision_before"] > 0
    assert rows["binderhub-service"]["status"] == "unchanged"
    assert run.changed() == 0, run.output[-4000:]


def test_hub_with_a_revision_made_by_hand_is_rolled_out_again(converged: Path) -> None:
    helm = subprocess.run(["helm", "upgrade", "staging", "--namespace", "staging", "--reuse-values",
                           str(SHARED_CHARTS / "jupyterhub")], env=project_env(), capture_output=True,
                          text=True, check=False, timeout=600)
    assert helm.returncode == 0, helm.stderr
    run, rows = deploy_staging(converged)
    assert LOCK_TASK in run.output, run.output[-4000:]
    # The same values: helm diff finds nothing, so the digest is recorded on the new revision.
    assert task_outcome(run.output, HELM_TASK, "staging") == "ok"
    assert rows["jupyterhub"]["helm"] == ["diff"] and rows["jupyterhub"]["status"] == "unchanged", rows
    again, _ = deploy_staging(converged)
    assert LOCK_TASK not in again.output, again.output[-4000:]


def test_a_failed_upgrade_made_by_hand_is_rolled_out_again(converged: Path) -> None:
    """The latest revision failed (its pods never came up): the hub is neither skipped nor
    reported unchanged; the toolkit's values are deployed again."""
    helm = subprocess.run(["helm", "upgrade", "staging", "--namespace", "staging", "--reuse-values",
                           "--set", "hub.nodeSelector.nowhere=true", "--wait", "--timeout", "3s",
                           str(SHARED_CHARTS / "jupyterhub")], env=project_env(), capture_output=True,
                          text=True, check=False, timeout=600)
    assert helm.returncode != 0, helm.stdout
    run, rows = deploy_staging(converged)
    assert LOCK_TASK in run.output, run.output[-4000:]
    assert rows["jupyterhub"]["helm"] == ["upgrade"] and rows["jupyterhub"]["status"] == "changed", rows
    listed = json.loads(subprocess.run(["helm", "list", "-n", "staging", "-o", "json"], env=project_env(),
                                       capture_output=True, text=True, check=True).stdout)
    assert {r["name"]: r["status"] for r in listed}["staging"] == "deployed"
    again, rows = deploy_staging(converged)
    assert LOCK_TASK not in again.output and rows["jupyterhub"]["status"] == "unchanged", again.output[-4000:]


def test_check_mode_is_never_skipped(converged: Path) -> None:
    run, rows = deploy_staging(converged, "--check", "--diff")
    assert f"TASK [{HELM_TASK}]" in run.output and task_outcome(run.output, HELM_TASK, "staging") == "ok"
    assert rows["jupyterhub"]["helm"] == ["diff"], rows
    assert run.changed() == 0, run.output[-4000:]


def test_force_reapplies(converged: Path) -> None:
    run, rows = deploy_staging(converged, "-e", "hub_force=true")
    assert task_outcome(run.output, HELM_TASK, "staging") == "changed"
    assert rows["jupyterhub"]["helm"] == ["upgrade"], rows
    assert rows["jupyterhub"]["revision_after"] == rows["jupyterhub"]["revision_before"] + 1
    again, rows = deploy_staging(converged)
    assert rows["jupyterhub"]["helm"] == [] and again.changed() == 0, rows


def test_one_changed_value_upgrades_the_release(converged: Path) -> None:
    changed = json.dumps({"jupyterhub_admin_users": ["admin", "fast-path-test"]})
    run, rows = deploy_staging(converged, "-e", changed)
    assert task_outcome(run.output, HELM_TASK, "staging") == "changed"
    assert rows["jupyterhub"]["helm"] == ["upgrade"], rows  # a digest was recorded: no helm diff needed
    assert rows["jupyterhub"]["status"] == "changed"
    assert rows["jupyterhub"]["revision_after"] == rows["jupyterhub"]["revision_before"] + 1
    assert rows["binderhub-service"]["status"] == "unchanged"
    # Back to the inventory's values: one more upgrade, recorded again.
    _, rows = deploy_staging(converged)
    assert rows["jupyterhub"]["status"] == "changed"
