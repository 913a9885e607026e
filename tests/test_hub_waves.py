"""Waves: two clusters (both the embedded local cluster) with a canary (staging) and a
production hub each; cluster a's canary cannot be scheduled, so a's production hub is not
deployed while cluster b's hubs are. Throwaway hubs in their own namespaces."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import ROOT, local_hub_vars, project_env, run_playbook

LOCAL = ROOT / "inventories" / "local"
PLAYBOOK = "playbooks/hub.yml"
HUBS = {"waves-a-canary": ("a", "staging"), "waves-a-prod": ("a", "production"),
        "waves-b-canary": ("b", "staging"), "waves-b-prod": ("b", "production")}
UNSCHEDULABLE = {"jupyterhub": {"hub": {"nodeSelector": {"hub.jupyter.org/node-purpose": "nowhere"}}}}


def hub_vars(host: str, stage: str) -> dict[str, Any]:
    values = ["values/local-cluster.values.yaml"] + (["values/unschedulable.values.yaml"] if host == "waves-a-canary" else [])
    return local_hub_vars(host, hub_stage=stage, hub_values_files=values, jupyterhub_storage={"type": "none"},
                          jupyterhub_helm_timeout="30s", hub_health_timeout="30s")


def two_cluster_inventory(root: Path) -> Path:
    inventory = root / "inventory"
    shutil.copytree(LOCAL / "group_vars" / "all", inventory / "group_vars" / "all")
    shutil.copy(LOCAL / "group_vars" / "provider_local.yml", inventory / "group_vars" / "provider_local.yml")
    shutil.copytree(LOCAL / "values", inventory / "values")
    shutil.copy(LOCAL / ".sops.yaml", inventory / ".sops.yaml")
    (inventory / "values" / "unschedulable.values.yaml").write_text(yaml.safe_dump(UNSCHEDULABLE))
    clusters: dict[str, Any] = {}
    for cluster in ("a", "b"):
        shutil.copytree(LOCAL / "group_vars" / "cluster_local", inventory / "group_vars" / f"cluster_{cluster}")
        (inventory / "group_vars" / f"cluster_{cluster}" / "cluster.yml").write_text(
            (LOCAL / "group_vars" / "cluster_local" / "cluster.yml").read_text().replace(
                "cluster_name: local", f"cluster_name: {cluster}\ncluster_max_parallel_deploys: 1"))
        clusters[f"cluster_{cluster}"] = {"hosts": {h: None for h, (c, _) in HUBS.items() if c == cluster}}
    hosts = {"all": {"children": {"provider_local": {"children": clusters}}}}
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (inventory / "host_vars").mkdir()
    for host, (_, stage) in HUBS.items():
        (inventory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(hub_vars(host, stage)))
    return inventory


@pytest.fixture(scope="module")
def rollout(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, list]]]:
    if not (LOCAL / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    root = tmp_path_factory.mktemp("waves")
    report = root / "rollout.json"
    try:
        run = run_playbook("-i", str(two_cluster_inventory(root)), PLAYBOOK,
                           env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1800)
        assert run.rc != 0, run.output[-4000:]
        rows: dict[str, list] = {}
        for row in json.loads(report.read_text())["releases"]:
            rows.setdefault(row["hub"], []).append(row)
        yield run.output, rows
    finally:
        for host in HUBS:
            subprocess.run(["kubectl", "delete", "namespace", host, "--ignore-not-found", "--wait=false"],
                           env=project_env(KUBECONFIG=str(kubeconfig)), capture_output=True, check=False)


def test_failed_canary_stops_its_clusters_production_hub(rollout: tuple[str, dict[str, list]]) -> None:
    output, rows = rollout
    assert any(r["status"] == "failed" for r in rows["waves-a-canary"]), rows
    assert [r["status"] for r in rows["waves-a-prod"]] == ["not deployed: a canary of cluster a failed"], rows
    # Every row names the hub's cluster, also for a hub that deployed nothing.
    assert {h: {r["cluster"] for r in rs} for h, rs in rows.items()} == {h: {c} for h, (c, _) in HUBS.items()}, rows
    assert "TASK [imagebuilding.hubs.binderhub_service : Deploy the binderhub-service release]" in output
    # Nothing runs for waves-a-prod after its rollout ended (the last wave).
    assert "[waves-a-prod]" not in output.rsplit("TASK [End the hub's rollout]", 1)[1].split("PLAY RECAP", 1)[0]


def test_other_cluster_goes_on(rollout: tuple[str, dict[str, list]]) -> None:
    _, rows = rollout
    for host in ("waves-b-canary", "waves-b-prod"):
        assert {r["release"] for r in rows[host]} == {host, f"{host}-binderhub"}, rows[host]
        assert all(r["status"] == "changed" for r in rows[host]), rows[host]
