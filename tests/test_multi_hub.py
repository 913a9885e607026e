"""Five hubs on one embedded cluster, with the genuine charts: every hub deploys, a second run
changes nothing, and `--check --diff` tells the truth right after a deploy.

The genuine z2jh chart names its user-scheduler ClusterRole and ClusterRoleBinding and its
PriorityClasses after the release, and dask-gateway its ClusterRoles: with one release name
for every hub, the second hub of a cluster failed ("invalid ownership metadata"). Here the
user-scheduler and pod priority are switched on for every hub, so each hub really creates
those cluster-scoped objects, beside the others'.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import (
    LOCAL_INVENTORY,
    PlaybookRun,
    local_hub_vars,
    local_inventory,
    project_env,
    release,
    remove_namespaces,
    run_playbook,
)

PLAYBOOK = "playbooks/hub.yml"
# hub -> (stage, dask-gateway, image pull secret)
HUBS = {
    "multi-a": ("staging", False, False),
    "multi-b": ("production", True, False),
    "multi-c": ("production", False, True),
    "multi-d": ("production", False, False),
    "multi-e": ("production", True, True),
}
# On top of the embedded cluster's values: the cluster-scoped objects the chart names after
# the release, created for real (the user-scheduler is a fake pod here, like every pod).
CLUSTER_SCOPED = {"jupyterhub": {"scheduling": {"userScheduler": {"enabled": True}, "podPriority": {"enabled": True}}}}


def write_inventory(root: Path) -> Path:
    hubs = {}
    for host, (stage, dask, pull_secret) in HUBS.items():
        hubs[host] = local_hub_vars(
            host, hub_stage=stage, hub_dask_gateway_enabled=dask, registry_pull_secret_required=pull_secret,
            jupyterhub_storage={"type": "none"},
            hub_values_files=["values/local-cluster.values.yaml", "values/cluster-scoped.values.yaml",
                              f"values/{host}.values.yaml"])
    values = {"cluster-scoped.values.yaml": CLUSTER_SCOPED,
              **{f"{host}.values.yaml": {"jupyterhub": {"cull": {"timeout": 3600}}} for host in HUBS}}
    return local_inventory(root / "inventory", hubs, values)


def kubectl_json(*args: str) -> dict[str, Any]:
    out = subprocess.run(["kubectl", *args, "-o", "json"], env=project_env(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def helm_list(namespace: str) -> dict[str, dict[str, Any]]:
    out = subprocess.run(["helm", "list", "-n", namespace, "-a", "-o", "json"], env=project_env(), capture_output=True,
                         text=True, check=True)
    return {entry["name"]: entry for entry in json.loads(out.stdout)}


def revisions() -> dict[tuple[str, str], str]:
    return {(hub, name): entry["revision"] for hub in HUBS for name, entry in helm_list(hub).items()}


@pytest.fixture(scope="module")
def fleet(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not (LOCAL_INVENTORY / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    env = project_env(KUBECONFIG=str(kubeconfig))
    inventory = write_inventory(tmp_path_factory.mktemp("multi"))
    try:
        first = run_playbook("-i", str(inventory), PLAYBOOK, env=env, timeout=1800)
        assert first.rc == 0, first.output[-8000:]
        yield {"inventory": inventory, "first": first, "first_rows": first.report_rows(), "env": env}
    finally:
        remove_namespaces(HUBS, env)


def test_every_hub_of_the_cluster_is_deployed_with_releases_named_after_it(fleet: dict[str, Any]) -> None:
    for hub, (_, dask, _) in HUBS.items():
        releases = helm_list(hub)
        expected = {release(hub, "jupyterhub"), release(hub, "binderhub-service")} | (
            {release(hub, "dask-gateway")} if dask else set())
        assert set(releases) == expected, (hub, releases)
        assert {entry["status"] for entry in releases.values()} == {"deployed"}, (hub, releases)
        assert releases[hub]["chart"] == "jupyterhub-4.4.0"


def test_a_first_install_of_the_hub_takes_one_helm_upgrade(fleet: dict[str, Any]) -> None:
    """z2jh's generated values are seeded before its first install (plugin_utils/chart_seeds.py):
    one upgrade, revision 1 - its install hooks (the image pre-puller, the image pull secret) are
    no reason for another - and a --check --diff right after it finds nothing (below)."""
    hub_rows = {row["hub"]: row for row in fleet["first_rows"] if row["chart"] == "jupyterhub"}
    assert set(hub_rows) == set(HUBS), fleet["first_rows"]
    assert all((row["helm"], row["revision_after"]) == (["upgrade"], 1) for row in hub_rows.values()), hub_rows


def test_each_release_owns_its_cluster_scoped_objects(fleet: dict[str, Any]) -> None:
    """The objects that made the second hub fail exist once per hub, each owned by its hub's release."""
    owners: dict[tuple[str, str], str] = {}
    for kind in ("clusterroles", "clusterrolebindings", "priorityclasses"):
        for item in kubectl_json("get", kind)["items"]:
            annotations = item["metadata"].get("annotations") or {}
            if annotations.get("meta.helm.sh/release-namespace") in HUBS:
                owners[(kind, item["metadata"]["name"])] = annotations["meta.helm.sh/release-name"]
    for hub, (_, dask, _) in HUBS.items():
        assert owners[("clusterroles", f"{hub}-user-scheduler")] == hub
        assert owners[("clusterrolebindings", f"{hub}-user-scheduler")] == hub
        assert owners[("priorityclasses", f"{hub}-default-priority")] == hub
        if dask:
            assert owners[("clusterroles", f"api-{hub}-dask-gateway")] == f"{hub}-dask-gateway"


def test_pull_secret_and_dask_gateway_where_asked(fleet: dict[str, Any]) -> None:
    for hub, (_, dask, pull_secret) in HUBS.items():
        names = {item["metadata"]["name"] for item in kubectl_json("-n", hub, "get", "secrets")["items"]}
        assert ("image-pull-secret" in names) is pull_secret, (hub, names)
        deployments = {item["metadata"]["name"] for item in kubectl_json("-n", hub, "get", "deployments")["items"]}
        assert ({"hub", "proxy", "binderhub", "user-scheduler"} <= deployments), (hub, deployments)
        assert (f"api-{hub}-dask-gateway" in deployments) is dask, (hub, deployments)


def check_diff(fleet: dict[str, Any], *args: str) -> PlaybookRun:
    run = run_playbook("-i", str(fleet["inventory"]), PLAYBOOK, "--check", "--diff", *args, env=fleet["env"],
                       timeout=1800)
    assert run.rc == 0, run.output[-8000:]
    return run


def test_second_run_changes_nothing(fleet: dict[str, Any]) -> None:
    before = revisions()
    second = run_playbook("-i", str(fleet["inventory"]), PLAYBOOK, env=fleet["env"], timeout=1800)
    assert second.rc == 0, second.output[-8000:]
    assert second.changed() == 0, second.output[-8000:]
    # Every hub is skipped as unchanged (a skipped hub runs no task of its own, so the recap
    # does not list it; the report does).
    rows = second.report_rows()
    assert {row["hub"] for row in rows} == set(HUBS), rows
    assert {row["status"] for row in rows} == {"unchanged"}, rows
    assert revisions() == before


def test_check_diff_right_after_a_deploy_reports_no_change(fleet: dict[str, Any]) -> None:
    """The charts' generated secrets (found by `lookup`) are no drift: helm diff sees the cluster."""
    before = revisions()
    run = check_diff(fleet)
    assert run.changed() == 0, run.output[-8000:]
    assert not re.search(r"^[+-] ", run.output, re.MULTILINE), run.output[-8000:]
    assert revisions() == before


HEADER = re.compile(r"^(?P<namespace>[a-z0-9-]+), (?P<name>[a-z0-9.-]+), (?P<kind>\S+) \(\S+\) "
                    r"has (?P<what>changed|been added|been removed):$")


def diff_sections(output: str) -> dict[tuple[str, str, str], list[str]]:
    """(namespace, name, kind) -> the changed lines (+/-) of each object in helm diff's output."""
    sections: dict[tuple[str, str, str], list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if header := HEADER.match(line):
            current = sections.setdefault((header["namespace"], header["name"], header["kind"]), [])
        elif line.startswith("TASK ["):
            current = None
        elif current is not None and line.startswith(("+", "-")):
            current.append(line)
    return sections


def test_check_diff_reports_exactly_one_changed_value(fleet: dict[str, Any]) -> None:
    """One changed value of one hub: that hub alone would change, by that value alone. z2jh keeps
    all its values in the hub Secret (shown redacted) and the hub pod carries a checksum of it, so
    those change too; every other line of the diff is the value."""
    inventory: Path = fleet["inventory"]
    values = inventory / "values" / "multi-d.values.yaml"
    original = values.read_text()
    before = revisions()
    try:
        values.write_text(yaml.safe_dump({"jupyterhub": {"cull": {"timeout": 3600},
                                                         "proxy": {"chp": {"resources": {"requests": {"cpu": "123m"}}}}}}))
        run = check_diff(fleet)
    finally:
        values.write_text(original)
    recap = run.recap()
    assert recap["multi-d"]["changed"] >= 1, run.output[-8000:]
    assert all(recap[hub]["changed"] == 0 for hub in HUBS if hub != "multi-d"), recap
    sections = diff_sections(run.output)
    assert set(sections) == {("multi-d", "proxy", "Deployment"), ("multi-d", "hub", "Secret"),
                             ("multi-d", "hub", "Deployment")}, run.output[-8000:]
    assert [line.split(":")[0].strip() for line in sections[("multi-d", "hub", "Deployment")]] == \
        ["-         checksum/secret", "+         checksum/secret"]
    secret = sections[("multi-d", "hub", "Secret")]
    assert secret and all("values.yaml" in line and "bytes" in line for line in secret), secret
    assert [line.strip() for line in sections[("multi-d", "proxy", "Deployment")]] == \
        ["+           resources:", "+             requests:", "+               cpu: 123m"]
    assert revisions() == before
