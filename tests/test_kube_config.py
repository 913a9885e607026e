"""The cluster's kubeconfig and context are checked before the first request: a missing file or
an unknown context is named with its variable (kube_api.check_kubeconfig)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, KubeConfigError, check_kubeconfig


def kubeconfig(tmp_path: Path, *contexts: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config",
                                    "contexts": [{"name": name, "context": {"cluster": name, "user": name}}
                                                 for name in contexts]}))
    return path


def test_a_missing_kubeconfig_names_cluster_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"^cluster_kubeconfig: .*/nope does not exist"):
        check_kubeconfig(str(tmp_path / "nope"), None)


def test_the_default_kubeconfig_is_named_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(KubeConfigError, match=r"^cluster_kubeconfig \(empty: \$KUBECONFIG or ~/.kube/config\): "):
        check_kubeconfig("", None)


def test_an_unknown_context_lists_the_known_ones(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, "gke_a", "gke_b")
    assert check_kubeconfig(str(path), "gke_b") == path
    with pytest.raises(KubeConfigError) as raised:
        check_kubeconfig(str(path), "gke_c")
    assert str(raised.value) == f"cluster_kube_context: 'gke_c' is not a context of {path}; expected one of gke_a, gke_b"


def test_an_unreadable_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("contexts: [unclosed\n")
    with pytest.raises(KubeConfigError, match="is not a readable kubeconfig"):
        Kube.from_args({"kubeconfig": str(path)})
