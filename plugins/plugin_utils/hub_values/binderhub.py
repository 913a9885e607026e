"""Values of the ``binderhub-service`` release: BinderHub as the hub's ``binder`` service, building into the hub's registry.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry_ca import registry_ca_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import (
    BINDER_BASE_URL,
    BINDER_OAUTH_CLIENT_ID,
    BINDER_SERVICE,
    binder_oauth_redirect_uri,
    hub_api_url,
    hub_url,
    node_selector,
    put_selector,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge

BINDER_TOKEN_CONFIG_KEY = "ibh-01-hub-oauth-token"  # noqa: S105 - a config key, not a secret

BINDER_TOKEN_SNIPPET = """\
# Rendered by imagebuilding-hubs: BinderHub checks users' tokens with the hub as the
# 'binder' service, using the token it shares with the hub (from the secret values).
import os

_token = c.BinderHub.get("hub_api_token") or os.environ.get("JUPYTERHUB_API_TOKEN", "")
if _token:
    c.HubOAuth.api_token = _token
"""  # noqa: S105 - Python code that reads the token at run time, not a token


def binderhub_service_values(model: HubModel, registry: RegistryView) -> dict[str, Any]:
    """Values of the ``binderhub-service`` release: BinderHub as the hub's ``binder`` service."""
    build = node_selector(model, model.binderhub_service.build_node_pool)
    values: dict[str, Any] = {
        "config": {
            "BinderHub": {
                "base_url": BINDER_BASE_URL,
                "use_registry": True,
                "auth_enabled": True,
                "enable_api_only_mode": True,
                "image_prefix": registry.image_prefix,
                "hub_url": hub_url(model),
                "hub_url_local": hub_api_url(model).removesuffix("hub/api/"),
            },
            "HubOAuth": {
                "api_url": hub_api_url(model),
                "oauth_client_id": BINDER_OAUTH_CLIENT_ID,
                "oauth_redirect_uri": binder_oauth_redirect_uri(model),
                "base_url": f"{BINDER_BASE_URL}/",
                "hub_prefix": "/hub/",
                "access_scopes": [f"access:services!service={BINDER_SERVICE}"],
            },
            "DockerRegistry": {"url": registry.url, "username": registry.username},
        },
        "extraConfig": {BINDER_TOKEN_CONFIG_KEY: BINDER_TOKEN_SNIPPET},
        "buildPodsRegistryCredentials": {"server": registry.url, "username": registry.username},
        "dockerApi": {
            "storage": {"emptyDir": {"sizeLimit": model.binderhub_service.docker_cache_size}},
        },
    }
    if build:
        values["config"]["KubernetesBuildExecutor"] = {"node_selector": dict(build)}
        values["dockerApi"]["nodeSelector"] = dict(build)
        values["dockerApi"]["tolerations"] = _pool_tolerations(model.binderhub_service.build_node_pool)
    put_selector(values, ("nodeSelector",), node_selector(model, "core"))
    return deep_merge(values, registry_ca_values(registry))


def _pool_tolerations(pool: str) -> list[dict[str, str]]:
    """Tolerate the z2jh-style taint of a dedicated pool (both spellings z2jh tolerates)."""
    return [
        {"key": key, "operator": "Equal", "value": pool, "effect": "NoSchedule"}
        for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
    ]
