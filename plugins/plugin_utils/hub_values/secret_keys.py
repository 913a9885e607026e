"""What the hub's secret values file must hold for its releases, and each release's values with
the file's section merged on top (by the roles, in memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.auth import AUTHENTICATOR_CLASS_NAMES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge, get_path

# The secret values file: the binder service's token (shared by the hub and BinderHub).
BINDER_TOKEN_KEY = "jupyterhub.hub.services.binder.apiToken"  # noqa: S105 - a key path, not a secret


def required_secret_keys(model: HubModel, registry: RegistryView) -> list[str]:
    """Dotted keys the hub's secret values file must hold for its releases to work."""
    keys = [BINDER_TOKEN_KEY]
    if model.jupyterhub.auth.type != "dummy":
        keys.append(f"jupyterhub.hub.config.{AUTHENTICATOR_CLASS_NAMES[model.jupyterhub.auth.type]}.client_secret")
    if registry.pull_secret_required:
        keys.append("jupyterhub.imagePullSecret.password")
    keys += ["binderhub-service.config.DockerRegistry.password", "binderhub-service.buildPodsRegistryCredentials.password"]
    return keys



def missing_secret_keys(secret_values: Mapping[str, Any], keys: list[str]) -> list[str]:
    """The keys that are absent or empty (names only: never the values)."""
    return [key for key in keys if get_path(secret_values or {}, key) in (None, "")]


def release_values(rendered: Mapping[str, Any], secret_values: Mapping[str, Any], release_key: str) -> dict[str, Any]:
    """A release's final values: the rendered ones, then the secret file's section on top.

    BinderHub gets the binder service's token from ``jupyterhub.hub.services.binder.apiToken``
    (one token, one place in the file) as ``config.BinderHub.hub_api_token``.
    """
    secret_section = (secret_values or {}).get(release_key) or {}
    merged = deep_merge(rendered, secret_section)
    token = get_path(secret_values or {}, BINDER_TOKEN_KEY)
    if release_key == "binderhub-service" and token:
        merged = deep_merge(merged, {"config": {"BinderHub": {"hub_api_token": token}}})
    return merged
