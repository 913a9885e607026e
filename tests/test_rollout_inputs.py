"""Every input of a hub's rollout is seen by the hub-level fast path: after one input changes,
the next run rolls the hub out (it is not skipped as unchanged), and the change reaches the
cluster where it is a value. One throwaway hub on the embedded cluster; each case changes one
input of the state the previous case recorded.

Inputs: the secret values file (edited with sops, as `scripts/hub-secrets edit` does), a values
file, the registry's CA file, the hub's line of the registry's htpasswd file, a file of the
chart directory, a variable. A corrupt secret values file fails the hub with sops' reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import (
    LOCAL_INVENTORY,
    ROOT,
    SHARED_CHARTS,
    PlaybookRun,
    local_hub_vars,
    local_inventory,
    project_env,
    release,
    remove_namespaces,
    run_playbook,
)

HUB = "inputs-hub"
LOCK_TASK = "TASK [Take the hub's rollout lock]"


class Hub:
    """The throwaway hub: its inventory, files and runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.charts = root / "charts"
        shutil.copytree(SHARED_CHARTS / "jupyterhub", self.charts / "jupyterhub")
        shutil.copytree(SHARED_CHARTS / "binderhub-service", self.charts / "binderhub-service")
        self.ca = root / "ca.crt"
        shutil.copy(ROOT / ".local/cluster/pki/ca.crt", self.ca)
        variables = local_hub_vars(HUB, jupyterhub_storage={"type": "none"}, hub_charts_dir=str(self.charts),
                                   registry_ca_file=str(self.ca),
                                   hub_values_files=["values/local-cluster.values.yaml", f"values/{HUB}.values.yaml"])
        self.inventory = local_inventory(root / "inventory", {HUB: variables},
                                         {f"{HUB}.values.yaml": {"jupyterhub": {"cull": {"timeout": 3600}}}})
        self.secrets = self.inventory / "secrets" / f"enc-{HUB}.secret.values.yaml"
        self.values = self.inventory / "values" / f"{HUB}.values.yaml"
        self.host_vars = self.inventory / "host_vars" / f"{HUB}.yml"

    def run(self) -> PlaybookRun:
        return run_playbook("-i", str(self.inventory), "playbooks/hub.yml", timeout=1500)

    def sops(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sops", *args], env=project_env(), capture_output=True, text=True, check=False,
                              cwd=self.inventory)

    def hub_values(self) -> dict[str, Any]:
        out = subprocess.run(["helm", "get", "values", release(HUB, "jupyterhub"), "-n", HUB, "-o", "json"],
                             env=project_env(), capture_output=True, text=True, check=True)
        return json.loads(out.stdout)


@pytest.fixture(scope="module")
def hub(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    deployed = Hub(tmp_path_factory.mktemp("inputs"))
    env = project_env(KUBECONFIG=str(kubeconfig))
    try:
        first = deployed.run()
        assert first.rc == 0, first.output[-6000:]
        again = deployed.run()
        assert again.rc == 0 and LOCK_TASK not in again.output, again.output[-6000:]  # skipped: nothing changed
        yield deployed
    finally:
        remove_namespaces([HUB], env)


def edit_secret(hub: Hub) -> None:
    done = hub.sops("set", str(hub.secrets), '["jupyterhub"]["hub"]["extraEnv"]', '{"ROTATED_BY_HAND": "second"}')
    assert done.returncode == 0, done.stderr


def edit_values(hub: Hub) -> None:
    hub.values.write_text(yaml.safe_dump({"jupyterhub": {"cull": {"timeout": 4000}}}))


def edit_ca(hub: Hub) -> None:
    hub.ca.write_text(hub.ca.read_text() + "# the same CA, a new line\n")


def drop_htpasswd_line(hub: Hub) -> None:
    htpasswd = ROOT / ".local/registry/htpasswd"
    lines = htpasswd.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(f"{HUB}:")]
    assert len(kept) == len(lines) - 1, "the hub's htpasswd line is missing"
    htpasswd.write_text("".join(kept))


def edit_chart(hub: Hub) -> None:
    notes = hub.charts / "jupyterhub" / "templates" / "NOTES.txt"
    notes.write_text(notes.read_text() + "\nEdited in place.\n")


def edit_variable(hub: Hub) -> None:
    variables = yaml.safe_load(hub.host_vars.read_text())
    variables["jupyterhub_admin_users"] = ["admin", "another-admin"]
    hub.host_vars.write_text(yaml.safe_dump(variables))


CASES: list[tuple[str, Callable[[Hub], None], Callable[[Hub], bool]]] = [
    ("secret values file", edit_secret,
     lambda hub: hub.hub_values()["hub"]["extraEnv"].get("ROTATED_BY_HAND") == "second"),
    ("values file", edit_values, lambda hub: hub.hub_values()["cull"]["timeout"] == 4000),
    ("registry CA file", edit_ca, lambda hub: True),
    ("htpasswd entry", drop_htpasswd_line,
     lambda hub: any(line.startswith(f"{HUB}:") for line in (ROOT / ".local/registry/htpasswd").read_text().splitlines())),
    ("chart directory", edit_chart, lambda hub: True),
    ("variable", edit_variable, lambda hub: "another-admin" in hub.hub_values()["hub"]["config"]["Authenticator"]["admin_users"]),
]


@pytest.mark.parametrize(("change", "reached"), [(c, r) for _, c, r in CASES], ids=[name for name, _, _ in CASES])
def test_a_changed_input_rolls_the_hub_out(hub: Hub, change: Callable[[Hub], None], reached: Callable[[Hub], bool]) -> None:
    change(hub)
    run = hub.run()
    assert run.rc == 0, run.output[-6000:]
    assert LOCK_TASK in run.output, "the hub was skipped as unchanged:\n" + run.output[-4000:]
    assert reached(hub), "the change did not reach the cluster"
    again = hub.run()
    assert again.rc == 0 and LOCK_TASK not in again.output, again.output[-4000:]  # recorded: skipped again


def test_a_corrupt_secret_file_fails_the_hub_with_sops_reason(hub: Hub) -> None:
    original = hub.secrets.read_text()
    document = yaml.safe_load(original)
    document["sops"]["mac"] = document["sops"]["mac"].replace("ENC[AES256_GCM,data:", "ENC[AES256_GCM,data:AAAA", 1)
    hub.secrets.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        run = hub.run()
    finally:
        hub.secrets.write_text(original)
    assert run.rc != 0, run.output[-6000:]
    assert LOCK_TASK not in run.output or "failed=1" in run.output
    assert f"hub {HUB}" in run.output and str(hub.secrets.name) in run.output, run.output[-6000:]
    assert "could not decrypt" in run.output or "authentication failed" in run.output or "MAC" in run.output, \
        run.output[-6000:]
