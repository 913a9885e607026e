"""The comparison of every selected hub in one task (``hub_rollout_state``, ``state: compared``):
each hub is judged on its own variables, files and cluster connection. Two throwaway hubs of one
inventory on the embedded cluster, deployed, then:

- one hub's values file changes: that hub is rolled out, the other is skipped and reported unchanged;
- one hub's kubeconfig (a file of its own, whose contents are no input) stops working: that hub is
  not skipped, it fails validation naming itself, and the other hub is still skipped.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import LOCAL_INVENTORY, PlaybookRun, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

HUBS = ("compare-a", "compare-b")
LOCK_TASK = "TASK [Take the hub's rollout lock]"


class Fleet:
    def __init__(self, root: Path, kubeconfig: Path) -> None:
        self.kubeconfigs = {hub: root / f"{hub}.kubeconfig" for hub in HUBS}
        for copy in self.kubeconfigs.values():
            shutil.copy(kubeconfig, copy)
        hubs = {hub: local_hub_vars(hub, jupyterhub_storage={"type": "none"},
                                    cluster_kubeconfig=str(self.kubeconfigs[hub]),
                                    hub_values_files=["values/local-cluster.values.yaml", f"values/{hub}.values.yaml"])
                for hub in HUBS}
        self.inventory = local_inventory(root / "inventory", hubs,
                                         {f"{hub}.values.yaml": {"jupyterhub": {"cull": {"timeout": 3600}}} for hub in HUBS})
        self.report = root / "rollout.json"

    def run(self) -> tuple[PlaybookRun, dict[str, list[dict[str, Any]]]]:
        run = run_playbook("-i", str(self.inventory), "playbooks/hub.yml", timeout=1500,
                           env=project_env(HUB_ROLLOUT_REPORT=str(self.report)))
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in json.loads(self.report.read_text())["releases"]:
            rows.setdefault(row["hub"], []).append(row)
        return run, rows


def locked(run: PlaybookRun) -> set[str]:
    """The hubs whose rollout lock the run took (they were not skipped), over every wave."""
    sections = [part.split("TASK [", 1)[0] for part in run.output.split(LOCK_TASK)[1:]]
    return {hub for hub in HUBS for section in sections if f"[{hub}]" in section}


@pytest.fixture(scope="module")
def fleet(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    deployed = Fleet(tmp_path_factory.mktemp("compare"), kubeconfig)
    try:
        first, _ = deployed.run()
        assert first.rc == 0 and locked(first) == set(HUBS), first.output
        again, rows = deployed.run()
        assert again.rc == 0 and locked(again) == set(), again.output[-6000:]
        assert {row["status"] for hub in HUBS for row in rows[hub]} == {"unchanged"}, rows
        yield deployed
    finally:
        remove_namespaces(HUBS, project_env(KUBECONFIG=str(kubeconfig)))


def test_only_the_hub_whose_input_changed_is_rolled_out(fleet: Fleet) -> None:
    (fleet.inventory / "values" / "compare-a.values.yaml").write_text(
        yaml.safe_dump({"jupyterhub": {"cull": {"timeout": 4000}}}))
    run, rows = fleet.run()
    assert run.rc == 0, run.output[-6000:]
    assert locked(run) == {"compare-a"}, run.output[-6000:]
    # compare-a's jupyterhub release took the new value; its BinderHub release had nothing new.
    assert {row["release"]: row["status"] for row in rows["compare-a"]} == {
        "compare-a": "changed", "compare-a-binderhub": "unchanged"}, rows
    assert [(row["status"], row["helm"]) for row in rows["compare-b"]] == [("unchanged", [])] * 2, rows


def test_a_hub_whose_cluster_cannot_be_reached_is_not_skipped(fleet: Fleet) -> None:
    config = yaml.safe_load(fleet.kubeconfigs["compare-b"].read_text())
    config["current-context"] = "no-such-context"
    fleet.kubeconfigs["compare-b"].write_text(yaml.safe_dump(config))
    run, rows = fleet.run()
    assert run.rc != 0, run.output[-6000:]
    assert run.recap()["compare-b"]["failed"] == 1 and "no-such-context" in run.output, run.output[-6000:]
    assert locked(run) == set(), run.output[-6000:]
    assert [row["status"] for row in rows["compare-a"]] == ["unchanged"] * 2, rows
    assert [row["status"] for row in rows["compare-b"]] == ["failed"], rows
