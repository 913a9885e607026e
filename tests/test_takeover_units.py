"""Taking a hub over from the incumbent's release, without a cluster: reading a release's manifest,
each object's fate, the refusals, the marks and the check mode's stand-ins
(plugins/plugin_utils/release_takeover.py; the embedded cluster's test is test_takeover_umbrella.py)."""

from __future__ import annotations

import pytest
from ansible_collections.imagebuilding.hubs.plugins.action.hub_release import this_run
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import ReleaseRef, diff_command, dry_run_command
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.release_takeover import (
    ADOPTED,
    DELETED,
    KEEP_ANNOTATION,
    KEPT,
    MARK_ANNOTATION,
    RECREATED,
    RELEASE_NAME_ANNOTATION,
    Fate,
    ManifestObject,
    Takeover,
    foreign,
    keep_patch,
    leftover,
    manifest_objects,
    outcome,
    plan,
    problems,
    refusal,
    summary,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import (
    IMAGE_PULL_KEYS,
    REGISTRY_PASSWORD_PATHS,
    rollout_written_keys,
)

HUB = "staging"
OLD = f"""---
# Source: basehub/charts/jupyterhub/templates/hub/pvc.yaml
kind: PersistentVolumeClaim
apiVersion: v1
metadata:
  name: hub-db-dir
---
# Source: basehub/charts/jupyterhub/templates/hub/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hub
---
# Source: basehub/charts/jupyterhub/templates/hub/pdb.yaml
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: hub
---
# Source: basehub/charts/binderhub-service/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: binderhub
---
# Source: basehub/charts/binderhub-service/templates/cache.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: build-cache
---
# Source: basehub/templates/nfs/pvc.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: home-nfs
---
# Source: basehub/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: {HUB}-custom
  data:
    not-a-separator: |
      ---
      indented: true
---
# Source: basehub/templates/kept.yaml
apiVersion: v1
kind: Secret
metadata:
  name: kept-by-the-chart
  annotations:
    helm.sh/resource-policy: keep
---
# Source: basehub/templates/namespace.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: {HUB}
  namespace: ""
---
# Source: basehub/charts/exporter/templates/list.yaml
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: exporter
      namespace: elsewhere
"""
NEW = """---
# Source: jupyterhub/templates/hub/pvc.yaml
kind: PersistentVolumeClaim
apiVersion: v1
metadata:
  name: hub-db-dir
---
# Source: jupyterhub/templates/hub/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hub
---
# Source: jupyterhub/templates/hub/pdb.yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: hub
"""
TAKEOVER = Takeover(HUB, HUB, HUB, "basehub", "0.3.0", 7,
                    {"jupyterhub": HUB, "binderhub-service": f"{HUB}-binderhub"})


@pytest.fixture
def planned() -> list[Fate]:
    """The takeover's plan of the umbrella release OLD into the hub's releases (NEW for jupyterhub)."""
    return plan(TAKEOVER, manifest_objects(OLD, HUB), manifest_objects(NEW, HUB))


def test_a_manifest_is_read_object_by_object_with_its_template_and_namespace() -> None:
    objects = manifest_objects(OLD, HUB)
    assert [o.label for o in objects] == [
        "PersistentVolumeClaim hub-db-dir", "Deployment hub", "PodDisruptionBudget hub", "Deployment binderhub",
        "PersistentVolumeClaim build-cache", "PersistentVolumeClaim home-nfs", f"ConfigMap {HUB}-custom",
        "Secret kept-by-the-chart", f"Namespace {HUB}", "Service exporter"]
    assert objects[0].source == "basehub/charts/jupyterhub/templates/hub/pvc.yaml"
    assert objects[0].namespace == HUB and objects[-1].namespace == "elsewhere"
    assert [o.keep for o in objects] == [False] * 7 + [True, False, False]
    # policy/v1beta1 and policy/v1 name the same object
    assert objects[2].key == manifest_objects(NEW, HUB)[2].key


def test_the_chart_that_rendered_an_object_is_the_innermost_the_hub_deploys() -> None:
    charts = {"jupyterhub", "dask-gateway"}
    assert ManifestObject("v1", "Secret", "hub", HUB, "daskhub/charts/basehub/charts/jupyterhub/templates/x.yaml").chart(
        charts) == "jupyterhub"
    assert ManifestObject("v1", "Secret", "x", HUB, "daskhub/charts/dask-gateway/templates/x.yaml").chart(charts) == \
        "dask-gateway"
    assert ManifestObject("v1", "Secret", "x", HUB, "daskhub/charts/basehub/templates/x.yaml").chart(charts) == ""
    assert ManifestObject("v1", "Secret", "x", HUB, "jupyterhub/templates/charts/x.yaml").chart(charts) == "jupyterhub"


def test_each_object_of_the_umbrella_gets_its_fate(planned: list[Fate]) -> None:
    assert {f"{f.obj.kind} {f.obj.name}": (f.fate, f.release) for f in planned} == {
        "PersistentVolumeClaim hub-db-dir": (ADOPTED, HUB),  # the hub database: the same object
        "Deployment hub": (ADOPTED, HUB),
        "PodDisruptionBudget hub": (ADOPTED, HUB),
        "Deployment binderhub": (RECREATED, f"{HUB}-binderhub"),  # its selectors name the release
        "PersistentVolumeClaim build-cache": (KEPT, f"{HUB}-binderhub"),  # kept, for that release to adopt
        "PersistentVolumeClaim home-nfs": (KEPT, ""),  # never deleted
        f"ConfigMap {HUB}-custom": (DELETED, ""),  # only the umbrella renders it
        "Secret kept-by-the-chart": (KEPT, ""),
        f"Namespace {HUB}": (KEPT, ""),
        "Service exporter": (DELETED, ""),  # a subchart the hub deploys no release of
    }
    assert problems(TAKEOVER, planned) == []


def test_a_takeover_that_would_leave_the_hub_database_behind_is_refused() -> None:
    new = [o for o in manifest_objects(NEW, HUB) if o.kind != "PersistentVolumeClaim"]  # e.g. hub.db.type changed
    refused = problems(TAKEOVER, plan(TAKEOVER, manifest_objects(OLD, HUB), new))
    assert len(refused) == 1
    assert refused[0].startswith(f"hub {HUB}: release '{HUB}' (basehub 0.3.0) has PersistentVolumeClaim hub-db-dir "
                                 "from its jupyterhub subchart")
    assert "Nothing was changed" in refused[0] and f"helm get values {HUB} -n {HUB}" in refused[0]


def test_what_is_kept_is_marked_keep_and_a_claim_for_another_release_named_for_it(planned: list[Fate]) -> None:
    by_name = {f.obj.name: f for f in planned}
    assert keep_patch(TAKEOVER, by_name["home-nfs"]) == {
        "metadata": {"annotations": {KEEP_ANNOTATION: "keep", MARK_ANNOTATION: HUB}}}
    assert keep_patch(TAKEOVER, by_name["build-cache"])["metadata"]["annotations"][RELEASE_NAME_ANNOTATION] == \
        f"{HUB}-binderhub"
    for name in ("hub-db-dir", "binderhub", f"{HUB}-custom", "kept-by-the-chart"):  # adopted, recreated, deleted,
        assert keep_patch(TAKEOVER, by_name[name]) is None, name  # or already kept by the chart


def test_a_leftover_is_deleted_only_when_it_is_still_the_old_releases_and_deletable() -> None:
    config = ManifestObject("v1", "ConfigMap", "x", HUB)
    mine = {"metadata": {"annotations": {RELEASE_NAME_ANNOTATION: HUB}}}
    assert leftover(config, mine, HUB)
    assert not leftover(config, None, HUB)  # gone already
    assert not leftover(config, {"metadata": {"annotations": {RELEASE_NAME_ANNOTATION: f"{HUB}-binderhub"}}}, HUB)
    assert not leftover(config, {"metadata": {"annotations": {RELEASE_NAME_ANNOTATION: HUB, KEEP_ANNOTATION: "keep"}}},
                        HUB)
    assert not leftover(ManifestObject("v1", "PersistentVolumeClaim", "x", HUB), mine, HUB)


def test_the_outcome_says_what_became_of_each_object() -> None:
    old = manifest_objects(OLD, HUB)
    binderhub = [o for o in old if o.name in ("binderhub", "build-cache")]
    live = {o.key: o.name in ("home-nfs", "kept-by-the-chart", HUB) for o in old}
    found = {f"{f.obj.kind} {f.obj.name}": (f.fate, f.release)
             for f in outcome(TAKEOVER, old, {HUB: manifest_objects(NEW, HUB), f"{HUB}-binderhub": binderhub}, live)}
    assert found["PersistentVolumeClaim hub-db-dir"] == (ADOPTED, HUB)
    assert found["Deployment binderhub"] == (RECREATED, f"{HUB}-binderhub")
    assert found["PersistentVolumeClaim build-cache"] == (ADOPTED, f"{HUB}-binderhub")
    assert found["PersistentVolumeClaim home-nfs"] == (KEPT, "")
    assert found[f"ConfigMap {HUB}-custom"] == (DELETED, "")
    assert summary(outcome(TAKEOVER, old, {HUB: manifest_objects(NEW, HUB)}, live))[KEPT] == [
        "PersistentVolumeClaim home-nfs", "Secret kept-by-the-chart", f"Namespace {HUB}"]


def test_the_refusals_say_what_to_run() -> None:
    message = refusal(HUB, f"2i2c-{HUB}", "fleet.yml", TAKEOVER)
    assert message.startswith(f"hub {HUB}: release '{HUB}' in namespace {HUB} is chart basehub 0.3.0, not jupyterhub")
    assert (f"ansible-playbook -i fleet.yml playbooks/hub.yml -l 2i2c-{HUB} -e hub_takeover_release=true --check "
            "--diff, then run it without --check") in message
    assert "Nothing was changed" in message and "README: Taking over from the incumbent's release" in message
    other = foreign(HUB, f"{HUB}-binderhub", HUB, "binderhub 1.0", "binderhub-service", "binderhub_service_release_name")
    assert "binderhub_service_release_name" in other and f"helm uninstall {HUB}-binderhub -n {HUB}" in other


def test_the_new_manifest_comes_from_a_server_side_dry_run_and_a_later_release_diffs_without_the_cluster() -> None:
    ref = ReleaseRef(HUB, HUB, "/charts/jupyterhub", "4.4.0")
    command = dry_run_command(ref)
    assert command[:4] == ["helm", "upgrade", HUB, "/charts/jupyterhub"]
    assert "--dry-run=server" in command and command[-2:] == ["--values", "-"]
    assert "--install" not in command  # a release that does not exist is nothing to take over
    assert "--disable-validation" in diff_command(ref, validate=False)
    assert "--disable-validation" not in diff_command(ref)


def test_check_mode_stands_in_only_for_keys_the_rollout_writes() -> None:
    written = rollout_written_keys([{"path": "jupyterhub.hub.services.binder.apiToken", "length": 64},
                                    "jupyterhub.hub.services.hub-smoke.apiToken", 7])
    assert written == {*REGISTRY_PASSWORD_PATHS, *IMAGE_PULL_KEYS, "jupyterhub.hub.services.binder.apiToken",
                       "jupyterhub.hub.services.hub-smoke.apiToken"}
    assert rollout_written_keys(None) == {*REGISTRY_PASSWORD_PATHS, *IMAGE_PULL_KEYS}


def test_the_report_keeps_the_takeovers_change_when_the_roles_task_finds_the_release_unchanged() -> None:
    changed = {"release": HUB, "namespace": HUB, "status": "changed", "revision_before": 7, "revision_after": 8}
    unchanged = {**changed, "status": "unchanged", "revision_before": 8}
    assert this_run(unchanged, [changed]) is changed
    assert this_run({**unchanged, "revision_after": 9}, [changed])["revision_after"] == 9  # another revision since
    assert this_run(unchanged, []) is unchanged
