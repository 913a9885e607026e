"""Companion releases (hub_companion_releases) deployed with two hubs on the embedded cluster, with
the genuine jupyterhub chart and a chart of the tests' own (tests/companion_support.py: a
Deployment, a Service, a PVC and a values.schema.json) written beside the throwaway inventory.

Hub A has a companion before its own releases (an NFS server stand-in, in its namespace, with a
plain and a sops-encrypted values file) and one after them (an exporter stand-in, in a namespace
of its own). Hub B has one after its own. The runs, in order:

1. the first deploy: the releases in the order the inventory says, a report row per companion;
2. again: the no-op fast path (the companions' values files and chart are inputs of the digest);
3. ``--check --diff``: nothing would change;
4. A's NFS values change while B's companion becomes unschedulable (a 20 s timeout), with
   ``--diff``: A's NFS release alone is upgraded, B's companion is rolled back and reported
   failed, A is not touched by it; the encrypted token is in no output and no file;
5. ``playbooks/status.yml``: both of A's companions in the version map, without drift;
6. the exporter taken out of A's list: a warning names it and how to uninstall it; it keeps running;
   B listing a companion of that name and namespace is refused: it is A's.
"""

from __future__ import annotations

import datetime
import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import deployed_at
from companion_support import APP_VERSION, CHART, VERSION, write_chart
from fleet_support import AgeKey, sops_encrypt_to
from support import ROOT, PlaybookRun, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

SUFFIX = secrets.token_hex(3)
HUB_A, HUB_B = f"comp-a-{SUFFIX}", f"comp-b-{SUFFIX}"
METRICS = f"comp-metrics-{SUFFIX}"  # the exporter's namespace of its own
NFS, EXPORTER, BROKEN = f"{HUB_A}-{CHART}", f"{HUB_A}-exporter", f"{HUB_B}-{CHART}"
TOKEN = f"nfs-export-{secrets.token_hex(12)}"  # in the sops-encrypted values file only
PROFILES = [{"display_name": "Course", "slug": "course", "default": True,
             "kubespawner_override": {"image": "quay.io/jupyter/minimal-notebook:2024-03-18"}}]


def hub_vars(hub: str, companions: list[dict[str, Any]]) -> dict[str, Any]:
    return local_hub_vars(hub, jupyterhub_profiles=PROFILES, jupyterhub_storage={"type": "none"},
                          hub_values_files=["values/local-cluster.values.yaml"], hub_companion_releases=companions)


def companions_a(with_exporter: bool = True) -> list[dict[str, Any]]:
    nfs = {"chart": f"../charts/{CHART}", "order": "before", "values": {"quota": {"enabled": True}},
           "values_files": ["values/nfs.values.yaml", "values/nfs.secret.values.yaml"]}
    exporter = {"chart": f"../charts/{CHART}", "version": VERSION, "name": EXPORTER, "namespace": METRICS,
                "order": "after", "wait": False, "values": {"storage": {"size": "2Gi"}}}
    return [nfs, exporter] if with_exporter else [nfs]


def companions_b(node_selector: dict[str, str] | None = None, claim_exporter: bool = False) -> list[dict[str, Any]]:
    values = {"nodeSelector": node_selector} if node_selector else {}
    claim = [{"chart": f"../charts/{CHART}", "name": EXPORTER, "namespace": METRICS}] if claim_exporter else []
    return [{"chart": f"../charts/{CHART}", "timeout": "20s", "values": values}, *claim]


def local_age_key() -> AgeKey:
    key_file = Path(project_env().get("SOPS_AGE_KEY_FILE") or ROOT / ".local" / "age" / "keys.txt")
    recipient = subprocess.run(["age-keygen", "-y", str(key_file)], env=project_env(), capture_output=True, text=True,
                               check=True).stdout.strip()
    return AgeKey(key_file, recipient)


def write_hubs(inventory: Path, a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    for hub, companions in ((HUB_A, a), (HUB_B, b)):
        (inventory / "host_vars" / f"{hub}.yml").write_text(yaml.safe_dump(hub_vars(hub, companions)))


def helm_json(*args: str) -> Any:  # noqa: ANN401 - helm's JSON
    out = subprocess.run(["helm", *args, "-o", "json"], env=project_env(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def revisions(namespace: str) -> dict[str, int]:
    return {r["name"]: int(r["revision"]) for r in helm_json("list", "-a", "-n", namespace)}


def last_deployed(release: str, namespace: str) -> datetime.datetime:
    stamp = deployed_at(helm_json("status", release, "-n", namespace))
    assert stamp is not None
    return stamp


@dataclass
class Fleet:
    inventory: Path
    report: Path
    root: Path
    runs: list[PlaybookRun]

    def deploy(self, *extra: str) -> PlaybookRun:
        run = run_playbook("-i", str(self.inventory), "playbooks/hub.yml", "-l", f"{HUB_A},{HUB_B}", *extra,
                           env=project_env(HUB_ROLLOUT_REPORT=str(self.report)), timeout=1800)
        self.runs.append(run)
        return run

    def rows(self) -> dict[str, dict[str, Any]]:
        return {row["release"]: row for row in json.loads(self.report.read_text())["releases"]
                if row["hub"] in (HUB_A, HUB_B)}


@pytest.fixture(scope="module")
def fleet(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if not (ROOT / "inventories" / "local" / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    root = tmp_path_factory.mktemp("companions")
    inventory = local_inventory(root / "inventory", {HUB_A: hub_vars(HUB_A, companions_a()),
                                                     HUB_B: hub_vars(HUB_B, companions_b())},
                                {"nfs.values.yaml": {"quota": {"hardLimit": "20Gi"}, "storage": {"size": "1Gi"}}})
    write_chart(root / "charts" / CHART)  # beside the inventory: Ansible reads every file of an inventory directory
    sops_encrypt_to(inventory / "values" / "nfs.secret.values.yaml", {"exportToken": TOKEN}, local_age_key())
    fleet = Fleet(inventory, root / "rollout.json", root, [])
    try:
        fleet.deploy()
        yield fleet
    finally:
        remove_namespaces([HUB_A, HUB_B, METRICS], project_env(KUBECONFIG=str(kubeconfig)))


@pytest.fixture(scope="module")
def first(fleet: Fleet) -> PlaybookRun:
    run = fleet.runs[0]
    assert run.rc == 0, run.output[-8000:]
    return run


def test_companions_are_deployed_in_the_order_the_inventory_says(fleet: Fleet, first: PlaybookRun) -> None:
    # (z2jh's generated values are seeded before its first install: one upgrade, revision 1)
    assert revisions(HUB_A) == {HUB_A: 1, NFS: 1}
    assert revisions(METRICS) == {EXPORTER: 1}
    assert revisions(HUB_B) == {HUB_B: 1, BROKEN: 1}
    assert last_deployed(NFS, HUB_A) < last_deployed(HUB_A, HUB_A) < last_deployed(EXPORTER, METRICS)
    assert last_deployed(HUB_B, HUB_B) < last_deployed(BROKEN, HUB_B)
    # The final values: inline values under the values files, the encrypted file decrypted.
    values = helm_json("get", "values", NFS, "-n", HUB_A)
    assert values == {"quota": {"enabled": True, "hardLimit": "20Gi"}, "storage": {"size": "1Gi"}, "exportToken": TOKEN}
    # helm's records say whose companion a release is (what the warning about a dropped one reads).
    labels = subprocess.run(["kubectl", "get", "secrets", "-n", METRICS, "-l", f"name={EXPORTER}", "-o",
                             "jsonpath={.items[0].metadata.labels}"], env=project_env(), capture_output=True, text=True,
                            check=True).stdout
    assert json.loads(labels)["imagebuilding-hubs/companion-of"] == HUB_A


def test_each_companion_is_a_row_of_the_rollout_report(fleet: Fleet, first: PlaybookRun) -> None:
    rows = fleet.rows()
    for release, hub, namespace in ((NFS, HUB_A, HUB_A), (EXPORTER, HUB_A, METRICS), (BROKEN, HUB_B, HUB_B)):
        row = rows[release]
        assert (row["hub"], row["namespace"], row["chart"], row["chart_version"], row["app_version"]) == (
            hub, namespace, CHART, VERSION, APP_VERSION), row
        assert (row["status"], row["revision_before"], row["revision_after"], row["helm"]) == ("changed", 0, 1, ["upgrade"]), row
    assert rows[HUB_A]["chart"] == "jupyterhub" and rows[HUB_A]["status"] == "changed"
    table = first.output.split("PLAY RECAP", 1)[1]  # the callback's table, printed at the end
    assert f"{NFS} " in table and f"{EXPORTER} " in table, table


@pytest.fixture(scope="module")
def again(fleet: Fleet, first: PlaybookRun) -> PlaybookRun:
    return fleet.deploy()


def test_a_second_run_takes_the_fast_path(fleet: Fleet, again: PlaybookRun) -> None:
    assert again.rc == 0 and again.changed() == 0, again.output[-6000:]
    assert "TASK [Take the hub's rollout lock]" not in again.output, again.output[-6000:]
    rows = fleet.rows()
    assert {name: rows[name]["status"] for name in (NFS, EXPORTER, BROKEN)} == dict.fromkeys((NFS, EXPORTER, BROKEN),
                                                                                           "unchanged")
    assert rows[EXPORTER]["namespace"] == METRICS


@pytest.fixture(scope="module")
def checked(fleet: Fleet, again: PlaybookRun) -> PlaybookRun:
    return fleet.deploy("--check", "--diff")


def test_check_diff_would_change_nothing(checked: PlaybookRun) -> None:
    assert checked.rc == 0 and checked.changed() == 0, checked.output[-6000:]
    assert "companion releases of order before" in checked.output


@pytest.fixture(scope="module")
def changed(fleet: Fleet, checked: PlaybookRun) -> tuple[PlaybookRun, dict[str, int], dict[str, int]]:
    """A's NFS values change (a plain values file) and B's companion cannot be scheduled (a node
    label no node pool of the cluster has: the preflight's node pool rule lets it through)."""
    before = {**revisions(HUB_A), **revisions(METRICS), **revisions(HUB_B)}
    (fleet.inventory / "values" / "nfs.values.yaml").write_text(
        yaml.safe_dump({"quota": {"hardLimit": "30Gi"}, "storage": {"size": "1Gi"}}))
    write_hubs(fleet.inventory, companions_a(), companions_b({"example.org/disk": "nvme"}))
    run = fleet.deploy("--diff")
    return run, before, {**revisions(HUB_A), **revisions(METRICS), **revisions(HUB_B)}


def test_a_values_change_rolls_out_only_that_companion(fleet: Fleet,
                                                       changed: tuple[PlaybookRun, dict[str, int], dict[str, int]]) -> None:
    run, before, after = changed
    rows = fleet.rows()
    assert rows[NFS]["status"] == "changed" and after[NFS] == before[NFS] + 1, run.output[-6000:]
    assert rows[HUB_A]["status"] == "unchanged" and rows[HUB_A]["helm"] == [], rows[HUB_A]
    assert rows[EXPORTER]["status"] == "unchanged" and after[EXPORTER] == before[EXPORTER]
    assert after[HUB_A] == before[HUB_A]
    assert helm_json("get", "values", NFS, "-n", HUB_A)["quota"]["hardLimit"] == "30Gi"
    assert run.recap()[HUB_A]["failed"] == 0


def test_a_failing_companion_is_rolled_back_and_reported(fleet: Fleet,
                                                         changed: tuple[PlaybookRun, dict[str, int], dict[str, int]]) -> None:
    run, before, after = changed
    assert run.rc != 0 and run.recap()[HUB_B]["failed"] == 1, run.output[-6000:]
    row = fleet.rows()[BROKEN]
    assert row["status"] == "failed" and row["helm"] == ["diff", "upgrade", "rollback"], row
    history = helm_json("history", BROKEN, "-n", HUB_B)
    assert [(h["revision"], h["status"]) for h in history][-1] == (before[BROKEN] + 2, "deployed")
    assert "nvme" not in json.dumps(helm_json("get", "values", BROKEN, "-n", HUB_B))
    assert "did not roll out within 20s" in run.output and f"rolled back to revision {before[BROKEN]}" in run.output
    assert after[HUB_B] == before[HUB_B]  # its jupyterhub release came before and is as it was


def test_the_encrypted_companion_secret_is_in_no_output_and_no_file(
        fleet: Fleet, changed: tuple[PlaybookRun, dict[str, int], dict[str, int]]) -> None:
    run, _, _ = changed
    assert "EXPORT_TOKEN" in run.output  # the --diff showed the env var next to the changed quota: redacted
    for made in fleet.runs:
        assert TOKEN not in made.output
    leaked = [p for p in [*fleet.root.rglob("*"), *(ROOT / "reports").rglob("*")]
              if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert leaked == []


@pytest.fixture(scope="module")
def status(fleet: Fleet, changed: tuple[PlaybookRun, dict[str, int], dict[str, int]]) -> list[dict[str, Any]]:
    path = fleet.root / "status.json"
    run = run_playbook("-i", str(fleet.inventory), "playbooks/status.yml", "-l", HUB_A,
                       "-e", f"hub_status_report_path={path}", env=project_env(), timeout=600)
    assert run.rc == 0, run.output[-4000:]
    return json.loads(path.read_text())["releases"]


def test_the_version_map_lists_the_companions(status: list[dict[str, Any]]) -> None:
    rows = {row["release"]: row for row in status}
    assert set(rows) == {HUB_A, NFS, EXPORTER}, rows
    for release, namespace in ((NFS, HUB_A), (EXPORTER, METRICS)):
        row = rows[release]
        assert (row["namespace"], row["chart"], row["pinned_chart_version"], row["chart_version"], row["drift"]) == (
            namespace, CHART, VERSION, VERSION, ""), row


@pytest.fixture(scope="module")
def dropped(fleet: Fleet, status: list[dict[str, Any]]) -> PlaybookRun:
    """A no longer lists its exporter; B lists a companion of the same name and namespace."""
    write_hubs(fleet.inventory, companions_a(with_exporter=False), companions_b(claim_exporter=True))
    return fleet.deploy()


def test_a_companion_taken_out_of_the_list_is_named_not_deleted(dropped: PlaybookRun) -> None:
    assert dropped.recap()[HUB_A]["failed"] == 0, dropped.output[-6000:]
    text = " ".join(dropped.output.split())
    assert (f"release {EXPORTER} ({CHART}) is deployed in {METRICS} as a companion release of the hub, but "
            f"hub_companion_releases no longer lists it") in text, dropped.output[-6000:]
    assert f"helm uninstall {EXPORTER} -n {METRICS}" in text
    assert EXPORTER in revisions(METRICS)


def test_a_companion_release_of_another_hub_is_left_alone(dropped: PlaybookRun) -> None:
    assert dropped.recap()[HUB_B]["failed"] == 1, dropped.output[-6000:]
    text = " ".join(dropped.output.split())
    assert (f"release '{EXPORTER}' in {METRICS} is a companion release of hub '{HUB_A}'. Nothing was changed") in text
    assert "hub_companion_releases[1].name" in text
    assert revisions(METRICS) == {EXPORTER: 1}
