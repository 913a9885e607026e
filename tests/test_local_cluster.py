"""The embedded local cluster: real control plane, fake nodes, a real scheduler."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from support import ROOT, project_env, run_playbook

POOL_LABEL = "hub.jupyter.org/node-purpose"


@pytest.fixture(scope="module")
def api(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture
def namespace(api: client.ApiClient) -> Iterator[str]:
    name = f"ibh-test-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def pinned_kubernetes_version() -> str:
    gomod = (ROOT / "tools" / "kubernetes" / "go.mod").read_text()
    match = re.search(r"^require k8s\.io/kubernetes (v\S+)$", gomod, re.MULTILINE)
    assert match, "tools/kubernetes/go.mod does not pin k8s.io/kubernetes"
    return match.group(1)


def test_kubectl_reports_the_pinned_version(kubeconfig: Path) -> None:
    out = subprocess.run(
        ["kubectl", "version", "-o", "json"], env=project_env(KUBECONFIG=str(kubeconfig)),
        capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(out)["serverVersion"]["gitVersion"] == pinned_kubernetes_version()


def test_fake_nodes_are_ready_in_both_pools(api: client.ApiClient) -> None:
    nodes = client.CoreV1Api(api).list_node(label_selector="type=kwok").items
    pools: dict[str, list[str]] = {}
    for node in nodes:
        ready = next(c.status for c in node.status.conditions if c.type == "Ready")
        assert ready == "True", f"node {node.metadata.name} is not Ready"
        pools.setdefault(node.metadata.labels[POOL_LABEL], []).append(node.metadata.name)
        assert node.metadata.labels.get("node.kubernetes.io/instance-type"), node.metadata.name
    assert {"core", "user"} <= set(pools), f"pools found: {pools}"


def deployment(name: str, selector: dict[str, str]) -> client.V1Deployment:
    labels = {"app": name}
    pod = client.V1PodSpec(
        node_selector=selector,
        containers=[client.V1Container(name="main", image="registry.invalid/placeholder:1")],
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=pod),
        ),
    )


def wait_for(predicate, timeout: float = 90, interval: float = 1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def test_scheduler_honours_node_selectors(api: client.ApiClient, namespace: str) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(namespace, deployment("on-user-pool", {POOL_LABEL: "user"}))
    apps.create_namespaced_deployment(namespace, deployment("on-no-pool", {POOL_LABEL: "no-such-pool"}))

    def available() -> bool:
        status = apps.read_namespaced_deployment_status("on-user-pool", namespace).status
        return (status.available_replicas or 0) == 1

    assert wait_for(available), "a Deployment whose nodeSelector matches the user pool did not become Available"
    placed = core.list_namespaced_pod(namespace, label_selector="app=on-user-pool").items[0]
    node = core.read_node(placed.spec.node_name)
    assert node.metadata.labels[POOL_LABEL] == "user"

    def unschedulable() -> bool:
        pods = core.list_namespaced_pod(namespace, label_selector="app=on-no-pool").items
        return bool(pods) and any(
            c.type == "PodScheduled" and c.reason == "Unschedulable" for c in pods[0].status.conditions or []
        )

    assert wait_for(unschedulable, timeout=60), "a pod whose nodeSelector matches no node was not reported Unschedulable"
    pending = core.list_namespaced_pod(namespace, label_selector="app=on-no-pool").items[0]
    assert pending.status.phase == "Pending"
    assert not pending.spec.node_name
    assert apps.read_namespaced_deployment_status("on-no-pool", namespace).status.available_replicas in (None, 0)


def test_rbac_is_enforced(api: client.ApiClient, kubeconfig: Path) -> None:
    """The kwok controller's identity may update nodes but not read secrets."""
    kwok_config = kubeconfig.parent / "kwok.kubeconfig"
    kwok_api = config.new_client_from_config(config_file=str(kwok_config))
    client.CoreV1Api(kwok_api).list_node()
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(kwok_api).list_secret_for_all_namespaces()
    assert denied.value.status == 403


# A second, throwaway cluster on other ports checks the lifecycle without disturbing
# the one the other tests use.
SECOND = {
    "local_cluster_apiserver_port": 16443,
    "local_cluster_etcd_port": 22379,
    "local_cluster_controller_manager_port": 20257,
    "local_cluster_scheduler_port": 20259,
    "local_cluster_kwok_port": 20247,
    "local_cluster_registry_enabled": False,
    "local_cluster_node_pools": [
        {"name": "core", "count": 1, "labels": {POOL_LABEL: "core"}, "capacity": {"cpu": "4", "memory": "8Gi", "pods": "20"}},
    ],
}


def second_cluster(state: str, tmp: Path) -> tuple[int, str, int]:
    extra = {**SECOND, "local_cluster_state": state, "local_cluster_dir": str(tmp / "cluster"),
             "local_cluster_registry_dir": str(tmp / "registry"),
             "local_cluster_kubeconfig": str(tmp / "cluster" / "admin.kubeconfig")}
    run = run_playbook("playbooks/local_cluster.yml", "-e", json.dumps(extra))
    return run.rc, run.output, run.changed()


def processes_under(path: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmd and "ansible" not in cmd:
            pids.append(int(proc.name))
    return pids


@pytest.mark.skipif(os.environ.get("IBH_SKIP_SECOND_CLUSTER") == "1", reason="IBH_SKIP_SECOND_CLUSTER=1")
def test_lifecycle_start_twice_crash_report_and_stop(tmp_path: Path, tool_bin: Path) -> None:
    try:
        rc, out, _ = second_cluster("started", tmp_path)
        assert rc == 0, out
        rc, out, changed = second_cluster("started", tmp_path)
        assert rc == 0, out
        assert changed == 0, f"starting a running cluster changed something:\n{out}"

        scheduler_pid = int((tmp_path / "cluster" / "run" / "kube-scheduler.pid").read_text().split()[0])
        os.kill(scheduler_pid, signal.SIGKILL)
        wait_for(lambda: not Path(f"/proc/{scheduler_pid}").exists() or
                 Path(f"/proc/{scheduler_pid}/stat").read_text().split()[2] == "Z", timeout=10)
        rc, out, _ = second_cluster("status", tmp_path)
        assert rc != 0
        assert "crashed: kube-scheduler" in out
        assert "CRASHED, last log lines" in out

        rc, out, changed = second_cluster("started", tmp_path)
        assert rc == 0, out
        assert changed >= 1
    finally:
        rc, out, _ = second_cluster("stopped", tmp_path)
    assert rc == 0, out
    assert processes_under(tmp_path) == [], "processes of the stopped cluster are still running"
