#!/usr/bin/env python3
"""Write a large fleet in the config/clusters/<cluster>/cluster.yaml layout, for benchmarks.

    scripts/generate-fleet.py --output DIR [--big-hubs 95] [--small-clusters 4] [--small-hubs 3]
                              [--hubs N --clusters C] [--image-building-share 1.0]
                              [--age-recipient AGE1...] [--charts-dir DIR] [--local-kubeconfig PATH]

Default: one cluster ("big") of 95 hubs and four small clusters of 3 hubs, the clusters'
providers cycling through gcp, aws, azure and kubeconfig. With --hubs and --clusters instead:
N hubs spread evenly over C clusters ("fleet-01", ...). Every cluster has one staging hub
(named "<cluster>-staging", the imported convention) and every tenth hub is a daskhub. Each
hub lists the cluster's common.values.yaml and its own <hub>.values.yaml (top-level keys
jupyterhub, binderhub-service, dask-gateway), and, with --age-recipient, its own
enc-<hub>.secret.values.yaml, encrypted by sops to that age recipient (sops must be on PATH;
the plaintext only goes through a pipe; it holds the hub's OAuth client secret too).

Every hub builds images by default (hub_image_building: enabled for all). With
--image-building-share below 1 (a real fleet's is about 0.25) that share of the hubs (every
n-th) says so the umbrella chart's way, binderhub-service.enabled: true in its values file (the
fleet plugin maps it to hub_image_building: enabled), and the others build no images and have
no binderhub-service section. --charts-dir makes every hub deploy from that directory of
unpacked charts (hub_charts_source: directory) instead of the chart repositories.

Also written: DIR/hubs.fleet.yml (the hub_fleet_config inventory source) and
DIR/group_vars/all.yml. With --local-kubeconfig, both point every cluster at that (local,
test) cluster: local: true, the kubeconfig and its current context, the stand-in charts, the
test authenticator, the local registry of `make demo`, and the local cluster's values file
(hub database in memory) before each hub's own files.

Writes only below DIR, which must not exist yet or be empty.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = ("gcp", "aws", "azure", "kubeconfig")


def provider_block(provider: str, cluster: str) -> dict[str, Any]:
    """The provider's block of credentials and location keys (made-up values)."""
    if provider == "gcp":
        return {"key": "enc-deployer-credentials.secret.json", "project": f"{cluster}-project",
                "cluster": f"{cluster}-cluster", "zone": "us-central1"}
    if provider == "aws":
        return {"account": 111122223333, "key": "enc-deployer-credentials.secret.json", "clusterType": "eks",
                "clusterName": cluster, "region": "us-west-2"}
    if provider == "azure":
        return {"key": "enc-deployer-credentials.secret.json", "resource_group": f"{cluster}-rg",
                "cluster": f"{cluster}-aks"}
    return {"file": "enc-deployer-credentials.secret.yaml"}


def hub_names(cluster: str, count: int) -> list[str]:
    """``<cluster>-staging`` first, then ``<cluster>-001`` ... (unique across the fleet)."""
    width = max(3, len(str(count)))
    return [f"{cluster}-staging"] + [f"{cluster}-{index:0{width}d}" for index in range(1, count)]


def hub_values(hub: str, dask: bool, building: bool | None = None) -> dict[str, Any]:
    """The hub's own values; ``building``: None leaves image building to the inventory, True and
    False say it with the umbrella chart's switch (a section only for a hub that builds)."""
    values: dict[str, Any] = {"jupyterhub": {"singleuser": {"defaultUrl": "/lab"}, "cull": {"timeout": 3600}}}
    if building is not False:
        values["binderhub-service"] = {"resources": {"requests": {"cpu": "100m", "memory": "256Mi"}}}
    if building:
        values["binderhub-service"]["enabled"] = True
    if dask:
        values["dask-gateway"] = {"gateway": {"backend": {"worker": {"cores": {"limit": 2}}}}}
    values["jupyterhub"]["singleuser"]["extraLabels"] = {"hub.example.org/name": hub}
    return values


def sops_encrypt(path: Path, content: dict[str, Any], recipient: str) -> None:
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    proc = subprocess.run(
        ["sops", "--encrypt", "--age", recipient, "--input-type", "yaml", "--output-type", "yaml",
         "--filename-override", str(path), "/dev/stdin"],
        input=yaml.safe_dump(content), capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"sops could not encrypt {path}: {proc.stderr.strip()}")
    path.write_text(proc.stdout)


def secret_values(oauth: bool) -> dict[str, Any]:
    """Made-up secret values; ``oauth``: with the GitHub OAuth client secret the fleet's login needs."""
    jupyterhub: dict[str, Any] = {"hub": {"services": {"binder": {"apiToken": secrets.token_hex(32)}}}}
    if oauth:
        jupyterhub["hub"]["config"] = {"GitHubOAuthenticator": {"client_secret": secrets.token_hex(20)}}
    return {"jupyterhub": jupyterhub, "binderhub-service": {}, "dask-gateway": {}}


def write_yaml(path: Path, data: object, header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(data, sort_keys=False))


def write_cluster(clusters_dir: Path, cluster: str, provider: str, count: int, recipient: str | None, *,
                  oauth: bool = True, building_every: int = 0) -> int:
    """The cluster's files; ``building_every``: 0 leaves image building to the inventory, n makes
    every n-th hub build images (by its values file) and the others not."""
    directory = clusters_dir / cluster
    write_yaml(directory / "common.values.yaml", {"jupyterhub": {"cull": {"every": 600}}})
    names = hub_names(cluster, count)
    if recipient:  # one sops process per file, a few at a time
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda hub: sops_encrypt(directory / f"enc-{hub}.secret.values.yaml", secret_values(oauth),
                                                   recipient), names))
    hubs = []
    for index, hub in enumerate(names):
        dask = index % 10 == 9
        building = None if not building_every else index % building_every == 0
        write_yaml(directory / f"{hub}.values.yaml", hub_values(hub, dask, building))
        files = ["common.values.yaml", f"{hub}.values.yaml"]
        if recipient:
            files.append(f"enc-{hub}.secret.values.yaml")
        hubs.append({"name": hub, "display_name": f"Hub {hub}", "domain": f"{hub}.hubs.example.org",
                     "helm_chart": "daskhub" if dask else "basehub", "helm_chart_values_files": files})
    data = {"name": cluster, "provider": provider, provider: provider_block(provider, cluster), "hubs": hubs}
    write_yaml(directory / "cluster.yaml", data, f"# Generated by scripts/generate-fleet.py: {count} hubs.\n")
    return len(hubs)


def write_inventory_files(output: Path, local_kubeconfig: Path | None, recipient: str | None, *,
                          building_by_values: bool = False, charts_dir: Path | None = None) -> None:
    # Hub names carry their cluster's (unique across the fleet): hosts named after the hubs.
    source: dict[str, Any] = {"plugin": "imagebuilding.hubs.hub_fleet_config", "host_names": "hub"}
    group_vars: dict[str, Any] = {
        "jupyterhub_auth": {"type": "github", "client_id": "Iv1.generated0fleet", "allowed_organizations": ["example"]},
        "registry_type": "quay", "registry_quay_org": "example-generated-fleet",
        # Imagebuilding hubs (a registry and a BinderHub release each) though they list no profiles.
        "hub_image_building": "enabled",
    }
    if local_kubeconfig is not None:
        source.update({
            "local": True, "kubeconfig_override": str(local_kubeconfig.absolute()), "kube_context_override": "",
            "prepend_values_files": [str(ROOT / "inventories" / "local" / "values" / "local-cluster.values.yaml")],
        })
        local = ROOT / ".local"
        group_vars = {
            "hub_charts_source": "directory", "hub_charts_dir": str(ROOT.parent / "shared" / "charts"),
            "jupyterhub_auth": {"type": "dummy", "allowed_users": ["alice"]},
            "cluster_node_pools": {"core": {"hub.jupyter.org/node-purpose": "core"},
                                   "user": {"hub.jupyter.org/node-purpose": "user"}},
            "registry_type": "generic", "registry_host": "127.0.0.1:5443", "registry_url": "https://127.0.0.1:5443",
            "registry_ca_file": str(local / "cluster" / "pki" / "ca.crt"),
            "registry_htpasswd_file": str(local / "registry" / "htpasswd"),
            "hub_image_building": "enabled",
        }
    if charts_dir is not None:
        group_vars.update({"hub_charts_source": "directory", "hub_charts_dir": str(charts_dir.absolute())})
    if building_by_values:  # each hub's values file says whether it builds images
        group_vars.pop("hub_image_building")
    write_yaml(output / "hubs.fleet.yml", source, "# Generated by scripts/generate-fleet.py.\n")
    write_yaml(output / "group_vars" / "all.yml", group_vars, "# Generated by scripts/generate-fleet.py.\n")
    if recipient:
        write_yaml(output / ".sops.yaml", {"creation_rules": [
            {"path_regex": r".*\.secret\.values\.yaml$", "age": recipient}]})


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True, help="directory to write (must not exist or be empty)")
    parser.add_argument("--big-hubs", type=int, default=95, help="hubs of the big cluster (default 95)")
    parser.add_argument("--big-name", default="big", help="name of the big cluster (default big)")
    parser.add_argument("--small-clusters", type=int, default=4, help="number of small clusters (default 4)")
    parser.add_argument("--small-hubs", type=int, default=3, help="hubs of each small cluster (default 3)")
    parser.add_argument("--hubs", type=int, help="N hubs over --clusters clusters (instead of big and small ones)")
    parser.add_argument("--clusters", type=int, help="number of clusters of --hubs (\"fleet-01\", ...)")
    parser.add_argument("--image-building-share", type=float, default=1.0,
                        help="share of the hubs that build images (default 1: all, by the inventory)")
    parser.add_argument("--age-recipient", help="also write sops-encrypted enc-<hub>.secret.values.yaml files")
    parser.add_argument("--charts-dir", type=Path, help="deploy every hub from this directory of unpacked charts")
    parser.add_argument("--local-kubeconfig", type=Path, help="point every cluster at this local test cluster")
    args = parser.parse_args(argv)
    if args.big_hubs < 1 or args.small_clusters < 0 or args.small_hubs < 1:
        parser.error("counts must be positive (--small-clusters may be 0)")
    if (args.hubs is None) != (args.clusters is None):
        parser.error("--hubs and --clusters go together")
    if args.hubs is not None and not 1 <= args.clusters <= args.hubs:
        parser.error("--clusters must be between 1 and --hubs")
    if not 0 < args.image_building_share <= 1:
        parser.error("--image-building-share must be above 0 and at most 1")
    if args.output.exists() and any(args.output.iterdir()):
        parser.error(f"{args.output} exists and is not empty")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    clusters_dir = args.output / "config" / "clusters"
    providers = itertools.cycle(PROVIDERS)
    if args.hubs is not None:
        width = max(2, len(str(args.clusters)))
        sizes = [args.hubs // args.clusters + (1 if index < args.hubs % args.clusters else 0)
                 for index in range(args.clusters)]
        plan = [(f"fleet-{index + 1:0{width}d}", next(providers), size) for index, size in enumerate(sizes)]
    else:
        plan = [(args.big_name, next(providers), args.big_hubs)]
        plan += [(f"small-{index}", next(providers), args.small_hubs) for index in range(1, args.small_clusters + 1)]
    building_every = 0 if args.image_building_share >= 1 else max(1, round(1 / args.image_building_share))
    oauth = args.local_kubeconfig is None  # the local test cluster's hubs log in with the test authenticator
    total = sum(write_cluster(clusters_dir, name, provider, count, args.age_recipient, oauth=oauth,
                              building_every=building_every) for name, provider, count in plan)
    write_inventory_files(args.output, args.local_kubeconfig, args.age_recipient, building_by_values=building_every > 0,
                          charts_dir=args.charts_dir)
    print(json.dumps({"output": str(args.output), "clusters": len(plan), "hubs": total,
                      "per_cluster": {name: count for name, _, count in plan}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
