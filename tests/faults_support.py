"""A throwaway cluster for the fault tests, and an inventory of hubs that deploy to it.

The faults (API server stopped, registry down, killed runs) are made on a second embedded
cluster on other ports with its own registry, so the cluster the other tests use is never
disturbed. Its inventory copies the demo inventory's group settings and the staging hub's
definition for every hub, pointed at the throwaway cluster and registry.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from support import ROOT, SHARED_CHARTS, VENV_BIN, PlaybookRun, project_env, run_playbook

LOCAL_INVENTORY = ROOT / "inventories" / "local"
PORTS = {
    "local_cluster_apiserver_port": 26443,
    "local_cluster_etcd_port": 32379,
    "local_cluster_controller_manager_port": 30257,
    "local_cluster_scheduler_port": 30259,
    "local_cluster_kwok_port": 30247,
    "local_cluster_registry_port": 25443,
}
POOL = "hub.jupyter.org/node-purpose"
CAPACITY = {"cpu": "64", "memory": "512Gi", "pods": "500"}


@dataclass
class FaultCluster:
    root: Path

    @property
    def kubeconfig(self) -> Path:
        return self.root / "cluster" / "kubeconfig"

    @property
    def run_dir(self) -> Path:
        return self.root / "cluster" / "run"

    def variables(self, state: str) -> dict[str, Any]:
        return {**PORTS, "local_cluster_state": state, "local_cluster_dir": str(self.root / "cluster"),
                "local_cluster_registry_dir": str(self.root / "registry"),
                "local_cluster_kubeconfig": str(self.kubeconfig),
                "local_cluster_node_pools": [
                    {"name": "core", "count": 1, "labels": {POOL: "core"}, "capacity": CAPACITY},
                    {"name": "user", "count": 1, "labels": {POOL: "user"}, "capacity": CAPACITY}]}

    def lifecycle(self, state: str) -> PlaybookRun:
        return run_playbook("playbooks/local_cluster.yml", "-e", json.dumps(self.variables(state)))

    def stop_component(self, name: str) -> None:
        """Kill one process of the cluster (kube-apiserver, registry, ...), as a crash would, and wait until it is gone.

        (SIGTERM would let kube-apiserver drain for up to a minute while still holding its port.)"""
        pid_file = self.run_dir / f"{name}.pid"
        if not pid_file.exists():  # the registry keeps its pid file in its own directory
            pid_file = self.root / "registry" / f"{name}.pid"
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.2)

    def env(self) -> dict[str, str]:
        return project_env(KUBECONFIG=str(self.kubeconfig), K8S_AUTH_KUBECONFIG=str(self.kubeconfig))

    def helm_releases(self, namespace: str) -> dict[str, dict[str, Any]]:
        """release -> helm's list entry (status, revision), every status included."""
        proc = subprocess.run(["helm", "list", "-n", namespace, "-a", "-o", "json"], env=self.env(),
                              capture_output=True, text=True, check=True)
        return {r["name"]: r for r in json.loads(proc.stdout)}

    def release_statuses(self, namespaces: list[str]) -> dict[str, str]:
        """<namespace>/<release> -> status of its latest revision."""
        return {f"{ns}/{name}": entry["status"] for ns in namespaces for name, entry in self.helm_releases(ns).items()}

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", *args], env=self.env(), capture_output=True, text=True, check=False)


def _hub_vars(stage: str, name: str) -> dict[str, Any]:
    hub = yaml.safe_load((LOCAL_INVENTORY / "host_vars" / "staging.yml").read_text())
    hub.update(hub_stage=stage, hub_domain=f"{name}.hubs.localhost")
    return hub


def write_inventory(directory: Path, cluster: FaultCluster, hubs: dict[str, str],
                    extra_hub_vars: dict[str, dict[str, Any]] | None = None) -> Path:
    """An inventory of ``hubs`` (name -> stage) on the fault cluster, one hub at a time per wave."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(LOCAL_INVENTORY / "group_vars" / "all", directory / "group_vars" / "all")
    shutil.copytree(LOCAL_INVENTORY / "values", directory / "values")
    shutil.copy(LOCAL_INVENTORY / ".sops.yaml", directory / ".sops.yaml")
    shutil.copy(LOCAL_INVENTORY / "group_vars" / "provider_local.yml", directory / "group_vars" / "provider_local.yml")
    cluster_vars = yaml.safe_load((LOCAL_INVENTORY / "group_vars" / "cluster_local" / "cluster.yml").read_text())
    cluster_vars.update(cluster_name="fault", cluster_kubeconfig=str(cluster.kubeconfig), cluster_max_parallel_deploys=1,
                        hub_charts_dir=str(SHARED_CHARTS),
                        jupyterhub_helm_timeout="60s", binderhub_service_helm_timeout="60s", hub_health_timeout="60s")
    registry = f"127.0.0.1:{PORTS['local_cluster_registry_port']}"
    cluster_vars.update(registry_type="generic", registry_host=registry, registry_url=f"https://{registry}",
                        registry_ca_file=str(cluster.root / "cluster" / "pki" / "ca.crt"),
                        registry_htpasswd_file=str(cluster.root / "registry" / "htpasswd"),
                        registry_namespace="{{ cluster_name }}-{{ inventory_hostname }}")
    _dump(directory / "group_vars" / "cluster_fault.yml", cluster_vars)
    for name, stage in hubs.items():
        _dump(directory / "host_vars" / f"{name}.yml", {**_hub_vars(stage, name), **(extra_hub_vars or {}).get(name, {})})
    _dump(directory / "hosts.yml", {"all": {"children": {"provider_local": {"children": {
        "cluster_fault": {"hosts": {name: None for name in hubs}}}}}}})
    return directory


def _dump(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False))


def helm_wrapper(directory: Path, cluster: FaultCluster, on_upgrade: str) -> str:
    """A ``helm`` in ``directory`` that runs the shell line ``on_upgrade`` in front of every
    ``helm upgrade`` (with the upgrade's arguments in ``$@``) and is the cluster's helm otherwise.
    Returns a PATH that finds it first."""
    directory.mkdir(parents=True, exist_ok=True)
    real = shutil.which("helm", path=cluster.env()["PATH"])
    assert real, "no helm on the cluster's PATH"
    script = directory / "helm"
    script.write_text(f'#!/bin/sh\nif [ "$1" = upgrade ]; then\n{on_upgrade}\nfi\nexec {real} "$@"\n')
    script.chmod(0o755)
    return f"{directory}:{cluster.env()['PATH']}"


class Rollout:
    """playbooks/hub.yml running in the background, in its own process group."""

    def __init__(self, inventory: Path, cluster: FaultCluster, log: Path, *args: str, **env_vars: str) -> None:
        self.log = log
        env = {**cluster.env(), **env_vars}
        env["HUB_ROLLOUT_REPORT"] = str(log.with_suffix(".json"))
        self._out = log.open("w")
        self.proc = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "playbooks/hub.yml", *args],
                                     cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 900) -> PlaybookRun:
        rc = self.proc.wait(timeout=timeout)
        self._out.close()
        return PlaybookRun(rc, self.log.read_text())

    def kill(self) -> None:
        """SIGKILL the whole run - ansible-playbook, its workers (which start sessions of their own)
        and the helm they run - as a crashed controller would leave it."""
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def report(self) -> list[dict[str, Any]]:
        path = self.log.with_suffix(".json")
        return json.loads(path.read_text())["releases"] if path.exists() else []


def descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc's parent pids."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def run_hubs(inventory: Path, cluster: FaultCluster, *args: str, **env: str) -> PlaybookRun:
    return run_playbook("-i", str(inventory), "playbooks/hub.yml", *args, env={**cluster.env(), **env})
