"""A hub that builds no images, deployed on the embedded cluster: no registry, no BinderHub
release, no build wiring (the hub's binder service, its scope and token); a values file's
binderhub-service section is named as not deployed; a second run takes the no-op fast path and
--check --diff changes nothing."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import ROOT, PlaybookRun, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

HUB = f"nobuild-{secrets.token_hex(3)}"  # a throwaway namespace of its own
PROFILES = [{"display_name": "Course", "slug": "course", "default": True,
             "kubespawner_override": {"image": "quay.io/jupyter/minimal-notebook:2024-03-18"}}]
# A values file written for an imagebuilding hub: its binderhub-service section has no release here.
SHARED = {"jupyterhub": {"cull": {"timeout": 1800}}, "binderhub-service": {"dockerApi": {"storage": {}}}}


def deploy(inventory: Path, report: Path, *extra: str) -> PlaybookRun:
    return run_playbook("-i", str(inventory), "playbooks/hub.yml", "-l", HUB, *extra,
                        env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=1500)


@pytest.fixture(scope="module")
def first_run(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, PlaybookRun]]:
    if not (ROOT / "inventories" / "local" / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    root = tmp_path_factory.mktemp("nobuild")
    hub = local_hub_vars(HUB, jupyterhub_profiles=PROFILES, jupyterhub_storage={"type": "none"},
                         hub_values_files=["values/local-cluster.values.yaml", "values/shared.values.yaml"])
    inventory = local_inventory(root / "inventory", {HUB: hub}, {"shared.values.yaml": SHARED})
    report = root / "rollout.json"
    try:
        yield inventory, report, deploy(inventory, report)
    finally:
        remove_namespaces([HUB], project_env(KUBECONFIG=str(kubeconfig)))


def _helm(*args: str) -> Any:  # noqa: ANN401 - helm's JSON
    out = subprocess.run(["helm", *args, "-o", "json"], env=project_env(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_no_registry_no_binderhub_no_build_wiring(first_run: tuple[Path, Path, PlaybookRun]) -> None:
    inventory, report, run = first_run
    assert run.rc == 0, run.output[-6000:]
    assert {r["name"] for r in _helm("list", "-n", HUB)} == {HUB}
    values = _helm("get", "values", HUB, "-n", HUB)
    assert "binder" not in values["hub"]["services"] and "hub-smoke" in values["hub"]["services"]
    assert values["hub"]["loadRoles"]["user"]["scopes"] == ["self"]
    assert "imagePullSecret" not in values
    assert values["cull"]["timeout"] == 1800
    # the registry's tasks were skipped; the secret values file holds no binder token
    assert "skipping: [" + HUB + "]" in run.output.split("TASK [imagebuilding.hubs.registry", 1)[1][:2000]
    secret_file = inventory / "secrets" / f"enc-{HUB}.secret.values.yaml"
    plain = yaml.safe_load(subprocess.run(["sops", "decrypt", str(secret_file)], env=project_env(), capture_output=True,
                                          text=True, check=True).stdout)
    assert sorted(plain["jupyterhub"]["hub"]["services"]) == ["hub-smoke"] and not plain.get("binderhub-service")
    # the report has no BinderHub row; the unused section is named, not dropped without a word
    rows = [row for row in json.loads(report.read_text())["releases"] if row["hub"] == HUB]
    assert [row["chart"] for row in rows] == ["jupyterhub"], rows
    assert "not deployed, the hub has no such release" in run.output and "shared.values.yaml: binderhub-service" in run.output


def test_second_run_takes_the_fast_path_and_check_diff_changes_nothing(first_run: tuple[Path, Path, PlaybookRun]) -> None:
    inventory, report, run = first_run
    assert run.rc == 0, run.output[-6000:]
    revisions = [r["revision"] for r in _helm("list", "-n", HUB)]
    again = deploy(inventory, report)
    assert again.rc == 0 and again.changed() == 0, again.output[-4000:]
    assert "TASK [Take the hub's rollout lock]" not in again.output, again.output[-4000:]
    checked = deploy(inventory, report, "--check", "--diff")
    assert checked.rc == 0 and checked.changed() == 0, checked.output[-4000:]
    assert [r["revision"] for r in _helm("list", "-n", HUB)] == revisions
