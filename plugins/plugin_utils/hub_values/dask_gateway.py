"""Values of the ``dask-gateway`` release, authenticating users with the hub.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import image_pull_secret_name
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import (
    DASK_GATEWAY_PREFIX,
    hub_api_url,
    node_selector,
    put_selector,
)


def dask_gateway_values(model: HubModel, registry: RegistryView | None) -> dict[str, Any]:
    """Values of the ``dask-gateway`` release, authenticating users with the hub."""
    user, core = node_selector(model, "user"), node_selector(model, "core")
    backend: dict[str, Any] = {}
    if registry is not None and registry.pull_secret_required:
        # The jupyterhub chart injects its pull secret only into its own pods.
        backend["imagePullSecrets"] = [{"name": image_pull_secret_name(model.releases["jupyterhub"].name)}]
    if user:
        backend["scheduler"] = {"extraPodConfig": {"nodeSelector": dict(user)}}
        backend["worker"] = {"extraPodConfig": {"nodeSelector": dict(user)}}
    values: dict[str, Any] = {
        "gateway": {
            "prefix": DASK_GATEWAY_PREFIX,
            "auth": {"type": "jupyterhub", "jupyterhub": {"apiUrl": hub_api_url(model).rstrip("/")}},
            "backend": backend,
        },
        "traefik": {"service": {"type": "ClusterIP"}},
    }
    for path in (("gateway", "nodeSelector"), ("controller", "nodeSelector"), ("traefik", "nodeSelector")):
        put_selector(values, path, core)
    return values
