"""Taking a hub over from the incumbent's umbrella release, on the embedded cluster.

The incumbent's release is made here as the incumbent makes it: a chart ``basehub`` written in a
temporary directory, with the genuine z2jh chart as its subchart ``jupyterhub`` and the genuine
binderhub-service chart as ``binderhub-service`` (both ``file://`` dependencies of
../shared/charts, built by ``helm dependency build``), plus templates of its own (a ConfigMap
and a claim, as an umbrella's NFS server has), installed as one release named after the hub with
the toolkit's values for the hub nested under the subcharts' keys - then upgraded once, as a
long-lived release has been. A user's home claim is made as KubeSpawner makes it, and the hub
database's claim gets a marker.

Without the opt-in the validate play refuses the hub, naming what to run, while another hub
of the same run deploys; ``--check --diff`` with it says what it would do and changes nothing;
the takeover then makes the release the toolkit's jupyterhub release with the same hub database
claim (same uid, marker kept), the user's claim untouched, the umbrella's own claim kept, its
ConfigMap deleted, BinderHub recreated as a release of its own and the umbrella's revision
records gone, restarting the hub at most once and the proxy not at all; the runs after it
change nothing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_support import HubCase, hub_render
from support import (
    ROOT,
    SHARED_CHARTS,
    PlaybookRun,
    local_hub_vars,
    local_inventory,
    project_env,
    remove_namespaces,
    run_playbook,
)

HUB = "tko-umbrella"  # the hub taken over: its namespace and the umbrella release's name
BYSTANDER = "tko-bystander"  # another hub of the same run, deployed while HUB is refused
USER_CLAIM = "claim-alice"
UMBRELLA_CLAIM = f"{HUB}-home-nfs"
UMBRELLA_CONFIG = f"{HUB}-umbrella-config"
MARKER = "imagebuilding-hubs-test/marker"
PROFILES = [{"display_name": "Course", "slug": "course", "default": True,
             "kubespawner_override": {"image": "quay.io/jupyter/minimal-notebook:2024-03-18"}}]
OWN_TEMPLATES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-umbrella-config
data:
  greeting: only the umbrella chart renders this
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .Release.Name }}-home-nfs
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"""


def kubectl(*args: str) -> Any:  # noqa: ANN401 - kubectl's JSON
    out = subprocess.run(["kubectl", *args, "-n", HUB, "-o", "json"], env=project_env(), capture_output=True, text=True,
                         check=False)
    return json.loads(out.stdout) if out.returncode == 0 else None


def helm(*args: str, stdin: str | None = None, namespace: str = HUB) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["helm", *args, "-n", namespace], env=project_env(), input=stdin, capture_output=True,
                          text=True, check=False, timeout=600)


def chart_version(chart: str) -> str:
    return str(yaml.safe_load((SHARED_CHARTS / chart / "Chart.yaml").read_text())["version"])


def umbrella_chart(directory: Path) -> Path:
    """The incumbent's umbrella chart: z2jh and binderhub-service as subcharts, and its own templates."""
    chart = directory / "basehub"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": "basehub", "version": "0.3.0", "description": "an incumbent's umbrella chart",
        "dependencies": [
            {"name": "jupyterhub", "version": chart_version("jupyterhub"),
             "repository": f"file://{SHARED_CHARTS / 'jupyterhub'}"},
            {"name": "binderhub-service", "version": chart_version("binderhub-service"),
             "repository": f"file://{SHARED_CHARTS / 'binderhub-service'}", "condition": "binderhub-service.enabled"},
        ]}))
    (chart / "templates" / "own.yaml").write_text(OWN_TEMPLATES)
    built = subprocess.run(["helm", "dependency", "build", str(chart)], env=project_env(), capture_output=True,
                           text=True, check=False)
    assert built.returncode == 0, built.stderr
    return chart


def revisions() -> list[dict[str, Any]]:
    listed = helm("history", HUB, "-o", "json")
    return json.loads(listed.stdout) if listed.returncode == 0 else []


def helm_secrets() -> list[str]:
    found = subprocess.run(["kubectl", "get", "secrets", "-n", HUB, "-l", f"owner=helm,name={HUB}", "-o", "name"],
                           env=project_env(), capture_output=True, text=True, check=True)
    return sorted(found.stdout.split())


def snapshot() -> dict[str, Any]:
    """What the runs must keep or may change, read from the cluster."""
    claims = {item["metadata"]["name"]: item for item in (kubectl("get", "pvc") or {"items": []})["items"]}
    deployments = {item["metadata"]["name"]: item for item in (kubectl("get", "deployments") or {"items": []})["items"]}
    return {
        "revisions": revisions(),
        "helm_secrets": helm_secrets(),
        "claims": {name: {"uid": claim["metadata"]["uid"], "resourceVersion": claim["metadata"]["resourceVersion"],
                          "annotations": claim["metadata"].get("annotations") or {},
                          "volume": claim["spec"].get("volumeName")} for name, claim in claims.items()},
        "config": kubectl("get", "configmap", UMBRELLA_CONFIG),
        "rollouts": {name: int((d["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
                     for name, d in deployments.items()},
        "uids": {name: d["metadata"]["uid"] for name, d in deployments.items()},
    }


def install_umbrella(root: Path, inventory: Path) -> None:
    rendered = hub_render(HubCase(HUB, HUB, inventory))
    values = {"jupyterhub": rendered.values["jupyterhub"],
              "binderhub-service": {"enabled": True, **rendered.values["binderhub-service"]}}
    chart = umbrella_chart(root)
    for verb in ("install", "upgrade"):  # a long-lived release: its generated keys and checksums settled
        done = helm(verb, HUB, str(chart), "--create-namespace", "--wait", "--timeout", "5m", "--values", "-",
                    stdin=yaml.safe_dump(values))
        assert done.returncode == 0, done.stderr
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": USER_CLAIM, "namespace": HUB,
                          "labels": {"app": "jupyterhub", "component": "singleuser-storage", "heritage": "jupyterhub",
                                     "hub.jupyter.org/username": "alice"},
                          "annotations": {"hub.jupyter.org/username": "alice"}},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    made = subprocess.run(["kubectl", "apply", "-f", "-"], input=json.dumps(claim), env=project_env(),
                          capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    marked = subprocess.run(["kubectl", "annotate", "pvc", "hub-db-dir", "-n", HUB, f"{MARKER}=the-incumbents-database"],
                            env=project_env(), capture_output=True, text=True, check=False)
    assert marked.returncode == 0, marked.stderr


@pytest.fixture(scope="module")
def runs(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not (ROOT / "inventories" / "local" / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    root = tmp_path_factory.mktemp("umbrella")
    values_files = ["values/local-cluster.values.yaml"]
    inventory = local_inventory(root / "inventory", {
        HUB: local_hub_vars(HUB, hub_values_files=values_files),
        BYSTANDER: local_hub_vars(BYSTANDER, hub_values_files=values_files, jupyterhub_profiles=PROFILES,
                                  jupyterhub_storage={"type": "none"}),
    })
    env = project_env(HUB_ROLLOUT_REPORT=str(root / "rollout.json"))
    playbook = ("-i", str(inventory), "playbooks/hub.yml")
    found: dict[str, Any] = {}
    try:
        remove_namespaces([HUB, BYSTANDER], project_env(KUBECONFIG=str(kubeconfig)))
        install_umbrella(root, inventory)
        found["installed"] = snapshot()
        found["refused"] = run_playbook(*playbook, env=env, timeout=1500)
        found["bystander"] = helm("status", BYSTANDER, "-o", "json", namespace=BYSTANDER)
        found["after refusal"] = snapshot()
        opt_in = ("-l", HUB, "-e", "hub_takeover_release=true")
        found["check"] = run_playbook(*playbook, *opt_in, "--check", "--diff", env=env, timeout=1500)
        found["after check"] = snapshot()
        found["takeover"] = run_playbook(*playbook, *opt_in, env=env, timeout=1500)
        found["after takeover"] = snapshot()
        found["report"] = json.loads((root / "rollout.json").read_text())
        found["again"] = run_playbook(*playbook, *opt_in, env=env, timeout=1500)
        found["check again"] = run_playbook(*playbook, *opt_in, "--check", "--diff", env=env, timeout=1500)
        found["after again"] = snapshot()
        for key, run in found.items():  # each run's output and the snapshots beside the inventory, for a reader
            if isinstance(run, PlaybookRun):
                (root / f"{key.replace(' ', '-')}.log").write_text(run.output)
        (root / "snapshots.json").write_text(json.dumps(
            {key: value for key, value in found.items() if key.startswith(("installed", "after"))}, indent=1))
        yield found
    finally:
        remove_namespaces([HUB, BYSTANDER], project_env(KUBECONFIG=str(kubeconfig)))


def test_without_the_opt_in_validation_refuses_the_hub_and_the_others_deploy(runs: dict[str, Any]) -> None:
    run = runs["refused"]
    assert run.rc != 0
    assert (f"hub {HUB}: release '{HUB}' in namespace {HUB} is chart basehub 0.3.0, not jupyterhub" in run.output)
    assert f"playbooks/hub.yml -l {HUB} -e hub_takeover_release=true --check --diff" in run.output
    assert "TASK [Check the releases already under the hub's release names]" in run.output
    assert run.recap()[HUB]["failed"] == 1 and run.recap()[BYSTANDER]["failed"] == 0, run.output[-4000:]
    assert runs["bystander"].returncode == 0 and json.loads(runs["bystander"].stdout)["info"]["status"] == "deployed"
    assert runs["after refusal"] == runs["installed"]  # nothing of the hub changed


def test_check_mode_says_what_it_would_do_and_changes_nothing(runs: dict[str, Any]) -> None:
    run = runs["check"]
    assert run.rc == 0, run.output[-6000:]
    assert f"release '{HUB}' in {HUB} (basehub 0.3.0, revision 2) would be taken over" in run.output
    for line in ("adopted by tko-umbrella: PersistentVolumeClaim hub-db-dir",
                 f"deleted: ConfigMap {UMBRELLA_CONFIG} (only basehub renders it)",
                 f"kept: PersistentVolumeClaim {UMBRELLA_CLAIM} (a PersistentVolumeClaim is never deleted)",
                 f"recreated by {HUB}-binderhub: Deployment binderhub"):
        assert line in run.output, line
    assert runs["after check"] == runs["installed"]


def test_the_hub_is_the_toolkits_release_with_its_database_and_home_claims_kept(runs: dict[str, Any]) -> None:
    run = runs["takeover"]
    assert run.rc == 0, run.output[-8000:]
    history = runs["after takeover"]["revisions"]
    assert [(r["revision"], r["chart"], r["status"]) for r in history] == [(3, f"jupyterhub-{chart_version('jupyterhub')}",
                                                                           "deployed")]
    assert runs["after takeover"]["helm_secrets"] == [f"secret/sh.helm.release.v1.{HUB}.v3"]  # the umbrella's records gone
    before, after = runs["installed"]["claims"], runs["after takeover"]["claims"]
    # The hub database: the same claim, the same volume, the marker still on it, no keep mark left.
    assert after["hub-db-dir"]["uid"] == before["hub-db-dir"]["uid"]
    assert after["hub-db-dir"]["volume"] == before["hub-db-dir"]["volume"]
    assert after["hub-db-dir"]["annotations"][MARKER] == "the-incumbents-database"
    assert after["hub-db-dir"]["annotations"]["meta.helm.sh/release-name"] == HUB
    assert "helm.sh/resource-policy" not in after["hub-db-dir"]["annotations"]
    # A user's home directory: not a release's, never touched.
    assert after[USER_CLAIM] == before[USER_CLAIM]
    # The umbrella's own claim: kept (marked keep), reported.
    assert after[UMBRELLA_CLAIM]["uid"] == before[UMBRELLA_CLAIM]["uid"]
    assert after[UMBRELLA_CLAIM]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert f"kept after taking over release '{HUB}', owned by no release now" in run.output
    # What only the umbrella renders: deleted.
    assert runs["after takeover"]["config"] is None
    assert f"deleted: ConfigMap {UMBRELLA_CONFIG}" in run.output


def test_binderhub_is_recreated_as_a_release_of_its_own(runs: dict[str, Any]) -> None:
    status = helm("status", f"{HUB}-binderhub", "-o", "json")
    assert status.returncode == 0 and json.loads(status.stdout)["info"]["status"] == "deployed"
    assert runs["after takeover"]["uids"]["binderhub"] != runs["installed"]["uids"]["binderhub"]
    assert f"recreated by {HUB}-binderhub: Deployment binderhub" in runs["takeover"].output


def test_the_hub_restarts_at_most_once_and_the_proxy_not_at_all(runs: dict[str, Any]) -> None:
    before, after = runs["installed"], runs["after again"]
    assert after["revisions"][-1]["chart"].startswith("jupyterhub-")  # taken over, by an upgrade in place:
    assert after["uids"]["hub"] == before["uids"]["hub"] and after["uids"]["proxy"] == before["uids"]["proxy"]
    assert after["rollouts"]["hub"] - before["rollouts"]["hub"] <= 1
    assert after["rollouts"]["proxy"] == before["rollouts"]["proxy"]


def test_the_rollout_report_says_the_release_changed(runs: dict[str, Any]) -> None:
    rows = {r["release"]: r for r in runs["report"]["releases"] if r["hub"] == HUB}
    assert rows[HUB]["status"] == "changed" and rows[HUB]["revision_before"] == 2 and rows[HUB]["revision_after"] == 3


def test_the_runs_after_the_takeover_change_nothing(runs: dict[str, Any]) -> None:
    for key in ("again", "check again"):
        run: PlaybookRun = runs[key]
        assert run.rc == 0, run.output[-6000:]
        assert run.recap()[HUB]["changed"] == 0, (key, run.output[-6000:])
    assert "taken over" not in runs["check again"].output
    assert runs["after again"]["revisions"] == runs["after takeover"]["revisions"]
    assert runs["after again"]["claims"] == runs["after takeover"]["claims"]
