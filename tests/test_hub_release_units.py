"""The helm side of a release deploy, the rollout lock's staleness and the progress line, without a cluster."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import release_state
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import (
    ReleaseRef,
    clear_pending_hint,
    diff_command,
    pending_recovery,
    running_helm,
    undo_command,
    upgrade_command,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_lock import Holder, holder_identity, lease_body, parse_time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins" / "callback"))

import hub_rollout_report

REF = ReleaseRef("jupyterhub", "research", "/charts/jupyterhub", "4.4.0", "", "ctx")


def helm_secret(version: int, status: str) -> dict[str, object]:
    return {"metadata": {"name": f"sh.helm.release.v1.jupyterhub.v{version}",
                         "labels": {"owner": "helm", "name": "jupyterhub", "version": str(version), "status": status},
                         "annotations": {}}}


def test_values_always_go_to_stdin_and_upgrades_roll_back_on_failure() -> None:
    command = upgrade_command(REF, "5m0s")
    assert command[:5] == ["helm", "upgrade", "--install", "jupyterhub", "/charts/jupyterhub"]
    assert command[-2:] == ["--values", "-"]
    # hub_release waits for the release itself (every 0.25 s, helm's --wait every 2 s) and undoes a failure
    assert not {"--atomic", "--wait"} & set(command)
    assert "--disable-openapi-validation" in command  # inert on servers with server-side field validation
    assert command[command.index("--version") + 1] == "4.4.0"
    assert command[command.index("--kube-context") + 1] == "ctx"
    assert diff_command(REF)[-2:] == ["--values", "-"]
    assert "--detailed-exitcode" in diff_command(REF)


def test_release_state_finds_the_latest_and_the_deployed_revision() -> None:
    state = release_state([helm_secret(2, "superseded"), helm_secret(4, "pending-upgrade"), helm_secret(3, "deployed")])
    assert (state.latest_revision, state.latest_status, state.pending) == (4, "pending-upgrade", True)
    assert state.summary["revision"] == 3
    empty = release_state([])
    assert (empty.latest_revision, empty.pending, empty.deployed) == (0, False, None)


def test_a_pending_upgrade_is_rolled_back_and_a_pending_install_uninstalled() -> None:
    upgrade = release_state([helm_secret(3, "deployed"), helm_secret(4, "pending-upgrade")])
    command, what = pending_recovery(REF, upgrade, "5m0s")
    assert command[:4] == ["helm", "rollback", "jupyterhub", "3"]
    assert "revision 4 was left pending-upgrade" in what
    assert clear_pending_hint(REF, upgrade) == "helm rollback jupyterhub 3 -n research"
    install = release_state([helm_secret(1, "pending-install")])
    command, what = pending_recovery(REF, install, "5m0s")
    assert command[:3] == ["helm", "uninstall", "jupyterhub"]
    assert clear_pending_hint(REF, install) == "helm uninstall jupyterhub -n research"


def test_a_failed_upgrade_is_rolled_back_and_a_failed_first_install_uninstalled() -> None:
    before = release_state([helm_secret(2, "superseded"), helm_secret(3, "deployed")])
    command, what = undo_command(REF, before, "5m0s")
    assert command[:4] == ["helm", "rollback", "jupyterhub", "3"] and "--wait" in command
    assert what == "rolled back to revision 3"
    command, what = undo_command(REF, release_state([]), "5m0s")
    assert command[:3] == ["helm", "uninstall", "jupyterhub"]
    assert what == "uninstalled (nothing was deployed before)"


def test_a_lock_is_stale_when_expired_or_its_process_is_gone() -> None:
    at = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    me = holder_identity(os.getpid())
    host = me.rpartition(":")[0]
    assert Holder(me, at, 60).stale_reason(at + datetime.timedelta(seconds=30)) == ""
    assert Holder(me, at, 60).stale_reason(at + datetime.timedelta(seconds=61)) == "its lease expired"
    gone = subprocess.Popen(["true"])
    gone.wait()
    reason = Holder(f"{host}:{gone.pid}", at, 60).stale_reason(at)
    assert reason == f"its holder (process {gone.pid} on this host) is gone"
    assert Holder(f"elsewhere:{gone.pid}", at, 60).stale_reason(at) == ""  # another controller: trust the lease
    assert Holder("", at, 60).stale_reason(at) == "it has no holder"


def test_a_holder_names_its_job_and_another_container_trusts_the_lease() -> None:
    import socket

    at = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    assert holder_identity(7, {"JOB_ID": "1234"}) == f"awx-job-1234@{socket.gethostname()}:7"
    assert holder_identity(7, {"GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "2"}).startswith("github-run-99.2@")
    assert holder_identity(7, {"CI_JOB_ID": "5"}).startswith("gitlab-job-5@")
    assert holder_identity(7, {}) == f"{socket.gethostname()}:7"
    gone = subprocess.Popen(["true"])
    gone.wait()
    # A killed job of this controller's host is taken over at once; one of another container
    # (another host name) only when its lease expires.
    assert Holder(f"awx-job-1@{socket.gethostname()}:{gone.pid}", at, 60).stale_reason(at).startswith("its holder")
    assert Holder(f"awx-job-1@automation-job-1-abcde:{gone.pid}", at, 60).stale_reason(at) == ""
    assert Holder(f"awx-job-1@automation-job-1-abcde:{gone.pid}", at, 60).stale_reason(
        at + datetime.timedelta(seconds=61)) == "its lease expired"


def test_lease_times_round_trip() -> None:
    at = datetime.datetime(2026, 1, 1, 12, 0, 1, 500, tzinfo=datetime.UTC)
    body = lease_body("host:1", 900, at, "42")
    assert body["metadata"]["resourceVersion"] == "42"
    assert parse_time(body["spec"]["renewTime"]) == at
    assert Holder.from_lease(body).renewed == at


def test_progress_names_slow_tasks_and_their_hubs_only() -> None:
    running = {"a": ("Deploy the jupyterhub release", 100.0), "b": ("Deploy the jupyterhub release", 125.0),
               "c": ("Render the hub's values", 139.0)}
    line = hub_rollout_report.progress_line(running, 140.0, 10)
    assert line == "[progress] Deploy the jupyterhub release: 2 hub(s) still running, longest 40s (a, b)"
    assert hub_rollout_report.progress_line(running, 105.0, 10) == ""


def test_helm_still_running_on_a_release_is_found(tmp_path: Path) -> None:
    def process(pid: int, *argv: str) -> None:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")

    process(101, "/usr/local/bin/helm", "upgrade", "--install", "jupyterhub", "/charts/jupyterhub", "--namespace", "research")
    process(102, "/usr/local/bin/helm", "upgrade", "--install", "jupyterhub", "/charts/jupyterhub", "--namespace", "other")
    process(103, "python", "helm", "jupyterhub", "research", "upgrade")
    assert running_helm(REF, str(tmp_path)) == [101]
