"""The hubs a change affects (playbooks/affected.yml, filter hub_affected): from each hub's
rollout inputs on the demo inventory, and from the rule alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_affected import affected_hubs
from support import ROOT, run_playbook

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
    ("README.md docs/bench.md", []),
])
def test_demo_inventory(changed: str, hubs: list[str], tmp_path: Path) -> None:
    limit = tmp_path / "affected.limit"
    run = run_playbook("-i", str(ROOT / "inventories" / "local"), "playbooks/affected.yml",
                       "-e", f"hub_changed_files='{changed}'", "-e", f"hub_affected_limit_file={limit}")
    assert run.rc == 0, run.output[-3000:]
    assert limit.read_text().split() == hubs
