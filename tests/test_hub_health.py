"""The health check after deploy: a hub whose hub pod cannot be scheduled fails, and the
failure names the Pending pod and why (Unschedulable). A throwaway hub in its own
namespace, in a temporary copy of inventories/local; the demo hubs are not touched."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT, local_hub_vars, local_inventory, project_env, run_playbook

LOCAL = ROOT / "inventories" / "local"
HUB = "health-unschedulable"
# A label no node has (not a node pool label: a pool selector no pool has is refused before
# the rollout, by the release rules).
UNSCHEDULABLE = {"jupyterhub": {"hub": {"nodeSelector": {"example.org/rack": "nowhere"}}}}


def throwaway_inventory(root: Path) -> Path:
    """inventories/local's group vars and sops rules, one hub whose hub pod fits no node."""
    hub = local_hub_vars(HUB, hub_values_files=["values/local-cluster.values.yaml", "values/unschedulable.values.yaml"],
                         jupyterhub_storage={"type": "none"}, jupyterhub_helm_timeout="30s", hub_health_timeout="30s")
    return local_inventory(root / "inventory", {HUB: hub}, {"unschedulable.values.yaml": UNSCHEDULABLE})


@pytest.fixture(scope="module")
def failed_run(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("health")
    if not (LOCAL / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    report = root / "rollout.json"
    try:
        run = run_playbook("-i", str(throwaway_inventory(root)), "playbooks/hub.yml",
                           env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1500)
        assert run.rc != 0, run.output[-4000:]
        yield run.output, report
    finally:
        subprocess.run(["kubectl", "delete", "namespace", HUB, "--ignore-not-found", "--wait=false"],
                       env=project_env(KUBECONFIG=str(kubeconfig)), capture_output=True, check=False)


def test_unschedulable_pod_is_named_with_its_reason(failed_run: tuple[str, Path]) -> None:
    output, _ = failed_run
    failure = "\n".join(line for line in output.splitlines() if HUB in line and "FAILED" in line)
    assert re.search(r"pod hub-[a-z0-9-]+", failure), failure or output[-4000:]
    assert "Unschedulable" in failure, failure


def test_report_marks_the_hub_failed(failed_run: tuple[str, Path]) -> None:
    _, report = failed_run
    rows = [row for row in json.loads(report.read_text())["releases"] if row["hub"] == HUB]
    assert any(row["status"] == "failed" for row in rows), rows
