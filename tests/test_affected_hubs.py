"""The hubs a change affects (playbooks/affected.yml, filters hub_affected and hub_affected_report):
from each hub's rollout inputs on the demo inventory and the sample fleet (inventory files, values
files, secret files and sops configuration, the fleet's cluster.yaml and credentials files, toolkit
code), and from the rule alone; the report by cluster and stage that CI builds its jobs from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_affected import affected_hubs, affected_report
from support import ROOT, run_playbook

FLEET = ROOT / "tests" / "data" / "fleet"
CLUSTERS = "tests/data/fleet/config/clusters"
FLEET_HUBS = ["3-fjord-prod", "3-fjord-staging", "aks-coral-bio", "aks-coral-staging", "eks-bering-bering-staging",
              "eks-bering-course", "eks-bering-glacier", "gke-atlas-atlas-staging", "gke-atlas-climate", "gke-atlas-ocean",
              "onprem-delta-delta-binder"]

INPUTS = {"a": {"files": ["/r/inv/values/a.values.yaml", "/r/inv/secrets/enc-a.secret.values.yaml"],
                "directories": ["/r/inv/host_vars/a.yml", "/r/inv/group_vars/cluster_x", "/r/charts/jupyterhub"]},
          "b": {"files": ["/r/inv/values/b.values.yaml"], "directories": ["/r/inv/group_vars/cluster_x"]}}


def test_the_rule() -> None:
    assert affected_hubs(INPUTS, ["inv/values/a.values.yaml"], "/r") == {"a": ["inv/values/a.values.yaml"]}
    assert list(affected_hubs(INPUTS, ["inv/group_vars/cluster_x/cluster.yml"], "/r")) == ["a", "b"]
    assert list(affected_hubs(INPUTS, ["/r/charts/jupyterhub/values.yaml"], "/r")) == ["a"]
    assert list(affected_hubs(INPUTS, ["plugins/action/hub_release.py"], "/r")) == ["a", "b"]
    assert affected_hubs(INPUTS, ["roles/jupyterhub/README.md", "docs/awx.md", "inv/values/c.values.yaml"], "/r") == {}
    assert affected_hubs(INPUTS, ["inv/values/../values/b.values.yaml"], "/r") == {"b": ["inv/values/../values/b.values.yaml"]}


@pytest.mark.parametrize(("changed", "hubs"), [
    ("inventories/local/host_vars/research.yml", ["research"]),
    ("inventories/local/values/research.values.yaml", ["research"]),
    ("inventories/local/secrets/enc-staging.secret.values.yaml", ["staging"]),
    ("inventories/local/values/local-cluster.values.yaml inventories/local/group_vars/cluster_local/cluster.yml",
     ["research", "staging"]),
    ("plugins/plugin_utils/hub_values/jupyterhub.py", ["research", "staging"]),
    ("inventories/local/hosts.yml", ["research", "staging"]),
    ("inventories/local/.sops.yaml", ["research", "staging"]),
    # the demo hubs deploy the charts unpacked in ../shared/charts (hub_charts_dir)
    ("../shared/charts/jupyterhub/values.yaml", ["research", "staging"]),
    ("README.md docs/bench.md", []),
])
def test_demo_inventory(changed: str, hubs: list[str], tmp_path: Path) -> None:
    limit = tmp_path / "affected.limit"
    run = run_playbook("-i", str(ROOT / "inventories" / "local"), "playbooks/affected.yml",
                       "-e", f"hub_changed_files='{changed}'", "-e", f"hub_affected_limit_file={limit}")
    assert run.rc == 0, run.output[-3000:]
    assert limit.read_text().split() == hubs


def test_the_report_by_cluster_and_stage() -> None:
    affected = {"a-staging": ["x"], "a-prod": ["x", "y"], "b-one": ["y"], "b-odd": ["y"]}
    hubs = {"a-staging": ("a", "staging"), "a-prod": ("a", "production"), "b-one": ("b", "production"),
            "b-odd": ("b", "canary")}
    report = affected_report(affected, hubs, ["y", " x", "y", ""])
    assert report["changed"] == ["x", "y"]
    assert report["hubs"]["b-odd"] == {"cluster": "b", "stage": "production", "paths": ["y"]}
    assert report["clusters"] == [{"cluster": "a", "staging": ["a-staging"], "production": ["a-prod"]},
                                  {"cluster": "b", "staging": [], "production": ["b-odd", "b-one"]}]


def affected_in_fleet(changed: list[str], tmp_path: Path) -> tuple[list[str], dict[str, object]]:
    limit, report = tmp_path / "out" / "affected.limit", tmp_path / "out" / "affected.json"
    variables = tmp_path / "changed.json"
    variables.write_text(json.dumps({"hub_changed_files": changed}))
    run = run_playbook("-i", str(FLEET / "hubs.fleet.yml"), "playbooks/affected.yml", "-e", f"@{variables}",
                       "-e", f"hub_affected_limit_file={limit}", "-e", f"hub_affected_report_file={report}")
    assert run.rc == 0, run.output[-3000:]
    return limit.read_text().split(), json.loads(report.read_text())


@pytest.mark.parametrize(("changed", "hubs"), [
    ([f"{CLUSTERS}/gke-atlas/cluster.yaml"], ["gke-atlas-atlas-staging", "gke-atlas-climate", "gke-atlas-ocean"]),
    ([f"{CLUSTERS}/eks-bering/enc-deployer-credentials.secret.json"],
     ["eks-bering-bering-staging", "eks-bering-course", "eks-bering-glacier"]),
    ([f"{CLUSTERS}/gke-atlas/climate.values.yaml"], ["gke-atlas-climate"]),
    ([f"{CLUSTERS}/aks-coral/enc-bio.secret.values.yaml"], ["aks-coral-bio"]),
    (["tests/data/fleet/host_vars/eks-bering-course.yml"], ["eks-bering-course"]),
    (["tests/data/fleet/group_vars/provider_azure.yml"], ["aks-coral-bio", "aks-coral-staging"]),
    (["tests/data/fleet/hubs.fleet.yml"], FLEET_HUBS),
    (["roles/jupyterhub/tasks/main.yml"], FLEET_HUBS),
    ([f"{CLUSTERS}/gke-atlas/README.md", "tests/data/fleet/README.md"], []),
])
def test_sample_fleet(changed: list[str], hubs: list[str], tmp_path: Path) -> None:
    assert affected_in_fleet(changed, tmp_path)[0] == hubs


def test_sample_fleet_report(tmp_path: Path) -> None:
    """A path with a space reaches the rule whole when the changed files are given as a list."""
    changed = [f"{CLUSTERS}/gke-atlas/cluster.yaml", f"{CLUSTERS}/3-fjord/prod.values.yaml", "docs/a file.md"]
    _, report = affected_in_fleet(changed, tmp_path)
    assert report["changed"] == sorted(changed)
    assert report["clusters"] == [
        {"cluster": "3-fjord", "staging": [], "production": ["3-fjord-prod"]},
        {"cluster": "gke-atlas", "staging": ["gke-atlas-atlas-staging"], "production": ["gke-atlas-climate", "gke-atlas-ocean"]},
    ]
    assert report["hubs"]["gke-atlas-climate"] == {"cluster": "gke-atlas", "stage": "production",
                                                   "paths": [f"{CLUSTERS}/gke-atlas/cluster.yaml"]}
