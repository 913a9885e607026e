"""Helpers of the hub model/values tests: the demo inventory's hubs, as Ansible sees them.

``inventory_hub_variables`` loads a hub's variables with Ansible's own inventory and
variable managers and templates them, exactly as the ``hub_model`` action plugin does.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from support import SHARED_CHARTS

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["SHARED_CHARTS"]  # re-exported for the model/values tests
LOCAL_INVENTORY = ROOT / "inventories" / "local"
EXAMPLE_INVENTORY = ROOT / "inventories" / "example"

# Placeholder secret values for schema checks (the real ones come from sops files).
PLACEHOLDER_TOKEN = "0" * 64
PLACEHOLDER_PASSWORD = "placeholder-password"


@functools.cache
def _init_plugin_loader() -> None:
    from ansible.plugins.loader import init_plugin_loader

    init_plugin_loader()


def _ansible_managers(sources: list[str]) -> tuple[Any, Any, Any]:
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    _init_plugin_loader()
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=sources)
    return loader, inventory, VariableManager(loader=loader, inventory=inventory)


def inventory_hosts(inventory: Path = LOCAL_INVENTORY) -> list[str]:
    """The hubs (hosts) of an inventory."""
    _, manager, _ = _ansible_managers([str(inventory / "hosts.yml")])
    return sorted(host.name for host in manager.get_hosts())


@dataclass(frozen=True)
class InventoryHub:
    name: str
    variables: dict[str, Any]  # the model's variables, templated
    inventory_dir: str
    registry_pull_secret_required: bool
    registry: dict[str, Any]  # the hub's registry_* variables, templated


def inventory_hub(host: str, inventory: Path = LOCAL_INVENTORY) -> InventoryHub:
    """A hub's variables as the ``hub_model`` action plugin collects them."""
    from ansible.template import Templar
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import collect_variables

    loader, manager, variable_manager = _ansible_managers([str(inventory / "hosts.yml")])
    host_vars = variable_manager.get_vars(host=manager.get_host(host), include_hostvars=False)
    templar = Templar(loader=loader, variables=host_vars)
    variables = _plain(collect_variables(host_vars, templar.template))
    registry = _plain({k: templar.template(v) for k, v in host_vars.items() if k.startswith("registry_")})
    pull_secret = bool(registry.get("registry_pull_secret_required", registry.get("registry_type") == "quay"))
    return InventoryHub(host, variables, str(host_vars["inventory_dir"]), pull_secret, registry)


def _plain(value: object) -> Any:  # noqa: ANN401 - whatever the inventory holds
    """Ansible's tagged/lazy containers as plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def local_registry_definition(hub_vars: InventoryHub) -> dict[str, Any]:
    """What the registry role derives for a hub (the demo hubs' generic registry on 127.0.0.1:5443)."""
    variables, registry = hub_vars.variables, hub_vars.registry
    hub = variables["hub_name"]
    if registry.get("registry_type") == "gcp":
        host = f"{registry['registry_gcp_region']}-docker.pkg.dev"
        return {"type": "gcp", "host": host, "url": f"https://{host}", "username": "_json_key",
                "image_prefix": f"{host}/{registry['registry_gcp_project']}/{registry['registry_name']}-registry/",
                "password": PLACEHOLDER_PASSWORD, "pull_secret_required": False}
    if registry.get("registry_type") == "quay":
        org = registry["registry_quay_org"]
        return {"type": "quay", "host": "quay.io", "url": "https://quay.io", "username": f"{org}+robot",
                "image_prefix": f"quay.io/{org}/{variables['cluster_name']}-{hub}-",
                "password": PLACEHOLDER_PASSWORD, "pull_secret_required": True}
    return {
        "type": "generic",
        "host": "127.0.0.1:5443",
        "url": "https://127.0.0.1:5443",
        "image_prefix": f"127.0.0.1:5443/{variables['cluster_name']}-{hub}/",
        "username": hub,
        "password": PLACEHOLDER_PASSWORD,
        "pull_secret_required": hub_vars.registry_pull_secret_required,
        # The local registry has its own CA (the cluster CA, made by `make cluster-up`).
        **({"ca_file": str(ROOT / ".local" / "cluster" / "pki" / "ca.crt")} if registry.get("registry_ca_file") else {}),
    }


def placeholder_secret(key: str) -> str:
    """A placeholder for the secret at dotted ``key``: its own for each key, long enough for any
    password rule (JupyterHub's admin password: 32 characters, not the user password)."""
    return f"placeholder-{key.rsplit('.', 1)[-1]}".ljust(40, "x")


def placeholder_secret_values(auth_keys: list[str], pull_secret: bool) -> dict[str, Any]:
    """A secret values file in the runbook's layout, with placeholders; ``auth_keys``: the
    authenticator's secrets (``secret_keys.auth_secret_keys``)."""
    jupyterhub: dict[str, Any] = {"hub": {"services": {"binder": {"apiToken": PLACEHOLDER_TOKEN}}}}
    for key in auth_keys:
        *parents, last = key.split(".")[1:]
        node = jupyterhub
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = placeholder_secret(key)
    if pull_secret:
        jupyterhub["imagePullSecret"] = {"username": "robot", "password": PLACEHOLDER_PASSWORD}
    return {
        "jupyterhub": jupyterhub,
        "binderhub-service": {
            "config": {"DockerRegistry": {"password": PLACEHOLDER_PASSWORD}},
            "buildPodsRegistryCredentials": {"password": PLACEHOLDER_PASSWORD},
        },
        "dask-gateway": {},
    }


def load_yaml(path: Path) -> Any:  # noqa: ANN401 - any YAML document
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def merged_with_defaults(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of user values onto chart defaults (null deletes a default key)."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merged_with_defaults(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
