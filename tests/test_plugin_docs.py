"""ansible-doc works for every filter, inventory, vars and callback plugin of the collection, and
every plugin of the action group imagebuilding.hubs.cluster documents (through the doc fragment
imagebuilding.hubs.hub_kube) and accepts the cluster access options."""

from __future__ import annotations

import importlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from support import ROOT, VENV_BIN, project_env

COLLECTION = "imagebuilding.hubs"
PACKAGE = "ansible_collections.imagebuilding.hubs.plugins"
ACCESS_OPTIONS = {"kubeconfig", "kube_context", "host", "api_key", "ca_cert", "validate_certs"}


def filter_names() -> list[str]:
    names = []
    for path in sorted((ROOT / "plugins" / "filter").glob("*.py")):
        names += list(importlib.import_module(f"{PACKAGE}.filter.{path.stem}").FilterModule().filters())
    return names


def plugin_names(kind: str) -> list[str]:
    if kind == "filter":
        return filter_names()
    return sorted(path.stem for path in (ROOT / "plugins" / kind).glob("*.py") if path.stem != "__init__")


def ansible_doc(kind: str, names: list[str]) -> dict[str, Any]:
    doc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-t", kind, "--json", *(f"{COLLECTION}.{n}" for n in names)],
                         cwd=ROOT, env=project_env(), capture_output=True, text=True, check=False, timeout=300)
    assert doc.returncode == 0, doc.stderr
    return json.loads(doc.stdout)


@pytest.mark.parametrize("kind", ["filter", "inventory", "vars", "callback"])
def test_every_plugin_has_documentation(kind: str) -> None:
    names = plugin_names(kind)
    assert names
    docs = ansible_doc(kind, names)
    missing = [name for name in names if not ((docs.get(f"{COLLECTION}.{name}") or {}).get("doc") or {})
               .get("short_description")]
    assert not missing, f"ansible-doc -t {kind} finds no documentation for {missing}"


def test_the_cluster_group_documents_and_accepts_the_access_options() -> None:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = runtime["action_groups"]["cluster"]
    docs = ansible_doc("module", group)
    for name in group:
        doc = docs[f"{COLLECTION}.{name}"]["doc"]
        assert set(doc["options"]) >= ACCESS_OPTIONS, name
        own = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
        # documented once, in the fragment
        assert f"{COLLECTION}.hub_kube" in own["extends_documentation_fragment"], name
        assert not ACCESS_OPTIONS & set(own["options"]), name
        action = importlib.import_module(f"{PACKAGE}.action.{name}").ActionModule
        assert KUBE_ARGS <= action._VALID_ARGS, name


def test_filter_documentation_sits_next_to_its_plugin() -> None:
    documented = {path.stem for path in Path(ROOT / "plugins" / "filter").glob("*.yml")}
    assert set(filter_names()) <= documented
