"""Helpers of the fleet inventory tests: a working copy of the sample fleet with sops-encrypted
secret files made at test time, and deliberately broken fleets for the validation tests.

Nothing secret is committed: the sample fleet's ``enc-*.secret.values.yaml`` files (and the
kubeconfig cluster's credentials file) are generated here, encrypted to an age key made with
``age-keygen`` in a temporary directory, and written straight from sops' stdout.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_FLEET = ROOT / "tests" / "data" / "fleet"
VENV_BIN = ROOT / ".venv" / "bin"
SOPS = VENV_BIN / "sops"
CLUSTERS = Path("config") / "clusters"

# The sample fleet: cluster -> (provider, hubs). "staging" is a hub of two clusters.
SAMPLE_CLUSTERS = {
    "gke-atlas": ("gcp", ("atlas-staging", "climate", "ocean")),
    "eks-bering": ("aws", ("bering-staging", "course", "glacier")),
    "aks-coral": ("azure", ("bio", "staging")),
    "onprem-delta": ("kubeconfig", ("delta-binder",)),
    "3-fjord": ("aws", ("staging", "prod")),
}
# The inventory's hosts: <cluster>-<hub> (the plugin's default host_names).
SAMPLE_HOSTS = sorted(f"{cluster}-{hub}" for cluster, (_, hubs) in SAMPLE_CLUSTERS.items() for hub in hubs)
# Hosts whose hubs build no images (no option with dynamic_image_building; aks-coral's says so).
NON_BUILDING_HOSTS = ("3-fjord-staging", "aks-coral-staging", "eks-bering-course")


@dataclass(frozen=True)
class AgeKey:
    key_file: Path
    recipient: str


def make_age_key(directory: Path, tool_bin: Path) -> AgeKey:
    """A fresh age identity in ``directory`` (never committed: *.agekey is git-ignored)."""
    directory.mkdir(parents=True, exist_ok=True)
    key_file = directory / "fleet-test.agekey"
    old_umask = os.umask(0o077)
    try:
        subprocess.run([str(tool_bin / "age-keygen"), "-o", str(key_file)], check=True, capture_output=True)
    finally:
        os.umask(old_umask)
    recipient = next(line.split(":", 1)[1].strip() for line in key_file.read_text().splitlines()
                     if line.startswith("# public key:"))
    return AgeKey(key_file, recipient)


def sops_env(key: AgeKey) -> dict[str, str]:
    env = dict(os.environ)
    env.update(SOPS_AGE_KEY_FILE=str(key.key_file), SOPS_DISABLE_VERSION_CHECK="1")
    return env


def write_sops_config(directory: Path, key: AgeKey) -> Path:
    """``.sops.yaml`` with one rule: every secret file of the fleet to the test key."""
    config = directory / ".sops.yaml"
    config.write_text(yaml.safe_dump({"creation_rules": [
        {"path_regex": r".*\.secret\.(values\.)?(yaml|json)$", "age": key.recipient}]}))
    return config


def sops_encrypt_to(path: Path, content: dict[str, Any], key: AgeKey) -> None:
    """Write ``content`` to ``path`` encrypted by sops (the plaintext only goes through a pipe)."""
    kind = "json" if path.suffix == ".json" else "yaml"
    text = yaml.safe_dump(content) if kind == "yaml" else json.dumps(content)
    proc = subprocess.run(
        [str(SOPS), "--encrypt", "--age", key.recipient, "--input-type", kind, "--output-type", kind,
         "--filename-override", str(path), "/dev/stdin"],
        input=text, capture_output=True, text=True, env=sops_env(key), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"sops could not encrypt {path}: {proc.stderr}")
    text = proc.stdout
    if kind == "json":  # as people keep them: indented with tabs (not YAML any more)
        text = json.dumps(json.loads(text), indent="\t") + "\n"
    path.write_text(text)


def sops_decrypt(path: Path, key: AgeKey) -> dict[str, Any]:
    proc = subprocess.run([str(SOPS), "--decrypt", "--output-type", "yaml", str(path)], capture_output=True, text=True,
                          env=sops_env(key), check=True)
    return yaml.safe_load(proc.stdout)


def _listed_secret_files(cluster_file: Path) -> list[str]:
    data = yaml.safe_load(cluster_file.read_text())
    names: list[str] = []
    for hub in data.get("hubs") or []:
        names.extend(name for name in hub.get("helm_chart_values_files") or [] if "secret" in name)
    return list(dict.fromkeys(names))


def secret_content(file_name: str) -> dict[str, Any]:
    """Made-up secret values in the runbook's layout for a hub's (or a shared) secret file."""
    if file_name.startswith("enc-common"):
        return {"jupyterhub": {"hub": {"extraEnv": {"FLEET_SHARED_TOKEN": secrets.token_hex(16)}}}}
    return {
        "jupyterhub": {"hub": {"services": {"binder": {"apiToken": secrets.token_hex(32)}}}},
        "binderhub-service": {},
        "dask-gateway": {},
    }


def fake_kubeconfig(cluster: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": cluster,
        "clusters": [{"name": cluster, "cluster": {"server": "https://203.0.113.10:6443"}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "deployer"}}],
        "users": [{"name": "deployer", "user": {"token": secrets.token_hex(16)}}],
    }


def materialize_fleet(destination: Path, key: AgeKey, source: Path = SAMPLE_FLEET) -> Path:
    """A copy of ``source`` with every listed secret file made and sops-encrypted to ``key``."""
    shutil.copytree(source, destination)
    write_sops_config(destination, key)
    for cluster_file in sorted((destination / CLUSTERS).glob("*/cluster.yaml")):
        for name in _listed_secret_files(cluster_file):
            target = cluster_file.parent / name
            if not target.exists():
                sops_encrypt_to(target, secret_content(name), key)
        data = yaml.safe_load(cluster_file.read_text())
        credentials = (data.get("kubeconfig") or {}).get("file")
        if credentials and not (cluster_file.parent / credentials).exists():
            sops_encrypt_to(cluster_file.parent / credentials, fake_kubeconfig(data["name"]), key)
    return destination


# ---------------------------------------------------------------------------------------
# Deliberately broken fleets: each case edits a copy of the materialized sample fleet.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What the problem must name: the cluster file (relative to the clusters dir), cluster, hub, key."""

    file: str
    cluster: str
    hub: str
    key: str
    words: tuple[str, ...] = ()  # more text the message must contain


def _cluster_path(fleet: Path, cluster: str) -> Path:
    return fleet / CLUSTERS / cluster / "cluster.yaml"


def _edit_cluster(fleet: Path, cluster: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = _cluster_path(fleet, cluster)
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _hub(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(hub for hub in data["hubs"] if hub["name"] == name)


def _provider_unknown(fleet: Path) -> Expected:
    _edit_cluster(fleet, "gke-atlas", lambda d: d.update(provider="openstack"))
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "'atlas-staging', 'climate', 'ocean'", "provider",
                    ("'openstack' is not supported",))


def _provider_with_other_block(fleet: Path) -> Expected:
    _edit_cluster(fleet, "gke-atlas", lambda d: d.update(aws={"clusterName": "atlas", "region": "us-west-2"}))
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "'atlas-staging', 'climate', 'ocean'", "aws",
                    ("provider is 'gcp'",))


def _provider_block_missing(fleet: Path) -> Expected:
    _edit_cluster(fleet, "eks-bering", lambda d: d.pop("aws"))
    return Expected("eks-bering/cluster.yaml", "eks-bering", "'bering-staging', 'course', 'glacier'", "aws",
                    ("is missing, but provider is 'aws'",))


def _provider_block_key_missing(fleet: Path) -> Expected:
    _edit_cluster(fleet, "aks-coral", lambda d: d["azure"].pop("resource_group"))
    return Expected("aks-coral/cluster.yaml", "aks-coral", "hubs 'bio', 'staging'", "azure.resource_group", ("is missing",))


def _duplicate_hub_in_cluster(fleet: Path) -> Expected:
    def edit(data: dict[str, Any]) -> None:
        copy = dict(_hub(data, "ocean"), domain="ocean2.hubs.example.org")
        data["hubs"].append(copy)

    _edit_cluster(fleet, "gke-atlas", edit)
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "hub 'ocean'", "name", ("hubs[2] and hubs[3]",))


def _duplicate_hub_across_fleet(fleet: Path) -> Expected:
    _edit_cluster(fleet, "aks-coral", lambda d: _hub(d, "bio").update(name="climate"))
    return Expected("aks-coral/cluster.yaml", "aks-coral", "hub 'climate'", "name",
                    ("also used by cluster 'gke-atlas'", "host_names: cluster_hub"))


def _hub_name_not_dns_label(fleet: Path) -> Expected:
    _edit_cluster(fleet, "eks-bering", lambda d: _hub(d, "glacier").update(name="Glacier_Lab"))
    return Expected("eks-bering/cluster.yaml", "eks-bering", "hub 'Glacier_Lab'", "name", ("DNS label",))


def _values_file_missing(fleet: Path) -> Expected:
    # The last hub of its cluster: the tooling this layout comes from checks only the first.
    (fleet / CLUSTERS / "gke-atlas" / "ocean.values.yaml").unlink()
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "hub 'ocean'", "helm_chart_values_files[1]",
                    ("ocean.values.yaml does not exist",))


def _missing_key(key: str, hub: str = "glacier") -> Callable[[Path], Expected]:
    def case(fleet: Path) -> Expected:
        _edit_cluster(fleet, "eks-bering", lambda d: _hub(d, hub).pop(key))
        label = "hubs[2] (no name)" if key == "name" else f"hub '{hub}'"
        return Expected("eks-bering/cluster.yaml", "eks-bering", label, key, ("is missing",))

    return case


def _secret_not_encrypted(fleet: Path) -> Expected:
    path = fleet / CLUSTERS / "gke-atlas" / "enc-climate.secret.values.yaml"
    path.write_text("jupyterhub:\n  hub:\n    services:\n      binder:\n        apiToken: not-encrypted\n")
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "hub 'climate'", "helm_chart_values_files[2]",
                    ("no top-level 'sops' key", "leaked"))


def _unknown_hub_key(fleet: Path) -> Expected:
    def edit(data: dict[str, Any]) -> None:
        hub = _hub(data, "bio")
        hub["helm_chart_value_files"] = hub.pop("helm_chart_values_files")

    _edit_cluster(fleet, "aks-coral", edit)
    return Expected("aks-coral/cluster.yaml", "aks-coral", "hub 'bio'", "helm_chart_value_files",
                    ("did you mean 'helm_chart_values_files'",))


def _helm_chart_unknown(fleet: Path) -> Expected:
    _edit_cluster(fleet, "gke-atlas", lambda d: _hub(d, "climate").update(helm_chart="dask-hub"))
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "hub 'climate'", "helm_chart", ("did you mean 'daskhub'",))


def _duplicate_domain(fleet: Path) -> Expected:
    _edit_cluster(fleet, "onprem-delta", lambda d: _hub(d, "delta-binder").update(domain="bio.hubs.example.org"))
    return Expected("onprem-delta/cluster.yaml", "onprem-delta", "hub 'delta-binder'", "domain",
                    ("also the domain of hub 'bio'",))


def _cluster_name_invalid(fleet: Path) -> Expected:
    _edit_cluster(fleet, "aks-coral", lambda d: d.update(name="Aks Coral"))
    return Expected("aks-coral/cluster.yaml", "Aks Coral", "hubs 'bio', 'staging'", "name", ("DNS label",))


def _cluster_yaml_undefined_alias(fleet: Path) -> Expected:
    path = _cluster_path(fleet, "gke-atlas")
    path.write_text(path.read_text() + "support: *support\n")
    return Expected("gke-atlas/cluster.yaml", "gke-atlas", "hubs 'atlas-staging', 'climate', 'ocean'", "-",
                    ("is not valid YAML: found undefined alias at line", "column 10"))


def _cluster_yaml_duplicate_key(fleet: Path) -> Expected:
    path = _cluster_path(fleet, "aks-coral")
    path.write_text(path.read_text() + "provider: azure\n")
    return Expected("aks-coral/cluster.yaml", "aks-coral", "hubs 'bio', 'staging'", "-",
                    ("is not valid YAML: found duplicate key 'provider' (first at line",))


BAD_CASES: dict[str, Callable[[Path], Expected]] = {
    "provider-unknown": _provider_unknown,
    "provider-with-other-block": _provider_with_other_block,
    "provider-block-missing": _provider_block_missing,
    "provider-block-key-missing": _provider_block_key_missing,
    "duplicate-hub-in-cluster": _duplicate_hub_in_cluster,
    "duplicate-hub-across-fleet": _duplicate_hub_across_fleet,
    "hub-name-not-dns-label": _hub_name_not_dns_label,
    "values-file-missing": _values_file_missing,
    "missing-name": _missing_key("name"),
    "missing-domain": _missing_key("domain"),
    "missing-helm-chart-values-files": _missing_key("helm_chart_values_files"),
    "missing-helm-chart": _missing_key("helm_chart"),
    "secret-not-encrypted": _secret_not_encrypted,
    "unknown-hub-key": _unknown_hub_key,
    "helm-chart-unknown": _helm_chart_unknown,
    "duplicate-domain": _duplicate_domain,
    "cluster-name-invalid": _cluster_name_invalid,
    "cluster-yaml-undefined-alias": _cluster_yaml_undefined_alias,
    "cluster-yaml-duplicate-key": _cluster_yaml_duplicate_key,
}


def make_bad_fleet(good: Path, destination: Path, case: str) -> Expected:
    shutil.copytree(good, destination)
    return BAD_CASES[case](destination)
