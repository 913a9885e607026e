"""Shared pytest set-up: paths of the project, its tools and the embedded cluster.

Modules under plugins/module_utils are importable as ``ansible.module_utils.<name>``,
the same way Ansible loads them for the project's modules.
"""

from __future__ import annotations

import os
from pathlib import Path

import ansible.module_utils
import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
BIN = LOCAL / "bin"
SHARED_SCHEMAS = ROOT.parent / "shared" / "schemas"

ansible.module_utils.__path__.append(str(ROOT / "plugins" / "module_utils"))


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
