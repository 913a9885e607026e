"""A hub deployed under the toolkit's old release names (jupyterhub, binderhub-service) and run
again with the names that now follow the hub: refused before helm runs, naming the deployed
release and the variable; no second release of a chart in the namespace, nothing uninstalled.
Keeping the old name by setting it is accepted and changes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import LOCAL_INVENTORY, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

HUB = "legacy-names"
OLD_NAMES = {"jupyterhub_release_name": "jupyterhub", "binderhub_service_release_name": "binderhub-service"}


def inventory(root: Path, hub_overrides: dict[str, Any]) -> Path:
    directory = root / "inventory"
    if directory.exists():
        shutil.rmtree(directory)
    # secrets_dir outside the inventory: the hub's secret values file carries over between runs
    hub = local_hub_vars(HUB, jupyterhub_storage={"type": "none"}, secrets_dir=str(root / "secrets"), **hub_overrides)
    return local_inventory(directory, {HUB: hub})


def releases() -> dict[str, tuple[str, str]]:
    out = subprocess.run(["helm", "list", "-n", HUB, "-a", "-o", "json"], env=project_env(), capture_output=True,
                         text=True, check=True)
    return {entry["name"]: (entry["revision"], entry["status"]) for entry in json.loads(out.stdout)}


@pytest.fixture(scope="module")
def legacy(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The hub deployed under the old names."""
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    root = tmp_path_factory.mktemp("legacy")
    shutil.copy(LOCAL_INVENTORY / ".sops.yaml", root / ".sops.yaml")  # the rules of secrets_dir (root/secrets)
    env = project_env(KUBECONFIG=str(kubeconfig))
    try:
        first = run_playbook("-i", str(inventory(root, OLD_NAMES)), "playbooks/hub.yml", env=env, timeout=1500)
        assert first.rc == 0, first.output[-6000:]
        yield root
    finally:
        remove_namespaces([HUB], env)


def test_new_default_names_are_refused_naming_the_deployed_release(legacy: Path) -> None:
    before = releases()
    assert set(before) == {"jupyterhub", "binderhub-service"}
    run = run_playbook("-i", str(inventory(legacy, {})), "playbooks/hub.yml", timeout=1500)
    assert run.rc != 0, run.output[-6000:]
    assert (f"namespace {HUB} already has release 'binderhub-service' of chart binderhub-service" in run.output
            and f"binderhub_service_release_name is '{HUB}-binderhub'" in run.output
            and "Nothing was changed" in run.output), run.output[-6000:]
    assert releases() == before


def test_check_mode_refuses_them_too(legacy: Path) -> None:
    before = releases()
    run = run_playbook("-i", str(inventory(legacy, {})), "playbooks/hub.yml", "--check", "--diff", timeout=1500)
    assert run.rc != 0 and "already has release 'binderhub-service'" in run.output, run.output[-6000:]
    assert releases() == before


def test_keeping_the_old_names_changes_nothing(legacy: Path) -> None:
    before = releases()
    run = run_playbook("-i", str(inventory(legacy, OLD_NAMES)), "playbooks/hub.yml", timeout=1500)
    assert run.rc == 0, run.output[-6000:]
    assert run.changed() == 0, run.output[-6000:]
    assert releases() == before
