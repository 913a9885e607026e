"""The no-op fast path on the demo hub `staging`: an unchanged hub runs no helm at all,
one changed value upgrades the release, and hub_force re-applies (helm upgrade runs)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, PlaybookRun, project_env, run_playbook

INVENTORY = ROOT / "inventories" / "local"
HELM_TASK = "jupyterhub : Deploy the jupyterhub release"


def deploy_staging(report: Path, *extra: str) -> tuple[PlaybookRun, dict[str, dict[str, Any]]]:
    run = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", "-l", "staging", *extra,
                       env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1500)
    assert run.rc == 0, run.output[-6000:]
    rows = json.loads(report.read_text())["releases"]
    return run, {row["release"]: row for row in rows if row["hub"] == "staging"}


def task_outcome(output: str, task: str, host: str) -> str:
    """ok/changed/skipping/failed of one host's task, from the default callback's output."""
    section = output.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
    match = re.search(rf"^(ok|changed|skipping|failed|fatal): \[{host}\]", section, re.MULTILINE)
    assert match, section
    return match[1]


@pytest.fixture(scope="module")
def converged(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """staging deployed with its inventory values and the digest recorded."""
    report = tmp_path_factory.mktemp("report") / "rollout.json"
    deploy_staging(report)
    return report


def test_unchanged_hub_is_not_upgraded(converged: Path) -> None:
    run, rows = deploy_staging(converged)
    assert task_outcome(run.output, HELM_TASK, "staging") == "ok"
    assert rows["jupyterhub"]["helm"] == [] and rows["binderhub-service"]["helm"] == [], rows
    assert rows["jupyterhub"]["status"] == "unchanged"
    assert rows["jupyterhub"]["revision_after"] == rows["jupyterhub"]["revision_before"]
    assert rows["binderhub-service"]["status"] == "unchanged"
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
    assert rows["jupyterhub"]["helm"] == ["diff", "upgrade"], rows
    assert rows["jupyterhub"]["status"] == "changed"
    assert rows["jupyterhub"]["revision_after"] == rows["jupyterhub"]["revision_before"] + 1
    assert rows["binderhub-service"]["status"] == "unchanged"
    # Back to the inventory's values: one more upgrade, recorded again.
    _, rows = deploy_staging(converged)
    assert rows["jupyterhub"]["status"] == "changed"
