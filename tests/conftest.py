"""Shared pytest set-up: paths of the project, its tools and the embedded cluster.

The checkout is the collection imagebuilding.hubs: linked into .local/collections (as
`make setup` links it), its plugins import as ``ansible_collections.imagebuilding.hubs.plugins...``
here as they do under Ansible.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
BIN = LOCAL / "bin"
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"

COLLECTIONS = LOCAL / "collections"
_LINK = COLLECTIONS / "ansible_collections" / "imagebuilding" / "hubs"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    _LINK.symlink_to(ROOT, target_is_directory=True)
# Ansible's collection loader, as the ansible-* commands set it up (collections_path of
# ansible.cfg, which lists .local/collections, and the ansible package's collections).
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
init_plugin_loader([str(COLLECTIONS)])


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tool_bin() -> Path:
    """Directory of the built Go tools (etcd, helm, registry, age-keygen, ...)."""
    if not (BIN / "helm").exists():
        pytest.skip("Go tools are not built: run `make tools`")
    return BIN


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    """Kubeconfig of the embedded local cluster (started by `make cluster-up`)."""
    path = Path(os.environ.get("KUBECONFIG", LOCAL / "cluster" / "kubeconfig"))
    if not path.exists():
        pytest.fail(f"embedded cluster is not running ({path} missing): run `make cluster-up`")
    return path


@pytest.fixture(scope="session")
def shared_schemas() -> Path:
    if not SHARED_SCHEMAS.is_dir():
        pytest.skip(f"{SHARED_SCHEMAS} is missing: the real charts' schemas are test data kept outside the repo")
    return SHARED_SCHEMAS
