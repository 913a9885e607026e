"""The roles are reusable from a playbook of one's own: each takes what it uses as inputs.

A small playbook of a user's - not playbooks/hub.yml - runs the registry and secrets roles,
then a task of its own (it creates the hub's namespace, as a user would with kubernetes.core,
and writes down the registry view it hands on), then the binderhub_service and jupyterhub
roles with their inputs given explicitly. The hub deploys on the embedded cluster with the
genuine charts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support import LOCAL_INVENTORY, local_hub_vars, local_inventory, project_env, release, remove_namespaces, run_playbook

HUB = "reuse-roles"

PLAYBOOK = """\
- name: Deploy one hub with the collection's roles, a task of my own in between
  hosts: all
  gather_facts: false
  tasks:
    - name: Set up the hub's registry
      ansible.builtin.import_role:
        name: imagebuilding.hubs.registry

    - name: Write the hub's secret values
      ansible.builtin.import_role:
        name: imagebuilding.hubs.secrets
      vars:
        secrets_registry: "{{ registry_definition }}"

    - name: My own task - the namespace, created the way I create namespaces
      kubernetes.core.k8s:
        kubeconfig: "{{ cluster_kubeconfig }}"
        state: present
        definition:
          apiVersion: v1
          kind: Namespace
          metadata:
            name: "{{ inventory_hostname }}"
            labels: {example.org/created-by: my-playbook}

    - name: My own task - note what the hub roles get about the registry
      ansible.builtin.copy:
        content: "{{ registry_definition | imagebuilding.hubs.registry_view(inventory_hostname) | to_json }}"
        dest: "{{ marker }}"
        mode: "0644"
      delegate_to: localhost

    - name: Deploy the hub's BinderHub
      ansible.builtin.import_role:
        name: imagebuilding.hubs.binderhub_service
      vars:
        binderhub_service_registry: "{{ registry_definition | imagebuilding.hubs.registry_view(inventory_hostname) }}"
        binderhub_service_secrets_file: "{{ secrets_values_file }}"

    - name: Deploy the hub's JupyterHub
      ansible.builtin.import_role:
        name: imagebuilding.hubs.jupyterhub
      vars:
        jupyterhub_registry: "{{ registry_definition | imagebuilding.hubs.registry_view(inventory_hostname) }}"
        jupyterhub_secrets_file: "{{ secrets_values_file }}"
"""


@pytest.fixture(scope="module")
def deployed(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    root = tmp_path_factory.mktemp("reuse")
    shutil.copy(LOCAL_INVENTORY / ".sops.yaml", root / ".sops.yaml")
    hub = local_hub_vars(HUB, jupyterhub_storage={"type": "none"}, secrets_dir=str(root / "secrets"))
    inventory = local_inventory(root / "inventory", {HUB: hub})
    playbook = root / "my-playbook.yml"
    playbook.write_text(PLAYBOOK)
    marker = root / "registry-view.json"
    env = project_env(KUBECONFIG=str(kubeconfig))
    try:
        run = run_playbook("-i", str(inventory / "hosts.yml"), str(playbook), "-e", f"marker={marker}", env=env,
                           timeout=1500)
        assert run.rc == 0, run.output[-6000:]
        yield run.output, marker
    finally:
        remove_namespaces([HUB], env)


def test_the_hub_deploys_from_a_playbook_of_ones_own(deployed: tuple[str, Path]) -> None:
    out = subprocess.run(["helm", "list", "-n", HUB, "-o", "json"], env=project_env(), capture_output=True, text=True,
                         check=True)
    assert {(r["name"], r["status"]) for r in json.loads(out.stdout)} == {
        (release(HUB, "jupyterhub"), "deployed"), (release(HUB, "binderhub-service"), "deployed")}
    labels = subprocess.run(["kubectl", "get", "namespace", HUB, "-o", "jsonpath={.metadata.labels}"],
                            env=project_env(), capture_output=True, text=True, check=True).stdout
    assert json.loads(labels).get("example.org/created-by") == "my-playbook"


def test_the_users_task_ran_between_the_roles(deployed: tuple[str, Path]) -> None:
    output, _ = deployed
    order = [output.index(f"TASK [{name}") for name in (
        "imagebuilding.hubs.secrets : Write the hub's secret values file with sops",
        "My own task - the namespace, created the way I create namespaces",
        "imagebuilding.hubs.binderhub_service : Deploy the binderhub-service release",
        "imagebuilding.hubs.jupyterhub : Deploy the jupyterhub and dask-gateway releases")]
    assert order == sorted(order), order


def test_the_hub_roles_get_the_registry_without_its_password(deployed: tuple[str, Path]) -> None:
    _, marker = deployed
    view = yaml.safe_load(marker.read_text())
    # The registry's CA (a public certificate, for a registry with its own CA) but never its password.
    assert set(view) == {"type", "host", "url", "image_prefix", "username", "pull_secret_required", "ca_cert"}
    assert "password" not in yaml.safe_dump(view) and view["ca_cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert view["image_prefix"].startswith(view["host"] + "/")
