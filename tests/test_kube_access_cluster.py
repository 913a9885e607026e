"""Cluster access on the embedded cluster, without a kubeconfig: a service account's token given
as K8S_AUTH_* variables, as module_defaults of the action group imagebuilding.hubs.cluster, or
found in the pod's service account directory (in-cluster) reaches the cluster - for the API client
and for helm - and the token appears in no output. hub_lock and hub_rollout_state report changed
exactly when they write (in check mode: would write), and check mode writes nothing."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import run_helm
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import IN_CLUSTER, helm_environment, kube_access
from support import LOCAL_INVENTORY, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

PREFIX = "ibh-kube-access"
ACCOUNT_NS, LOCK_NS, STATE_NS = f"{PREFIX}-sa", f"{PREFIX}-lock", f"{PREFIX}-state"
K8S_AUTH = ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY",
            "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VERIFY_SSL")


@dataclass(frozen=True)
class Account:
    host: str
    token: str
    ca_cert: Path

    def bare_env(self, home: Path, **extra: str) -> dict[str, str]:
        """The project's environment with no kubeconfig anywhere (nor any K8S_AUTH_* variable)."""
        env = {k: v for k, v in project_env().items() if k not in K8S_AUTH}
        env.update(HOME=str(home), **extra)
        return env


def kubectl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", *args], input=stdin, env=project_env(), capture_output=True, text=True,
                          check=True, timeout=120).stdout


@pytest.fixture(scope="module")
def account(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """A service account bound to cluster-admin (the hubs' plugins manage namespaces), its token,
    the API server's URL and CA from the local cluster's kubeconfig."""
    document = yaml.safe_load(kubeconfig.read_text())
    cluster = document["clusters"][0]["cluster"]
    ca_cert = tmp_path_factory.mktemp("ca") / "ca.crt"
    if "certificate-authority-data" in cluster:
        ca_cert.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    else:
        ca_cert.write_bytes((kubeconfig.parent / cluster["certificate-authority"]).read_bytes())
    for namespace in (ACCOUNT_NS, LOCK_NS, STATE_NS):  # left by an earlier run, maybe still terminating
        kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=120s")
    kubectl("create", "namespace", ACCOUNT_NS)
    try:
        kubectl("-n", ACCOUNT_NS, "create", "serviceaccount", "deployer")
        kubectl("create", "clusterrolebinding", PREFIX, "--clusterrole=cluster-admin",
                f"--serviceaccount={ACCOUNT_NS}:deployer")
        token = kubectl("-n", ACCOUNT_NS, "create", "token", "deployer", "--duration=1h").strip()
        yield Account(cluster["server"], token, ca_cert)
    finally:
        kubectl("delete", "clusterrolebinding", PREFIX, "--ignore-not-found")
        for namespace in (ACCOUNT_NS, LOCK_NS, STATE_NS):
            kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


def write_playbook(directory: Path, plays: list[dict[str, object]]) -> Path:
    playbook = directory / "playbook.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    return playbook


def lock(state: str, **extra: object) -> dict[str, object]:
    return {"imagebuilding.hubs.hub_lock": {"state": state, "namespace": LOCK_NS, "hub": LOCK_NS}, **extra}


def expect(name: str, *conditions: str) -> dict[str, object]:
    return {"name": f"Expect {name}", "ansible.builtin.assert": {"that": list(conditions), "quiet": True}}


def test_k8s_auth_variables_reach_the_cluster(account: Account, tmp_path: Path) -> None:
    """No kubeconfig: K8S_AUTH_HOST, K8S_AUTH_API_KEY and K8S_AUTH_SSL_CA_CERT are the only way in."""
    playbook = write_playbook(tmp_path, [{
        "name": "K8S_AUTH_* only", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"imagebuilding.hubs.hub_lock": {"state": "acquired", "namespace": ACCOUNT_NS}, "register": "taken"},
            expect("the account's namespace claimed and the lock taken", "taken is changed",
                   "taken.namespace_change == 'claimed'", "taken.lease == 'created'"),
            {"imagebuilding.hubs.hub_health": {"namespace": ACCOUNT_NS, "timeout": "10s"}},
            {"imagebuilding.hubs.hub_lock": {"state": "released", "namespace": ACCOUNT_NS}, "register": "given"},
            expect("the lock given back", "given is changed", "given.lease == 'deleted'"),
        ]}])
    env = account.bare_env(tmp_path, K8S_AUTH_HOST=account.host, K8S_AUTH_API_KEY=account.token,
                           K8S_AUTH_SSL_CA_CERT=str(account.ca_cert))
    run = run_playbook(str(playbook), "-vvv", env=env, timeout=300)
    assert run.rc == 0, run.output[-6000:]
    assert account.token not in run.output
    # Without the variables the same playbook finds no cluster (nothing else let it in).
    refused = run_playbook(str(playbook), env=account.bare_env(tmp_path), timeout=300)
    assert refused.rc != 0 and "$KUBECONFIG or ~/.kube/config" in refused.output, refused.output[-3000:]
    # helm, from the same variables.
    access = kube_access({}, {"K8S_AUTH_HOST": account.host, "K8S_AUTH_API_KEY": account.token,
                              "K8S_AUTH_SSL_CA_CERT": str(account.ca_cert), "KUBECONFIG": str(tmp_path / "none")})
    env = helm_environment(access, account.bare_env(tmp_path))
    listed = run_helm(["helm", "list", "--all-namespaces", "-o", "json"], None, env)
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    wrong = run_helm(["helm", "list", "-A"], None, {**env, "HELM_KUBETOKEN": "not-a-token"})
    assert wrong.returncode != 0 and "provide credentials" in wrong.stderr, wrong.stderr


def test_module_defaults_set_the_connection_once_and_changed_is_truthful(account: Account, tmp_path: Path) -> None:
    defaults = {"group/imagebuilding.hubs.cluster": {"host": account.host, "api_key": account.token,
                                                     "ca_cert": str(account.ca_cert)}}
    tasks = [
        lock("acquired", check_mode=True, register="would"),
        lock("acquired", check_mode=True, register="would_again"),
        expect("check mode to report the namespace and Lease it would create, and create neither",
               "would is changed", "would.namespace_change == 'created'", "would.lease == 'created'",
               "would_again is changed", "would_again.namespace_change == 'created'"),
        lock("acquired", register="taken"),
        expect("the first take to change", "taken is changed", "taken.lease == 'created'",
               "taken.namespace_change == 'created'"),
        lock("acquired", register="held"),
        expect("a lock this run holds to change nothing", "held is not changed", "held.lease == 'held'"),
        lock("released", check_mode=True, register="would_give"),
        lock("acquired", register="still_held"),
        expect("check mode to say the lock would be given back, and keep it", "would_give is changed",
               "would_give.lease == 'deleted'", "still_held is not changed", "still_held.lease == 'held'"),
        lock("released", register="given"),
        lock("released", register="given_again"),
        expect("giving back to change once", "given is changed", "given_again is not changed",
               "given_again.lease == 'absent'"),
        lock("acquired", check_mode=True, register="would_retake"),
        expect("check mode on an owned namespace to report only the Lease", "would_retake is changed",
               "would_retake.namespace_change == ''", "would_retake.lease == 'created'"),
        {"imagebuilding.hubs.hub_health": {"namespace": LOCK_NS, "timeout": "10s"}},
        {"name": "A wrong token set for one task", "imagebuilding.hubs.hub_health": {"namespace": LOCK_NS},
         "module_defaults": {"group/imagebuilding.hubs.cluster": {**defaults["group/imagebuilding.hubs.cluster"],
                                                                  "api_key": "wrong-token"}},
         "register": "refused", "ignore_errors": True},
        expect("the task's own module_defaults to be used", "refused is failed", "'401' in refused.msg"),
    ]
    playbook = write_playbook(tmp_path, [{"name": "module_defaults only", "hosts": "localhost", "gather_facts": False,
                                          "module_defaults": defaults, "tasks": tasks}])
    run = run_playbook(str(playbook), "-vvv", env=account.bare_env(tmp_path), timeout=300)
    assert run.rc == 0, run.output[-6000:]
    assert account.token not in run.output
    assert run.recap()["localhost"]["failed"] == 0


def test_in_cluster_service_account(account: Account, tmp_path: Path) -> None:
    """No kubeconfig, KUBERNETES_SERVICE_HOST set: the token and CA of the service account directory."""
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text(account.token)
    (directory / "ca.crt").write_bytes(account.ca_cert.read_bytes())
    host, _, port = account.host.removeprefix("https://").rpartition(":")
    environ = {"KUBECONFIG": str(tmp_path / "none"), "KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port}
    access = kube_access({}, environ, service_account=directory)
    assert access.mode == IN_CLUSTER
    namespace = Kube(access).get(path("v1", "namespaces", name=ACCOUNT_NS))
    assert namespace["metadata"]["name"] == ACCOUNT_NS
    env = helm_environment(access, account.bare_env(tmp_path))
    listed = run_helm(["helm", "list", "-n", ACCOUNT_NS], None, env)
    assert listed.returncode == 0, listed.stderr


def test_rollout_state_record_reports_changed_when_written(account: Account, kubeconfig: Path, tmp_path: Path) -> None:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    hub = STATE_NS
    inventory = local_inventory(tmp_path / "inventory", {hub: local_hub_vars(hub, hub_namespace=STATE_NS)})

    def rows(revision: int) -> dict[str, object]:
        return {"ansible.builtin.set_fact": {"hub_rollout_releases": [
            {"hub": hub, "cluster": "local", "release": hub, "namespace": STATE_NS, "chart": "jupyterhub",
             "chart_version": "4.4.0", "revision_before": revision, "revision_after": revision, "status": "unchanged"}]}}

    def record(name: str, check: bool = False) -> dict[str, object]:
        return {"imagebuilding.hubs.hub_rollout_state": {"state": "recorded", "namespace": STATE_NS, "hub": hub},
                "register": name, "check_mode": check}

    tasks = [
        {"imagebuilding.hubs.hub_lock": {"state": "acquired", "namespace": STATE_NS, "hub": hub, "cluster": "local"}},
        {"imagebuilding.hubs.hub_lock": {"state": "released", "namespace": STATE_NS}},
        rows(1), record("would"), record("would_again", check=True),
        expect("check mode to say a missing record would be written, and not write it", "would is changed",
               "would_again is changed"),
        record("first"), record("same"), record("same_check", check=True),
        expect("a record written once", "first is changed", "same is not changed", "same_check is not changed"),
        rows(2), record("moved_check", check=True), record("moved"), record("moved_again"),
        expect("a new revision to be recorded", "moved_check is changed", "moved is changed",
               "moved_again is not changed"),
    ]
    tasks[3]["check_mode"] = True
    playbook = write_playbook(tmp_path, [{
        "name": "Rollout state records", "hosts": hub, "gather_facts": False,
        "module_defaults": {"group/imagebuilding.hubs.cluster": {
            "kubeconfig": "{{ cluster_kubeconfig | default(omit, true) }}",
            "kube_context": "{{ cluster_kube_context | default(omit, true) }}"}},
        "tasks": tasks}])
    run = run_playbook("-i", str(inventory), str(playbook), env=project_env(KUBECONFIG=str(kubeconfig)), timeout=300)
    assert run.rc == 0, run.output[-6000:]


def test_an_awx_job_deploys_a_hub_and_hands_its_report_over(account: Account, tmp_path: Path) -> None:
    """As an AWX job runs it: JOB_ID set, the service account's token as K8S_AUTH_* credentials,
    no kubeconfig anywhere. The hub deploys, the lock's holder names the job, and the rollout
    report is the run's custom stats (AWX keeps them as the job's artifacts)."""
    hub = f"{PREFIX}-awx"
    inventory = local_inventory(tmp_path / "inventory", {hub: local_hub_vars(
        hub, cluster_kubeconfig="", hub_values_files=["values/local-cluster.values.yaml"],
        jupyterhub_storage={"type": "none"})})
    env = account.bare_env(tmp_path, K8S_AUTH_HOST=account.host, K8S_AUTH_API_KEY=account.token,
                           K8S_AUTH_SSL_CA_CERT=str(account.ca_cert), JOB_ID="4242", ANSIBLE_SHOW_CUSTOM_STATS="1",
                           HUB_ROLLOUT_REPORT=str(tmp_path / "rollout.json"))
    try:
        run = run_playbook("-i", str(inventory), "playbooks/hub.yml", "-v", env=env, timeout=900)
        assert run.rc == 0, run.output[-6000:]
        assert account.token not in run.output
        assert '"holder": "awx-job-4242@' in run.output, run.output[-6000:]
        stats = run.output.split("CUSTOM STATS:", 1)[1].split("RUN:", 1)[1].split("\n\n", 1)[0]
        handed = json.loads(stats)["hub_rollout"]
        assert {(row["hub"], row["release"], row["status"]) for row in handed["releases"]} == {
            (hub, hub, "changed"), (hub, f"{hub}-binderhub", "changed")}, handed
    finally:
        remove_namespaces([hub], project_env())
