"""How the releases find each other and where they run: the hub's URLs, the BinderHub and
dask-gateway Services' addresses, node selectors of the cluster's pools.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import (
    DASK_GATEWAY_TRAEFIK_PORT,
    HUB_SERVICE_PORT,
    binderhub_service_url,
    dask_gateway_traefik_name,
    hub_name,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel

BINDER_SERVICE = "binder"
BINDER_OAUTH_CLIENT_ID = "service-binder"
BINDER_BASE_URL = "/services/binder"
DASK_GATEWAY_SERVICE = "dask-gateway"
DASK_GATEWAY_PREFIX = "/services/dask-gateway"
# The smoke check (plugins/action/hub_smoke.py): a hub service whose token may only create, start,
# stop and delete one user, the smoke-test user, whom no authenticator lets log in.
SMOKE_SERVICE = "hub-smoke"
SMOKE_USER = "hub-smoke-user"  # not the service's name: JupyterHub refuses to let a service delete "itself"
SMOKE_SCOPES = (f"admin:users!user={SMOKE_USER}", f"servers!user={SMOKE_USER}")


def hub_url(model: HubModel) -> str:
    return f"https://{model.hub.domain}/"


def binder_oauth_redirect_uri(model: HubModel) -> str:
    return f"https://{model.hub.domain}{BINDER_BASE_URL}/oauth_callback"


def hub_api_url(model: HubModel) -> str:
    """The hub's REST API inside the cluster (hub Service, port 8081)."""
    service = hub_name(model.releases["jupyterhub"].name)
    return f"http://{service}.{model.hub.namespace}.svc.cluster.local:{HUB_SERVICE_PORT}/hub/api/"


def node_selector(model: HubModel, pool: str) -> dict[str, str]:
    return dict(model.cluster.node_pools.get(pool, {}))


def put_selector(values: dict[str, Any], path: tuple[str, ...], selector: Mapping[str, str]) -> None:
    """Set ``values[path...] = selector`` when the cluster defines node pools."""
    if not selector:
        return
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = dict(selector)


def configured_port(model: HubModel, chart: str, path: tuple[str, ...], default: int) -> int:
    """A port an extra values file overrides (e.g. binderhub-service.service.port), else the default."""
    port = default
    for values_file in model.values_files:
        node: Any = values_file.content.get(chart)
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, int) and not isinstance(node, bool):
            port = node
    return port


def binder_url(model: HubModel) -> str:
    release = model.releases["binderhub-service"]
    port = configured_port(model, "binderhub-service", ("service", "port"), 80)
    return binderhub_service_url(release.name, release.namespace, port)


def dask_gateway_traefik_address(model: HubModel) -> str:
    """``<service>.<namespace>:<port>`` of the dask-gateway chart's traefik Service."""
    release = model.releases["dask-gateway"]
    return f"{dask_gateway_traefik_name(release.name)}.{release.namespace}:{DASK_GATEWAY_TRAEFIK_PORT}"
