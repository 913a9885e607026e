"""Releases of the hub's namespace that are not the toolkit's, on the embedded cluster: a
release named like the hub's but of another chart (an incumbent's umbrella release) is never
upgraded in place without the hub's opt-in (test_takeover_umbrella.py takes one over), and a
release of a chart the toolkit deploys that the hub no longer has is named in a warning, not
silently left running. The other chart is the genuine dask-gateway."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import SHARED_CHARTS, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

HUB = "takeover-hub"


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["helm", *args, "-n", HUB], env=project_env(), capture_output=True, text=True, check=False,
                          timeout=300)


def revisions(release: str) -> str:
    return helm("history", release, "-o", "json").stdout


@pytest.fixture(scope="module")
def runs(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("takeover")
    inventory = local_inventory(root / "inventory", {HUB: local_hub_vars(
        HUB, hub_values_files=["values/local-cluster.values.yaml"], jupyterhub_storage={"type": "none"})})
    found: dict[str, Any] = {}
    try:
        installed = helm("install", HUB, str(SHARED_CHARTS / "dask-gateway"), "--create-namespace")
        assert installed.returncode == 0, installed.stderr
        before = revisions(HUB)
        found["umbrella"] = run_playbook("-i", str(inventory), "playbooks/hub.yml", timeout=900)
        found["umbrella untouched"] = revisions(HUB) == before
        assert helm("uninstall", HUB, "--wait").returncode == 0
        assert helm("install", f"{HUB}-old", str(SHARED_CHARTS / "dask-gateway")).returncode == 0
        found["left behind"] = run_playbook("-i", str(inventory), "playbooks/hub.yml", timeout=900)
        yield found
    finally:
        remove_namespaces([HUB], project_env(KUBECONFIG=str(kubeconfig)))


def test_a_release_of_another_chart_under_the_hubs_name_is_not_upgraded(runs: dict[str, Any]) -> None:
    run = runs["umbrella"]
    assert run.rc != 0
    # refused by the validate play, before anything of the hub changes, saying how to take it over
    assert f"release '{HUB}' in namespace {HUB} is chart dask-gateway 2026.3.0, not jupyterhub" in run.output
    assert f"-l {HUB} -e hub_takeover_release=true --check --diff" in run.output
    assert "TASK [Take the hub's rollout lock]" not in run.output
    assert runs["umbrella untouched"]


def test_a_release_the_hub_no_longer_has_is_named(runs: dict[str, Any]) -> None:
    run = runs["left behind"]
    assert run.rc == 0, run.output[-3000:]
    assert f"release {HUB}-old (dask-gateway) is deployed in {HUB} but the hub no longer has it" in run.output
    assert f"helm uninstall {HUB}-old -n {HUB}" in run.output
