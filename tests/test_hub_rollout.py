"""The rollout report and the no-op fast path's digest, without a cluster."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils import hub_health
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_seeds import seed_secret
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import (
    DIGEST_ANNOTATION,
    decode_release,
    release_summary,
    settles,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_rollout import desired_state_digest, rollout_status

_PLUGINS = Path(__file__).resolve().parent.parent / "plugins"
sys.path[:0] = [str(_PLUGINS / "callback")]

import hub_rollout_report  # noqa: E402
from support import ROOT, project_env  # noqa: E402


def test_digest_is_stable_and_covers_values_and_chart(tmp_path: Path) -> None:
    values = {"hub": {"config": {"a": 1, "b": [1, 2]}}, "secret": "s3cret"}
    reordered = {"secret": "s3cret", "hub": {"config": {"b": [1, 2], "a": 1}}}
    digest = desired_state_digest("jupyterhub", "4.4.0", values)
    assert digest == desired_state_digest("jupyterhub", "4.4.0", reordered)
    assert digest.startswith("sha256:")
    assert "s3cret" not in digest
    assert digest != desired_state_digest("jupyterhub", "4.4.0", {**values, "secret": "other"})
    assert digest != desired_state_digest("jupyterhub", "4.4.1", values)


def test_digest_of_a_chart_directory_follows_its_files(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("name: x\nversion: 1.0.0\n")
    before = desired_state_digest(str(tmp_path), "", {})
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "a.yaml").write_text("kind: ConfigMap\n")
    assert desired_state_digest(str(tmp_path), "", {}) != before


def helm_secret(revision: int, digest: str = "", **record_keys: object) -> dict[str, object]:
    metadata = {"name": "jupyterhub", "version": "4.4.0", "appVersion": "5.5.0"}
    record = {"chart": {"metadata": metadata}, "version": revision, **record_keys}
    data = base64.b64encode(base64.b64encode(gzip.compress(json.dumps(record).encode()))).decode()
    annotations = {DIGEST_ANNOTATION: digest} if digest else {}
    return {"metadata": {"labels": {"version": str(revision)}, "annotations": annotations}, "data": {"release": data}}


def test_release_summary_reads_helms_release_secret() -> None:
    assert decode_release(helm_secret(3)["data"]["release"])["version"] == 3  # type: ignore[index]
    assert release_summary(helm_secret(3, "sha256:ab")) == {
        "revision": 3, "chart": "jupyterhub", "chart_version": "4.4.0", "app_version": "5.5.0", "digest": "sha256:ab"}
    assert release_summary(None)["revision"] == 0


def _template(text: str) -> dict[str, str]:
    return {"name": "templates/x.yaml", "data": base64.b64encode(text.encode()).decode()}


def test_a_first_install_settles_when_its_chart_looks_up_the_cluster_unseeded() -> None:
    chart = {"metadata": {"name": "jupyterhub", "version": "4.4.0"}}
    looks_up = {**chart, "templates": [_template('{{- $s := lookup "v1" "Secret" .Release.Namespace "hub" }}')]}
    plain = {**chart, "templates": [_template("kind: ConfigMap\n")]}
    assert settles(helm_secret(1, chart=looks_up))
    assert settles(helm_secret(1, chart=looks_up, hooks=[{"name": "hook-image-awaiter", "kind": "Job"}]))
    # Hooks alone: the diff does not compare them (--no-hooks).
    assert not settles(helm_secret(1, chart=plain, hooks=[{"name": "hook-image-awaiter", "kind": "Job"}]))
    assert not settles(None)
    # What the chart looks up was seeded before the install: the install rendered as later upgrades do.
    assert not settles(helm_secret(1, chart=looks_up, hooks=[{"name": "hook-image-awaiter", "kind": "Job"}]),
                       seeded=True)


def test_the_seed_of_z2jh_is_its_hub_secret_with_fresh_values_owned_by_the_release() -> None:
    first, second = seed_secret("jupyterhub", "research", "ns"), seed_secret("jupyterhub", "research", "ns")
    assert first is not None and second is not None
    assert first["metadata"]["name"] == "hub" and first["metadata"]["namespace"] == "ns"
    assert first["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert first["metadata"]["annotations"] == {"meta.helm.sh/release-name": "research",
                                                "meta.helm.sh/release-namespace": "ns"}
    values = {key: base64.b64decode(value).decode() for key, value in first["data"].items()}
    assert set(values) == {"hub.config.ConfigurableHTTPProxy.auth_token", "hub.config.JupyterHub.cookie_secret",
                           "hub.config.CryptKeeper.keys"}
    assert values["hub.config.ConfigurableHTTPProxy.auth_token"].isalnum()
    assert all(len(value) == 64 for value in values.values())
    assert all(int(values[key], 16) >= 0 for key in ("hub.config.JupyterHub.cookie_secret", "hub.config.CryptKeeper.keys"))
    assert first["data"] != second["data"]  # new values for each install
    assert seed_secret("binderhub-service", "research-binderhub", "ns") is None
    # A service without a token of its own gets one (the chart would generate it); one with a token does not.
    services = {"hub": {"services": {"dask-gateway": {"display": False}, "binder": {"apiToken": "x" * 64}}}}
    with_services = seed_secret("jupyterhub", "research", "ns", services)
    assert with_services is not None
    assert set(with_services["data"]) == set(values) | {"hub.services.dask-gateway.apiToken"}


def test_rollout_status() -> None:
    assert rollout_status(2, 3, failed=False) == "changed"
    assert rollout_status(2, 2, failed=False) == "unchanged"
    assert rollout_status(2, 2, failed=True) == "failed"


def test_report_table_and_failed_hubs() -> None:
    report = hub_rollout_report.CallbackModule()
    row = {"hub": "a", "cluster": "c1", "release": "jupyterhub", "namespace": "a", "chart": "jupyterhub",
           "chart_version": "4.4.0", "revision_before": 1, "revision_after": 2, "status": "changed", "duration": 3.0}
    report._releases["a"] = [row]
    report._first.update(a=0.0, b=0.0)
    report._last.update(a=3.0, b=1.0)
    report._errors["b"] = "registry unreachable"
    report._clusters.update(a="c1", b="c2")
    rows = report.rows()
    assert [(r["hub"], r["status"]) for r in rows] == [("a", "changed"), ("b", "failed")]
    assert rows[1]["error"] == "registry unreachable"
    lines = hub_rollout_report.table(rows).splitlines()
    assert lines[0].split() == ["hub", "cluster", "release", "chart", "version", "revision", "status", "duration"]
    assert "1 -> 2" in lines[1]
    assert lines[2].startswith("b ") and "failed" in lines[2]


def test_health_durations() -> None:
    assert hub_health.seconds("5m0s") == 300
    assert hub_health.seconds("1h30s") == 3630
    assert hub_health.seconds(0) == 0
    assert hub_health.seconds("45") == 45


def test_health_rollout_state_of_deployments_and_daemonsets() -> None:
    meta = {"name": "hub", "generation": 2}
    rolled_out = {"metadata": meta, "spec": {"replicas": 1},
                  "status": {"observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 1}}
    assert hub_health.deployment_pending(rolled_out) == ""
    waiting = {**rolled_out, "status": {"observedGeneration": 2, "updatedReplicas": 1}}
    assert hub_health.deployment_pending(waiting) == "0/1 availableReplicas"
    # A rolling update whose new pod cannot start: the old pod keeps it available, but it has not rolled out.
    stuck = {**rolled_out, "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1}}
    assert hub_health.deployment_pending(stuck) == "1 old replica(s) of the revision before still running"
    daemonset = {"metadata": meta, "status": {"observedGeneration": 2, "desiredNumberScheduled": 2,
                                              "updatedNumberScheduled": 2, "numberAvailable": 1}}
    assert hub_health.daemonset_pending(daemonset) == "1/2 numberAvailable"


def test_release_readiness_of_statefulsets_claims_and_load_balancers() -> None:
    meta = {"name": "db", "generation": 3}
    ready = {"metadata": meta, "spec": {"replicas": 2},
             "status": {"observedGeneration": 3, "readyReplicas": 2, "updatedReplicas": 2}}
    assert hub_health.statefulset_pending(ready) == ""
    assert hub_health.statefulset_pending({**ready, "status": {**ready["status"], "updatedReplicas": 1}}) == \
        "1/2 updatedReplicas"
    assert hub_health.statefulset_pending({**ready, "status": {**ready["status"], "observedGeneration": 2}}) == \
        "new generation not observed yet"
    assert hub_health.claim_pending({"status": {"phase": "Bound"}}) == ""
    assert hub_health.claim_pending({"status": {}}) == "phase Pending, not Bound"
    balancer = {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}}
    assert hub_health.service_pending(balancer) == "no load balancer address yet"
    assert hub_health.service_pending({**balancer, "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}}) == ""
    assert hub_health.service_pending({"spec": {"type": "ClusterIP"}}) == ""


class ListingKube:
    """Answers list calls from a fixed set of objects per plural; counts the calls."""

    def __init__(self, objects: dict[str, list[dict[str, object]]]) -> None:
        self.objects, self.calls = objects, []

    def items(self, resource: str, **_: str) -> list[dict[str, object]]:
        self.calls.append(resource)
        return self.objects.get(resource.rsplit("/", 1)[-1], [])


def test_release_pending_only_looks_at_the_release_own_objects() -> None:
    def deployment(name: str, release: str, available: int) -> dict[str, object]:
        return {"metadata": {"name": name, "generation": 1,
                             "annotations": {"meta.helm.sh/release-name": release}},
                "spec": {"replicas": 1},
                "status": {"observedGeneration": 1, "updatedReplicas": 1, "availableReplicas": available}}

    kube = ListingKube({"deployments": [deployment("hub", "jupyterhub", 0), deployment("binder", "binderhub-service", 0),
                                        deployment("proxy", "jupyterhub", 1)]})
    pending = hub_health.release_pending(kube, "ns", "jupyterhub")  # type: ignore[arg-type]
    assert pending == {"deployment": ["deployment hub: 0/1 availableReplicas"]}
    assert len(kube.calls) == len(hub_health.RELEASE_KINDS)
    kube.calls.clear()
    assert hub_health.release_pending(kube, "ns", "jupyterhub", ("deployment",)) == pending  # type: ignore[arg-type]
    assert kube.calls == ["/apis/apps/v1/namespaces/ns/deployments"]


def test_health_names_pending_pods_and_scheduling_events() -> None:
    pod = {"metadata": {"name": "hub-abc"}, "status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/4 nodes are available"}]}}
    assert hub_health.pod_problems(pod) == (
        "pod hub-abc Pending (PodScheduled=False Unschedulable: 0/4 nodes are available)")
    ready = {"metadata": {"name": "proxy"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert hub_health.pod_problems(ready) == ""
    event = {"type": "Warning", "reason": "FailedScheduling", "message": "0/4 nodes are available",
             "involvedObject": {"kind": "Pod", "name": "hub-abc"}, "metadata": {"creationTimestamp": "t"}}
    normal = {**event, "type": "Normal", "reason": "Scheduled"}
    assert hub_health.event_lines([event, normal]) == [
        "pod hub-abc: Unschedulable (FailedScheduling): 0/4 nodes are available"]


def test_waves_put_canaries_first_and_bound_each_cluster() -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_waves import blocked_by_canaries, rollout_waves

    hubs = [{"host": f"a-prod-{i}", "cluster": "a", "stage": "production"} for i in range(5)]
    hubs += [{"host": "a-staging", "cluster": "a", "stage": "staging"},
             {"host": "b-staging", "cluster": "b", "stage": "staging"},
             {"host": "b-prod", "cluster": "b", "stage": "production"}]
    waves = rollout_waves(hubs, 2)
    assert waves == [["a-staging", "b-staging"], ["a-prod-0", "a-prod-1", "b-prod"], ["a-prod-2", "a-prod-3"],
                     ["a-prod-4"]]
    for wave in waves:
        assert sum(host.startswith("a-") for host in wave) <= 2
    assert blocked_by_canaries(hubs, ["a-staging"]) == [f"a-prod-{i}" for i in range(5)]
    assert blocked_by_canaries(hubs, ["b-prod"]) == []


def test_report_goes_next_to_the_playbooks_directory_whatever_the_working_directory(tmp_path: Path) -> None:
    """Without HUB_ROLLOUT_REPORT the report is <project>/reports/rollout.json, the project being the
    parent of the playbook's directory, wherever ansible-playbook is started."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    shutil.copytree(ROOT / "playbooks", project / "playbooks")
    elsewhere.mkdir()
    (elsewhere / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"report-hub": {"registry_type": "bogus"}}}}))
    env = project_env()
    env.pop("HUB_ROLLOUT_REPORT", None)
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "hosts.yml",
                           str(project / "playbooks" / "hub.yml")], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    report = json.loads((project / "reports" / "rollout.json").read_text())
    assert [row["hub"] for row in report["releases"]] == ["report-hub"], report
    assert report["releases"][0]["status"] == "failed", report
    assert not (tmp_path / "reports").exists() and not (elsewhere / "reports").exists()


def test_the_report_handed_to_awx_is_the_one_the_callback_wrote_where_configured(tmp_path: Path) -> None:
    """The report path set in ansible.cfg ([hub_rollout_report] report_path), not the default:
    hub.yml's last play hands over the file the callback wrote (one rule for the path). And a
    hub left out of the run (another upgrade batch) never reaches the deploy play, even when no
    hub of the run passes validation (the plan is then empty, not every host)."""
    report = tmp_path / "elsewhere" / "report.json"
    config = tmp_path / "ansible.cfg"
    config.write_text((ROOT / "ansible.cfg").read_text().replace(
        "collections_path = .local/collections", f"collections_path = {ROOT / '.local' / 'collections'}")
        + f"\n[hub_rollout_report]\nreport_path = {report}\n")
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {
        "handed-hub": {"registry_type": "bogus", "hub_upgrade_batch": "first"},
        "later-hub": {"hub_upgrade_batch": "second"}}}}))
    env = project_env(ANSIBLE_CONFIG=str(config), ANSIBLE_SHOW_CUSTOM_STATS="1", KUBECONFIG=str(tmp_path / "none"))
    env.pop("HUB_ROLLOUT_REPORT", None)
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                           str(ROOT / "playbooks" / "hub.yml"), "-e", "hub_upgrade_run_batch=first"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    written = json.loads(report.read_text())
    assert [row["hub"] for row in written["releases"]] == ["handed-hub"], written
    stats = proc.stdout.split("CUSTOM STATS:", 1)[1].split("RUN:", 1)[1].split("\n\n", 1)[0]
    assert json.loads(stats)["hub_rollout"]["releases"] == written["releases"]
    assert "later-hub" not in proc.stdout.split("PLAY [Deploy the hubs in waves]", 1)[1], proc.stdout[-3000:]


def test_versions_compare_part_by_part() -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.versions import goes_back

    assert goes_back("5.5.0", "5.4.6") and goes_back("2026.3.0", "2025.12.1") and goes_back("4.10.0", "4.9.9")
    assert not goes_back("5.4.6", "5.5.0") and not goes_back("5.5.0", "5.5.0")
    assert not goes_back("", "5.4.6") and not goes_back("5.5.0", "")


def test_report_table_shows_a_chart_version_move() -> None:
    row = {"hub": "a", "cluster": "c", "release": "a", "chart_version_before": "4.3.5", "chart_version": "4.4.0",
           "revision_before": 1, "revision_after": 2, "status": "changed", "duration": 1.0}
    assert "4.3.5 -> 4.4.0" in hub_rollout_report.table([row])
    assert "4.4.0 ->" not in hub_rollout_report.table([{**row, "chart_version_before": "4.4.0"}])
