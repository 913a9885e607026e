"""Stopping a hub boot (``make hub-stop``) leaves nothing behind, even with a user server running."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hub_boot_support import HubClient, control, hub_vars, namespace_of, wait_for_spawn
from kubernetes import client, config

pytestmark = pytest.mark.slow
HUB = "staging"


def test_stop_leaves_no_process_pod_claim_database_or_state(kubeconfig: Path) -> None:
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    namespace = namespace_of(HUB)
    assert control.running(namespace) is None, "a boot of the staging hub is running already"
    boot = control.start(namespace, kubeconfig=str(kubeconfig))
    stopped = False
    try:
        user = hub_vars(HUB).variables["jupyterhub_auth"]["allowed_users"][0]
        hub_client = HubClient(boot.url)
        token = hub_client.token(hub_vars(HUB).variables["jupyterhub_admin_users"][0])
        assert hub_client.request("POST", f"/hub/api/users/{user}/server", token=token, body={}).status in (201, 202)
        assert wait_for_spawn(hub_client, token, user) is not None, boot.log_text()[-4000:]
        assert core.list_namespaced_pod(namespace, label_selector="component=singleuser-server").items
        record = json.loads((boot.state_dir / "boot.json").read_text())
        inner = json.loads((boot.state_dir / "endpoint.json").read_text())["inner_pid"]
        pid_namespace = Path(f"/proc/{inner}/ns/pid").readlink()
        inside = _in_namespace(pid_namespace)
        # inner, the proxy, the hub and the idle culler (a session of its own) share the PID namespace
        assert len(inside) >= 4, inside
        session = _in_session(boot.pid)
        assert boot.pid in session and inner in session, session
        assert control.stop(namespace, kubeconfig=str(kubeconfig))
        stopped = True
        assert not boot.state_dir.exists()
        assert _in_namespace(pid_namespace) == [], "processes of the boot's PID namespace are left"
        assert _in_session(boot.pid) == [], "processes of the boot's session are left"
        assert not core.list_namespaced_pod(namespace, label_selector="component=singleuser-server").items
        claims = [c.metadata.name for c in core.list_namespaced_persistent_volume_claim(namespace).items]
        assert f"claim-{user}" not in claims, claims
        if record["workdir"]:
            left = sorted(p.name for p in Path(record["workdir"]).iterdir())
            assert left == record["workdir_before"], left
    finally:
        if not stopped:
            control.stop(namespace, kubeconfig=str(kubeconfig))


def _processes() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _in_namespace(pid_namespace: Path) -> list[int]:
    found = []
    for pid in _processes():
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/ns/pid").readlink() == pid_namespace:
                found.append(pid)
    return found


def _in_session(session: int) -> list[int]:
    found = []
    for pid in _processes():
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3]) == session:
                found.append(pid)
    return found
