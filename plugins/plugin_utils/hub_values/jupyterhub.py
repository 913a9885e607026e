"""Values of the ``jupyterhub`` release (z2jh 4.x): authenticator, storage, services, ingress, node selectors.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import DASK_GATEWAY_TRAEFIK_CONTAINER_PORT
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.login_rules import AUTHENTICATORS, OAUTH_TYPES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Auth, HubModel, Storage
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.profiles import profile_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import (
    BINDER_OAUTH_CLIENT_ID,
    BINDER_SERVICE,
    DASK_GATEWAY_PREFIX,
    DASK_GATEWAY_SERVICE,
    SMOKE_SCOPES,
    SMOKE_SERVICE,
    SMOKE_USER,
    binder_oauth_redirect_uri,
    binder_url,
    dask_gateway_traefik_address,
    node_selector,
    put_selector,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge

NFS_PVC_NAME = "home-nfs"
NFS_SHARED_SUBPATH = "_shared"
# The z2jh chart names the home volume of static storage "home".
HOME_VOLUME_NAME = "home"
# hub.extraConfig key of the fancy-profiles snippet (snippets run in key order).
FANCY_PROFILES_CONFIG_KEY = "ibh-01-fancy-profiles"

# z2jh accepts the authenticators' entry-point names in JupyterHub.authenticator_class.
AUTHENTICATOR_ENTRY_POINTS = {kind: entry_point for kind, (entry_point, _) in AUTHENTICATORS.items()}

FANCY_PROFILES_SNIPPET = """\
# Rendered by imagebuilding-hubs: the jupyterhub-fancy-profiles spawn form, which
# talks to BinderHub at /services/binder/ for dynamic image building.
from jupyterhub_fancy_profiles import setup_ui

setup_ui(c)
"""


def authenticator_config(model: HubModel) -> dict[str, Any]:
    """``hub.config`` for the hub's authenticator, admin users and allow lists (no secrets)."""
    auth: Auth = model.jupyterhub.auth
    entry_point, class_name = AUTHENTICATORS[auth.type]
    # The smoke check's user exists only while a check runs (created and deleted through the API):
    # blocked, nobody logs in as that user through the hub's authenticator.
    common: dict[str, Any] = {"admin_users": list(model.jupyterhub.admin_users), "blocked_users": [SMOKE_USER]}
    if auth.allowed_users:
        common["allowed_users"] = list(auth.allowed_users)
    if auth.allow_all:
        common["allow_all"] = True
    specific: dict[str, Any] = {}
    if auth.type in OAUTH_TYPES:
        specific["client_id"] = auth.client_id
        specific["oauth_callback_url"] = f"https://{model.hub.domain}/hub/oauth_callback"
    if auth.scope:
        specific["scope"] = list(auth.scope)
    if auth.type == "github":
        if auth.allowed_organizations:
            specific["allowed_organizations"] = list(auth.allowed_organizations)
            # Private organization and team membership is only visible with read:org.
            specific.setdefault("scope", ["read:org"])
    elif auth.type == "generic":
        specific.update(_generic_oauth_config(auth))
    elif auth.type == "cilogon":
        specific["allowed_idps"] = copy.deepcopy(auth.allowed_idps)
    elif auth.type == "google":
        specific.update(_google_config(auth, common))
    specific = deep_merge(specific, auth.extra_config)
    config: dict[str, Any] = {"JupyterHub": {"authenticator_class": entry_point}, "Authenticator": common}
    if specific:
        config[class_name] = specific
    return config


def _google_config(auth: Auth, common: dict[str, Any]) -> dict[str, Any]:
    """oauthenticator 17's hosted_domain refuses accounts of other Workspace domains before any
    allow rule, and is no allow rule itself: with the domains alone, allow_all lets in all of
    their users (and nobody else)."""
    config: dict[str, Any] = {}
    if auth.login_service:
        config["login_service"] = auth.login_service
    if auth.allowed_hosted_domains:
        config["hosted_domain"] = list(auth.allowed_hosted_domains)
        if not (auth.allowed_users or auth.extra_config.get("allowed_google_groups")):
            common["allow_all"] = True
    return config


def _generic_oauth_config(auth: Auth) -> dict[str, Any]:
    config: dict[str, Any] = {
        "authorize_url": auth.authorize_url,
        "token_url": auth.token_url,
        "userdata_url": auth.userdata_url,
        "username_claim": auth.username_claim,
    }
    if not auth.scope:
        config["scope"] = ["openid", "profile", "email"]
    if auth.login_service:
        config["login_service"] = auth.login_service
    if auth.allowed_groups:
        config["allowed_groups"] = list(auth.allowed_groups)
        config["auth_state_groups_key"] = f"oauth_user.{auth.groups_claim}"
        config["manage_groups"] = True
    return config


def storage_values(storage: Storage) -> dict[str, Any]:
    """``singleuser.storage``: dynamic PVCs, the NFS share as a static PVC, or none."""
    if storage.type == "dynamic":
        values: dict[str, Any] = {"type": "dynamic", "capacity": storage.capacity,
                                  "homeMountPath": storage.home_mount_path}
        if storage.storage_class:
            values["dynamic"] = {"storageClass": storage.storage_class}
        return values
    if storage.type == "nfs":
        values = {
            "type": "static",
            "static": {"pvcName": NFS_PVC_NAME, "subPath": "{username}"},
            "homeMountPath": storage.home_mount_path,
        }
        if storage.shared_dir:
            # Everybody reads the share's _shared directory; admins write it from their own pods.
            values["extraVolumeMounts"] = [{
                "name": HOME_VOLUME_NAME,
                "mountPath": f"{storage.home_mount_path.rstrip('/')}/shared",
                "subPath": NFS_SHARED_SUBPATH,
                "readOnly": True,
            }]
        return values
    return {"type": "none"}


def nfs_objects(model: HubModel) -> list[dict[str, Any]]:
    """The PersistentVolume and PersistentVolumeClaim of an NFS home share (the chart makes none)."""
    storage = model.jupyterhub.storage
    if storage.type != "nfs":
        return []
    namespace = model.hub.namespace
    pv_name = f"{namespace}-{NFS_PVC_NAME}"
    labels = {"app.kubernetes.io/managed-by": "imagebuilding-hubs", "hub.jupyter.org/hub": model.hub.name}
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "labels": labels},
        "spec": {
            # NFS ignores the size; Kubernetes requires one.
            "capacity": {"storage": "1Mi"},
            "accessModes": ["ReadWriteMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "mountOptions": list(storage.mount_options),
            "nfs": {"server": storage.server, "path": storage.path},
            "claimRef": {"namespace": namespace, "name": NFS_PVC_NAME},
        },
    }
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": NFS_PVC_NAME, "namespace": namespace, "labels": labels},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "volumeName": pv_name,
            "resources": {"requests": {"storage": "1Mi"}},
        },
    }
    return [volume, claim]


def hub_services(model: HubModel) -> dict[str, Any]:
    # No URL, no OAuth client: only an API token (from the secret values file) for the smoke check.
    services: dict[str, Any] = {SMOKE_SERVICE: {"display": False}}
    if model.hub.image_building:
        services[BINDER_SERVICE] = {
            "url": binder_url(model),
            "oauth_client_id": BINDER_OAUTH_CLIENT_ID,
            "oauth_redirect_uri": binder_oauth_redirect_uri(model),
            "oauth_no_confirm": True,
            "display": False,
        }
    if model.hub.dask_gateway_enabled:
        services[DASK_GATEWAY_SERVICE] = {
            "url": f"http://{dask_gateway_traefik_address(model)}",
            "display": False,
        }
    return services


def dask_gateway_proxy_egress(model: HubModel) -> dict[str, Any]:
    """The user pods' way to dask-gateway's traefik (DASK_GATEWAY__PROXY_ADDRESS): z2jh's singleuser
    NetworkPolicy allows no private addresses, so where policies are enforced user pods could not
    reach their Dask clusters without this egress rule."""
    selector = {"app.kubernetes.io/component": "traefik", "app.kubernetes.io/instance": model.releases["dask-gateway"].name}
    return {"to": [{"podSelector": {"matchLabels": selector}}],
            "ports": [{"port": DASK_GATEWAY_TRAEFIK_CONTAINER_PORT, "protocol": "TCP"}]}


def dask_gateway_singleuser_env(model: HubModel) -> dict[str, str]:
    traefik = dask_gateway_traefik_address(model)
    return {
        "DASK_GATEWAY__ADDRESS": f"https://{model.hub.domain}{DASK_GATEWAY_PREFIX}",
        "DASK_GATEWAY__PROXY_ADDRESS": f"gateway://{traefik}",
        "DASK_GATEWAY__PUBLIC_ADDRESS": f"{DASK_GATEWAY_PREFIX}/",
        "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
    }


def ingress_values(model: HubModel) -> dict[str, Any]:
    ingress = model.jupyterhub.ingress
    values: dict[str, Any] = {"enabled": True, "hosts": [model.hub.domain]}
    if ingress.class_name:
        values["ingressClassName"] = ingress.class_name
    if ingress.annotations:
        values["annotations"] = dict(ingress.annotations)
    if ingress.tls_secret_name:
        values["tls"] = [{"hosts": [model.hub.domain], "secretName": ingress.tls_secret_name}]
    return values


def jupyterhub_values(model: HubModel, registry: RegistryView | None) -> dict[str, Any]:
    """Values of the ``jupyterhub`` release (z2jh 4.x); ``registry`` None: the hub builds no images,
    so no ``binder`` service, scope or pull secret of built images."""
    values: dict[str, Any] = {
        "hub": {
            "image": dict(model.jupyterhub.hub_image),
            "config": authenticator_config(model),
            "services": hub_services(model),
            "loadRoles": {
                "user": {
                    "description": "What every user may do: their own resources, and use BinderHub",
                    "scopes": ["self", f"access:services!service={BINDER_SERVICE}"],
                } if model.hub.image_building else {
                    "description": "What every user may do: their own resources",
                    "scopes": ["self"],
                },
                SMOKE_SERVICE: {
                    "description": "The smoke check: create, start, stop and delete the smoke-test user only",
                    "scopes": list(SMOKE_SCOPES),
                    "services": [SMOKE_SERVICE],
                },
            },
            "extraConfig": {FANCY_PROFILES_CONFIG_KEY: FANCY_PROFILES_SNIPPET},
        },
        "singleuser": {
            "storage": storage_values(model.jupyterhub.storage),
        },
    }
    if model.jupyterhub.profiles:
        values["singleuser"]["profileList"] = [profile_values(p) for p in model.jupyterhub.profiles]
    if model.hub.dask_gateway_enabled:
        values["singleuser"]["extraEnv"] = dask_gateway_singleuser_env(model)
        values["singleuser"]["networkPolicy"] = {"egress": [dask_gateway_proxy_egress(model)]}
    if registry is not None and registry.pull_secret_required:
        values["imagePullSecret"] = {"create": True, "registry": registry.host, "username": registry.username}
    if model.jupyterhub.ingress.enabled:
        values["ingress"] = ingress_values(model)
    core, user = node_selector(model, "core"), node_selector(model, "user")
    for path in (("hub", "nodeSelector"), ("proxy", "chp", "nodeSelector"), ("proxy", "traefik", "nodeSelector"),
                 ("scheduling", "userScheduler", "nodeSelector")):
        put_selector(values, path, core)
    put_selector(values, ("singleuser", "nodeSelector"), user)
    return values
