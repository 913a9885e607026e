"""The hub-level rollout state (plugin_utils/hub_state.py): what counts as an input, when a hub
may be skipped, and that no fact a run sets is taken for an input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.filter.hub_waves import hub_blocked_by_canaries, hub_rollout_plan
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils import hub_state
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import deployed_revisions
from support import ROOT

DIGEST = "sha256:abc"


def record(digest: str = DIGEST, releases: dict[str, Any] | None = None) -> dict[str, Any]:
    releases = {"jupyterhub": {"revision": 3, "chart": "jupyterhub", "chart_version": "4.4.0"}} if releases is None else releases
    return hub_state.record_body(digest, releases, "2026-11-25T00:00:00Z")


def helm_secret(name: str, version: int, status: str) -> dict[str, Any]:
    return {"metadata": {"name": f"sh.helm.release.v1.{name}.v{version}",
                         "labels": {"owner": "helm", "name": name, "version": str(version), "status": status}}}


def test_deployed_revisions_and_pending_releases() -> None:
    items = [helm_secret("jupyterhub", 2, "superseded"), helm_secret("jupyterhub", 3, "deployed"),
             helm_secret("binderhub-service", 5, "deployed"), helm_secret("binderhub-service", 6, "pending-upgrade")]
    deployed, pending = deployed_revisions(items)
    assert deployed == {"jupyterhub": 3, "binderhub-service": 5}
    assert pending == ["binderhub-service"]
    # An upgrade by hand that failed: the latest revision is not what runs; the hub is rolled out.
    deployed, unsettled = deployed_revisions([*items, helm_secret("jupyterhub", 4, "failed")])
    assert deployed == {"jupyterhub": 3, "binderhub-service": 5}
    assert unsettled == ["binderhub-service", "jupyterhub"]


@pytest.mark.parametrize(("case", "arguments", "reason"), [
    ("no record", (None, DIGEST, {}, [], []), "no record"),
    ("inputs changed", (record("sha256:old"), DIGEST, {"jupyterhub": 3}, [], []), "inputs changed"),
    ("pending", (record(), DIGEST, {"jupyterhub": 3}, ["jupyterhub"], []), "pending or failed: jupyterhub"),
    ("revision by hand", (record(), DIGEST, {"jupyterhub": 4}, [], []), "not the recorded ones"),
    ("release removed by hand", (record(), DIGEST, {}, [], []), "not the recorded ones"),
    ("not healthy", (record(), DIGEST, {"jupyterhub": 3}, [], ["deployment hub: 0/1 availableReplicas"]),
     "not rolled out: deployment hub"),
])
def test_a_hub_is_rolled_out_unless_all_is_as_recorded(case: str, arguments: tuple[Any, ...], reason: str) -> None:
    assert reason in hub_state.why_not_skipped(*arguments), case


def test_a_hub_as_recorded_is_skipped_with_its_rows() -> None:
    assert hub_state.why_not_skipped(record(), DIGEST, {"jupyterhub": 3}, [], []) == ""
    rows = hub_state.unchanged_rows("h", "c", "ns", hub_state.recorded_releases(record()), 1.0)
    assert rows == [{"hub": "h", "cluster": "c", "release": "jupyterhub", "namespace": "ns", "chart": "jupyterhub",
                     "chart_version": "4.4.0", "revision_before": 3, "revision_after": 3, "status": "unchanged",
                     "helm": [], "started": 1.0, "duration": 0.0}]


def test_rerun_switches_and_input_variables() -> None:
    assert hub_state.rerun_switches({"hub_force": "true", "registry_rotate": False, "secrets_rotate_tokens": "no"}) == [
        "hub_force"]
    names = hub_state.input_variables({"hub_name": 1, "registry_url": 1, "registry_definition": 1, "hub_force": 1,
                                       "hub_rollout_releases": 1, "_registry_checked": 1, "inventory_dir": 1,
                                       "jupyterhub_admin_users": 1})
    assert names == ["hub_name", "jupyterhub_admin_users", "registry_url"]


def test_inputs_digest_follows_each_input(tmp_path: Path) -> None:
    base = hub_state.inputs_digest({"hub_name": "a"}, {"secrets_file": "x"}, "code")
    assert base == hub_state.inputs_digest({"hub_name": "a"}, {"secrets_file": "x"}, "code")
    assert base != hub_state.inputs_digest({"hub_name": "b"}, {"secrets_file": "x"}, "code")
    assert base != hub_state.inputs_digest({"hub_name": "a"}, {"secrets_file": "y"}, "code")
    assert base != hub_state.inputs_digest({"hub_name": "a"}, {"secrets_file": "x"}, "other code")


def test_htpasswd_digest_reads_only_the_hubs_line(tmp_path: Path) -> None:
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("alpha:$2y$05$one\nbeta:$2y$05$two\n")
    alpha = hub_state.htpasswd_entry_digest(str(htpasswd), "alpha")
    htpasswd.write_text("alpha:$2y$05$one\nbeta:$2y$05$changed\ngamma:$2y$05$new\n")
    assert hub_state.htpasswd_entry_digest(str(htpasswd), "alpha") == alpha
    htpasswd.write_text("alpha:$2y$05$rotated\n")
    assert hub_state.htpasswd_entry_digest(str(htpasswd), "alpha") != alpha
    assert hub_state.htpasswd_entry_digest(str(tmp_path / "none"), "alpha") == "missing"


def test_code_digest_changes_with_a_file(tmp_path: Path) -> None:
    (tmp_path / "roles" / "r").mkdir(parents=True)
    (tmp_path / "roles" / "r" / "main.yml").write_text("a: 1\n")
    (tmp_path / "roles" / "__pycache__").mkdir()
    before = hub_state.code_digest(tmp_path, ("roles",))
    (tmp_path / "roles" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tmp_path / "roles" / "r" / "README.md").write_text("# docs\n")
    assert hub_state.code_digest(tmp_path, ("roles",)) == before
    (tmp_path / "roles" / "r" / "main.yml").write_text("a: 2\n")
    assert hub_state.code_digest(tmp_path, ("roles",)) != before


def test_record_lists_the_releases_as_json() -> None:
    body = record()
    assert body["kind"] == "Secret" and body["metadata"]["name"] == hub_state.STATE_SECRET
    assert json.loads(body["metadata"]["annotations"][hub_state.RELEASES_ANNOTATION])["jupyterhub"]["revision"] == 3


def _facts_set(document: object) -> set[str]:
    """Names given to set_fact and register anywhere in a tasks document."""
    names: set[str] = set()
    if isinstance(document, list):
        for item in document:
            names |= _facts_set(item)
    elif isinstance(document, dict):
        for key, value in document.items():
            if key in ("ansible.builtin.set_fact", "set_fact") and isinstance(value, dict):
                names |= {k for k in value if k != "cacheable"}
            elif key == "register" and isinstance(value, str):
                names.add(value)
            else:
                names |= _facts_set(value)
    return names


def test_no_fact_a_run_sets_counts_as_an_input() -> None:
    """A fact with an input prefix set during a rollout would differ between the record (end of
    the run) and the next comparison (start of a run): the hub would never be skipped."""
    files = [*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("playbooks/*.yml")]
    facts = set().union(*(_facts_set(yaml.safe_load(path.read_text())) for path in files))
    # and the facts the project's action plugins return ("ansible_facts": {"<name>": ...})
    for plugin in ROOT.glob("plugins/action/*.py"):
        facts |= set(re.findall(r'"ansible_facts": \{"(\w+)"', plugin.read_text()))
    assert {"registry_definition", "secrets_values_file", "hub_rollout_releases"} <= facts  # the scan sees them
    counted = sorted(hub_state.input_variables(dict.fromkeys(facts, 1)))
    assert counted == [], f"facts set during a run taken for inputs (add them to NOT_INPUTS): {counted}"


def test_a_hub_the_comparison_skipped_is_not_taken_for_a_failed_one() -> None:
    """A canary left out of the run (unchanged, or of another batch than the run upgrades) is
    neither deployed nor failed: it stops no production hub of its cluster. One that is not active
    for another reason failed validation."""
    hostvars = {"canary": {"cluster_name": "c", "hub_stage": "staging"}, "prod": {"cluster_name": "c"},
                "broken": {"cluster_name": "d", "hub_stage": "staging"}}
    compared = {"canary": {"skipped": True, "unchanged": False}, "prod": {"skipped": False},
                "broken": {"skipped": False}}
    plan = hub_rollout_plan(list(hostvars), hostvars, active=["prod"], compared=compared)
    assert plan["failed"] == ["broken"]
    assert plan["order"] == ["prod"]
    assert hub_blocked_by_canaries(plan["hubs"], plan["failed"]) == []
