"""The repository builds as the imagebuilding.hubs collection artifact, without local state."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

from support import ROOT, VENV_BIN, project_env


def test_collection_artifact(tmp_path: Path) -> None:
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path)], cwd=ROOT,
                   env=project_env(), check=True, capture_output=True)
    (artifact,) = tmp_path.glob("imagebuilding-hubs-*.tar.gz")
    with tarfile.open(artifact) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    assert manifest["collection_info"]["namespace"] == "imagebuilding"
    assert manifest["collection_info"]["name"] == "hubs"
    assert {"meta/runtime.yml", "plugins/action/hub_release.py", "plugins/plugin_utils/hub_render.py",
            "roles/jupyterhub/meta/argument_specs.yml", "playbooks/hub.yml"} <= names
    assert not [n for n in names if n.startswith((".local", ".venv", "reports/", "tests/output"))]
