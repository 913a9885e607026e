"""Cluster access resolved as kubernetes.core resolves it (plugin_utils/kube_auth.py): options
first, then their K8S_AUTH_* variables; host and api_key read no kubeconfig; without a kubeconfig
inside a pod, the service account. The token is never shown, and helm gets the same access."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import helm_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import configuration
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import (
    HOST,
    IN_CLUSTER,
    KUBECONFIG,
    KubeConfigError,
    kube_access,
)

TOKEN = "sekrit-token-0123456789"


def write_kubeconfig(directory: Path, *contexts: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": contexts[0],
        "clusters": [{"name": "c", "cluster": {"server": "https://kubeconfig.example:6443"}}],
        "users": [{"name": "u", "user": {"token": "from-kubeconfig"}}],
        "contexts": [{"name": name, "context": {"cluster": "c", "user": "u"}} for name in contexts]}))
    return path


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.crt"
    path.write_text("not parsed here\n")
    return path


def test_options_fall_back_to_k8s_auth_variables(tmp_path: Path, ca: Path) -> None:
    environ = {"K8S_AUTH_HOST": "https://api.example:6443/", "K8S_AUTH_API_KEY": TOKEN,
               "K8S_AUTH_SSL_CA_CERT": str(ca), "K8S_AUTH_VERIFY_SSL": "no",
               "KUBECONFIG": str(write_kubeconfig(tmp_path, "one"))}
    access = kube_access({}, environ)
    assert (access.mode, access.host, access.api_key, access.ca_cert, access.validate_certs) == (
        HOST, "https://api.example:6443", TOKEN, str(ca), False)
    assert access.kubeconfig == ""  # host and api_key: no kubeconfig read


def test_an_option_beats_its_variable_and_aliases_are_kubernetes_core_names(tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path, "one", "two")
    environ = {"K8S_AUTH_KUBECONFIG": "/nowhere", "K8S_AUTH_CONTEXT": "one"}
    access = kube_access({"kubeconfig": str(path), "context": "two", "verify_ssl": "false"}, environ)
    assert (access.mode, access.kubeconfig, access.context, access.validate_certs) == (KUBECONFIG, str(path), "two", False)
    assert kube_access({}, {"K8S_AUTH_KUBECONFIG": str(path), "K8S_AUTH_CONTEXT": "one"}).context == "one"


def test_a_missing_kubeconfig_from_k8s_auth_kubeconfig_is_named(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"^K8S_AUTH_KUBECONFIG: .*/absent does not exist"):
        kube_access({}, {"K8S_AUTH_KUBECONFIG": str(tmp_path / "absent")})


def test_in_cluster_when_no_kubeconfig_exists(tmp_path: Path) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN + "\n")
    (account / "ca.crt").write_text("ca\n")
    environ = {"KUBECONFIG": str(tmp_path / "absent"), "KUBERNETES_SERVICE_HOST": "10.0.0.1",
               "KUBERNETES_SERVICE_PORT": "443"}
    access = kube_access({}, environ, service_account=account)
    assert (access.mode, access.host, access.ca_cert) == (IN_CLUSTER, "https://10.0.0.1:443", str(account / "ca.crt"))
    settings = configuration(access)
    assert settings.get_api_key_with_prefix("BearerToken") == f"Bearer {TOKEN}"
    (account / "token").write_text("rotated\n")  # kubelet rotates the projected token
    assert settings.get_api_key_with_prefix("BearerToken") == "Bearer rotated"
    env = helm_environment(access)
    assert (env["HELM_KUBEAPISERVER"], env["HELM_KUBETOKEN"], env["KUBECONFIG"]) == (
        "https://10.0.0.1:443", "rotated", os.devnull)


def test_no_kubeconfig_and_not_in_a_pod(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"cluster_kubeconfig \(empty: \$KUBECONFIG or ~/.kube/config\)"):
        kube_access({}, {"KUBECONFIG": str(tmp_path / "absent")})
    with pytest.raises(KubeConfigError, match=r"service account token .* does not exist"):
        kube_access({}, {"KUBECONFIG": str(tmp_path / "absent"), "KUBERNETES_SERVICE_HOST": "10.0.0.1"},
                    service_account=tmp_path)


def test_overrides_apply_over_the_kubeconfig(tmp_path: Path, ca: Path) -> None:
    path = write_kubeconfig(tmp_path, "one")
    access = kube_access({"kubeconfig": str(path), "host": "https://other:6443", "ca_cert": str(ca)}, {})
    settings = configuration(access)
    assert (settings.host, settings.ssl_ca_cert) == ("https://other:6443", str(ca))
    assert settings.get_api_key_with_prefix("BearerToken") == "Bearer from-kubeconfig"
    assert configuration(kube_access({"kubeconfig": str(path)}, {})).host == "https://kubeconfig.example:6443"


def test_helm_gets_the_same_access(tmp_path: Path, ca: Path) -> None:
    path = write_kubeconfig(tmp_path, "one", "two")
    env = helm_environment(kube_access({"kubeconfig": str(path), "kube_context": "two"}, {}))
    assert (env["KUBECONFIG"], env["HELM_KUBECONTEXT"]) == (str(path), "two")
    assert "HELM_KUBETOKEN" not in env and env["HELM_DIFF_USE_UPGRADE_DRY_RUN"] == "true"
    env = helm_environment(kube_access({"host": "https://api:6443", "api_key": TOKEN, "ca_cert": str(ca),
                                        "validate_certs": False}, {}))
    assert (env["HELM_KUBEAPISERVER"], env["HELM_KUBETOKEN"], env["HELM_KUBECAFILE"]) == ("https://api:6443", TOKEN, str(ca))
    assert env["HELM_KUBEINSECURE_SKIP_TLS_VERIFY"] == "true" and env["KUBECONFIG"] == os.devnull


def test_the_token_is_never_shown(ca: Path) -> None:
    access = kube_access({"host": "https://api:6443", "api_key": TOKEN}, {})
    assert TOKEN not in repr(access) and TOKEN not in access.describe()


def test_bad_values_are_named(tmp_path: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"validate_certs \(K8S_AUTH_VERIFY_SSL\): 'maybe'"):
        kube_access({}, {"K8S_AUTH_VERIFY_SSL": "maybe"})
    with pytest.raises(KubeConfigError, match=r"ca_cert \(K8S_AUTH_SSL_CA_CERT\): .*/none.crt does not exist"):
        kube_access({"host": "https://api", "api_key": TOKEN, "ca_cert": str(tmp_path / "none.crt")}, {})
