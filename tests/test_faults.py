"""Faults on a real (throwaway) cluster: what a rollout does when things break under it.

Each test makes one fault and checks what the toolkit promises: hubs already deployed stay
intact, the failure is reported clearly, nothing is left pending, a re-run converges.
Run by ``make reliability`` (scripts/reliability.py counts them as faults tried/survived).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_support import FaultCluster, Rollout, helm_wrapper, run_hubs, wait_until, write_inventory
from support import release

pytestmark = pytest.mark.slow

PENDING = re.compile(r"^pending-")


@pytest.fixture(scope="module")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory, tool_bin: Path) -> Iterator[FaultCluster]:
    del tool_bin
    cluster = FaultCluster(tmp_path_factory.mktemp("fault-cluster"))
    started = cluster.lifecycle("started")
    assert started.rc == 0, started.output[-4000:]
    yield cluster
    stopped = cluster.lifecycle("stopped")
    assert stopped.rc == 0, stopped.output[-4000:]


def restart(cluster: FaultCluster) -> None:
    run = cluster.lifecycle("started")
    assert run.rc == 0, run.output[-4000:]


def no_pending(cluster: FaultCluster, namespaces: list[str]) -> dict[str, str]:
    return {key: status for key, status in cluster.release_statuses(namespaces).items() if status != "deployed"}


def test_api_server_stopped_mid_rollout(fault_cluster: FaultCluster, tmp_path: Path) -> None:
    hubs = {"api-a": "staging", "api-b": "production", "api-c": "production"}
    inventory = write_inventory(tmp_path / "inventory", fault_cluster, hubs)
    # The production hubs' helm upgrades wait until the API server is down, so the fault always
    # comes while they are still to be deployed, however fast the canary's rollout is.
    gate = tmp_path / "api-server-stopped"
    held = helm_wrapper(tmp_path / "gated-helm", fault_cluster,
                        f'case "$*" in *"--namespace api-a "*) ;; *) n=0; while [ ! -e {gate} ] && '
                        f'[ $n -lt 1200 ]; do sleep 0.25; n=$((n+1)); done ;; esac')
    rollout = Rollout(inventory, fault_cluster, tmp_path / "rollout.log", PATH=held)
    # The rollout state Secret is written when the hub's rollout is complete (releases rolled out, health checked)
    wait_until(lambda: fault_cluster.kubectl("-n", "api-a", "get", "secret", "imagebuilding-hubs-rollout-state"
                                             ).returncode == 0, 300, "hub api-a deployed")
    deployed = fault_cluster.helm_releases("api-a")
    fault_cluster.stop_component("kube-apiserver")
    gate.touch()
    run = rollout.wait()
    assert run.rc != 0, "the rollout went on as if the API server were there"
    rows = {(r["hub"], r["release"]): r for r in rollout.report()}
    assert all(rows[("api-a", release("api-a", chart))]["status"] == "changed"
               for chart in ("binderhub-service", "jupyterhub")), rows
    not_done = {hub for (hub, _), row in rows.items() if row["status"] == "failed" or row["status"].startswith("not")}
    assert {"api-b", "api-c"} <= not_done | (set(hubs) - {hub for hub, _ in rows}), rows
    restart(fault_cluster)
    after = fault_cluster.helm_releases("api-a")
    assert {n: (r["revision"], r["status"]) for n, r in after.items()} == \
        {n: (r["revision"], r["status"]) for n, r in deployed.items()}, "the deployed hub changed"
    rerun = run_hubs(inventory, fault_cluster)
    assert rerun.rc == 0, rerun.output[-6000:]
    assert no_pending(fault_cluster, list(hubs)) == {}
    assert set(fault_cluster.helm_releases("api-c")) >= {"api-c", "api-c-binderhub"}


def test_release_whose_pods_never_become_ready_is_rolled_back(fault_cluster: FaultCluster, tmp_path: Path) -> None:
    hubs = {"unready": "staging"}
    inventory = write_inventory(tmp_path / "inventory", fault_cluster, hubs)
    first = run_hubs(inventory, fault_cluster)
    assert first.rc == 0, first.output[-6000:]
    before = fault_cluster.helm_releases("unready")["unready"]
    # The hub pod asks for a label no node has (not a node pool label: a pool selector no pool
    # has is refused before the rollout): it can never be scheduled.
    bad = tmp_path / "unschedulable.values.yaml"
    bad.write_text("jupyterhub:\n  hub:\n    nodeSelector:\n      example.org/rack: nowhere\n")
    broken = write_inventory(tmp_path / "broken", fault_cluster, hubs, {"unready": {
        "hub_values_files": ["values/local-cluster.values.yaml", str(bad)], "jupyterhub_helm_timeout": "20s"}})
    run = run_hubs(broken, fault_cluster, HUB_ROLLOUT_PROGRESS_INTERVAL="5")
    assert run.rc != 0
    assert "Unschedulable" in run.output, run.output[-6000:]
    # hub_release waits up to 20 s for the pod: the progress lines name the task and the hub meanwhile
    assert re.search(r"\[progress\] (imagebuilding\.hubs\.)?jupyterhub : Deploy the jupyterhub and dask-gateway releases: "
                     r"1 hub\(s\) still running.*\(unready\)",
                     run.output), run.output[-6000:]
    after = fault_cluster.helm_releases("unready")["unready"]
    assert after["status"] == "deployed"
    assert int(after["revision"]) > int(before["revision"])  # the failed upgrade and helm's rollback
    hub = fault_cluster.kubectl("-n", "unready", "get", "deployment", "hub", "-o",
                                "jsonpath={.spec.template.spec.nodeSelector}")
    assert "gpu" not in hub.stdout and "core" in hub.stdout, hub.stdout
    ready = fault_cluster.kubectl("-n", "unready", "get", "deployment", "hub", "-o", "jsonpath={.status.readyReplicas}")
    assert ready.stdout.strip() == "1", "the previous revision is not serving"


def test_killed_run_is_recovered_by_the_next_run(fault_cluster: FaultCluster, tmp_path: Path) -> None:
    hubs = {"killed": "staging"}
    inventory = write_inventory(tmp_path / "inventory", fault_cluster, hubs)
    # hub_release waits for a release itself, after helm has marked it deployed; the kill must
    # come while helm still holds the release pending. A helm that waits (--wait, 2 s polls)
    # before it marks an upgrade deployed gives the kill that window.
    slow = helm_wrapper(tmp_path / "slow-helm", fault_cluster, 'set -- "$@" --wait')
    rollout = Rollout(inventory, fault_cluster, tmp_path / "killed.log", PATH=slow)

    def pending_release() -> bool:
        if fault_cluster.kubectl("get", "ns", "killed").returncode != 0:
            return False
        return any(PENDING.match(s) for s in fault_cluster.release_statuses(["killed"]).values())

    wait_until(pending_release, 300, "a helm release of hub killed in a pending state", interval=0.1)
    rollout.kill()
    rollout.wait()
    assert any(PENDING.match(s) for s in fault_cluster.release_statuses(["killed"]).values()), \
        "the kill came too late to leave a release pending"
    rerun = run_hubs(inventory, fault_cluster)
    assert rerun.rc == 0, rerun.output[-6000:]
    assert "was left pending" in rerun.output, rerun.output[-8000:]
    assert no_pending(fault_cluster, ["killed"]) == {}
    assert set(fault_cluster.helm_releases("killed")) >= {"killed", "killed-binderhub"}
    again = run_hubs(inventory, fault_cluster)
    assert again.rc == 0 and again.changed() == 0, again.output[-4000:]


def test_second_rollout_of_the_same_hub_fails_clearly(fault_cluster: FaultCluster, tmp_path: Path) -> None:
    hubs = {"twice": "staging"}
    inventory = write_inventory(tmp_path / "inventory", fault_cluster, hubs)
    # The first rollout holds the hub's lock in front of its first helm upgrade until the second
    # rollout has finished: however fast a rollout is, the two overlap.
    gate = tmp_path / "second-rollout-done"
    held = helm_wrapper(tmp_path / "gated-helm", fault_cluster,
                        f'n=0; while [ ! -e {gate} ] && [ $n -lt 1200 ]; do sleep 0.25; n=$((n+1)); done')
    first = Rollout(inventory, fault_cluster, tmp_path / "first.log", PATH=held)
    wait_until(lambda: fault_cluster.kubectl("-n", "twice", "get", "lease", "imagebuilding-hubs-rollout").returncode == 0,
               300, "the first rollout to take the hub's lock")
    try:
        second = run_hubs(inventory, fault_cluster)
    finally:
        gate.touch()
    done = first.wait()
    assert done.rc == 0, done.output[-6000:]
    assert second.rc != 0, "two rollouts of one hub ran at once"
    assert "another rollout of this hub is under way" in second.output, second.output[-4000:]
    assert no_pending(fault_cluster, ["twice"]) == {}
    assert fault_cluster.kubectl("-n", "twice", "get", "lease", "imagebuilding-hubs-rollout").returncode != 0, \
        "the lock was not given back"
    again = run_hubs(inventory, fault_cluster)
    assert again.rc == 0 and again.changed() == 0, again.output[-4000:]


def test_registry_down_during_verification_deploys_nothing(fault_cluster: FaultCluster, tmp_path: Path) -> None:
    hubs = {"noregistry": "staging"}
    inventory = write_inventory(tmp_path / "inventory", fault_cluster, hubs)
    fault_cluster.stop_component("registry")
    try:
        run = run_hubs(inventory, fault_cluster)
    finally:
        restart(fault_cluster)
    assert run.rc != 0
    assert re.search(r"hub '?noregistry'?.*registry", run.output), run.output[-4000:]
    assert "127.0.0.1:25443" in run.output, run.output[-4000:]
    assert fault_cluster.kubectl("get", "ns", "noregistry").returncode != 0 or \
        fault_cluster.helm_releases("noregistry") == {}, "something was deployed without a working registry"
