"""A hub's namespace records its owner (hub and cluster): another hub sent into it - selected
alone with -l, where the duplicate check of the selected hubs cannot see the first - is refused
before anything changes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import LOCAL_INVENTORY, local_hub_vars, local_inventory, project_env, release, remove_namespaces, run_playbook

OWNER, INTRUDER, NAMESPACE = "owner-hub", "intruder-hub", "owned-namespace"


def namespace_state() -> tuple[dict[str, str], dict[str, str]]:
    """The namespace's annotations and its releases' revisions."""
    env = project_env()
    namespace = json.loads(subprocess.run(["kubectl", "get", "namespace", NAMESPACE, "-o", "json"], env=env,
                                          capture_output=True, text=True, check=True).stdout)
    releases = json.loads(subprocess.run(["helm", "list", "-n", NAMESPACE, "-a", "-o", "json"], env=env,
                                         capture_output=True, text=True, check=True).stdout)
    return namespace["metadata"].get("annotations") or {}, {r["name"]: r["revision"] for r in releases}


@pytest.fixture(scope="module")
def inventory(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    hubs = {host: local_hub_vars(host, hub_namespace=NAMESPACE, jupyterhub_storage={"type": "none"})
            for host in (OWNER, INTRUDER)}
    directory = local_inventory(tmp_path_factory.mktemp("owner") / "inventory", hubs)
    env = project_env(KUBECONFIG=str(kubeconfig))
    try:
        first = run_playbook("-i", str(directory), "playbooks/hub.yml", "-l", OWNER, env=env, timeout=1500)
        assert first.rc == 0, first.output[-6000:]
        yield directory
    finally:
        remove_namespaces([NAMESPACE], env)


def test_the_namespace_records_its_hub_and_cluster(inventory: Path) -> None:
    annotations, releases = namespace_state()
    assert annotations["imagebuilding-hubs/hub"] == OWNER
    assert annotations["imagebuilding-hubs/cluster"] == "local"
    assert set(releases) == {release(OWNER, "jupyterhub"), release(OWNER, "binderhub-service")}


@pytest.mark.parametrize("mode", [(), ("--check", "--diff")], ids=["deploy", "check"])
def test_another_hub_selected_alone_is_refused(inventory: Path, mode: tuple[str, ...]) -> None:
    before = namespace_state()
    run = run_playbook("-i", str(inventory), "playbooks/hub.yml", "-l", INTRUDER, *mode, timeout=1500)
    assert run.rc != 0, run.output[-6000:]
    assert f"hub {INTRUDER}: namespace {NAMESPACE} belongs to hub '{OWNER}' of cluster 'local'" in run.output, \
        run.output[-6000:]
    assert namespace_state() == before
