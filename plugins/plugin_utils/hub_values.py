"""Helm values per release, rendered from a validated ``HubModel`` and the registry definition.

Only non-secret values are rendered here. The roles merge the hub's decrypted secret
values file (``enc-<hub>.secret.values.yaml``) on top, in memory, with ``no_log``; the
keys it must hold are given by ``required_secret_keys``.

Order of layers for each release (later wins; dicts merge by key, lists and scalars are
replaced, as helm does): chart defaults < toolkit values (this module) < the hub's extra
values files in order < the secret values file.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import (
    DASK_GATEWAY_TRAEFIK_CONTAINER_PORT,
    DASK_GATEWAY_TRAEFIK_PORT,
    HUB_SERVICE_PORT,
    binderhub_service_url,
    dask_gateway_traefik_name,
    hub_name,
    image_pull_secret_name,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import (
    AUTHENTICATOR_CLASS_NAMES,
    IMAGE_OPTION_KEY,
    Auth,
    Choice,
    HubModel,
    Profile,
    ProfileOption,
    Storage,
    UnlistedChoice,
)

BINDER_SERVICE = "binder"
BINDER_OAUTH_CLIENT_ID = "service-binder"
BINDER_BASE_URL = "/services/binder"
DASK_GATEWAY_SERVICE = "dask-gateway"
DASK_GATEWAY_PREFIX = "/services/dask-gateway"
NFS_PVC_NAME = "home-nfs"
NFS_SHARED_SUBPATH = "_shared"
# The z2jh chart names the home volume of static storage "home".
HOME_VOLUME_NAME = "home"
# hub.extraConfig key of the fancy-profiles snippet (snippets run in key order).
FANCY_PROFILES_CONFIG_KEY = "ibh-01-fancy-profiles"
BINDER_TOKEN_CONFIG_KEY = "ibh-01-hub-oauth-token"  # noqa: S105 - a config key, not a secret

# z2jh accepts the authenticators' entry-point names in JupyterHub.authenticator_class.
AUTHENTICATOR_ENTRY_POINTS = {"github": "github", "generic": "generic-oauth", "cilogon": "cilogon", "dummy": "dummy"}

# The secret values file: the binder service's token (shared by the hub and BinderHub).
BINDER_TOKEN_KEY = "jupyterhub.hub.services.binder.apiToken"  # noqa: S105 - a key path, not a secret

FANCY_PROFILES_SNIPPET = """\
# Rendered by imagebuilding-hubs: the jupyterhub-fancy-profiles spawn form, which
# talks to BinderHub at /services/binder/ for dynamic image building.
from jupyterhub_fancy_profiles import setup_ui

setup_ui(c)
"""

BINDER_TOKEN_SNIPPET = """\
# Rendered by imagebuilding-hubs: BinderHub checks users' tokens with the hub as the
# 'binder' service, using the token it shares with the hub (from the secret values).
import os

_token = c.BinderHub.get("hub_api_token") or os.environ.get("JUPYTERHUB_API_TOKEN", "")
if _token:
    c.HubOAuth.api_token = _token
"""  # noqa: S105 - Python code that reads the token at run time, not a token


@dataclass(frozen=True)
class RegistryView:
    """The non-secret part of the registry role's ``registry_definition``."""

    type: str
    host: str
    url: str
    image_prefix: str
    username: str
    pull_secret_required: bool


REGISTRY_FIELDS = ("type", "host", "url", "image_prefix", "username", "pull_secret_required")


def registry_view(definition: Mapping[str, Any], hub: str) -> RegistryView:
    """Keep the fields the hub roles use; the password never enters the rendered values."""
    errors = []
    for key in REGISTRY_FIELDS:
        value = definition.get(key)
        if key == "pull_secret_required":
            if not isinstance(value, bool):
                errors.append(f"hub {hub!r}: registry_definition.{key}: is {value!r}; expected true or false")
        elif not isinstance(value, str) or not value:
            errors.append(f"hub {hub!r}: registry_definition.{key}: is missing or empty; expected a non-empty "
                          "string from the registry role")
    prefix, host = definition.get("image_prefix"), definition.get("host")
    if isinstance(prefix, str) and isinstance(host, str) and prefix and host and not prefix.startswith(host + "/"):
        errors.append(f"hub {hub!r}: registry_definition.image_prefix: {prefix!r} is not on host {host!r}; "
                      f"expected it to start with '{host}/'")
    if errors:
        raise ValueError("\n".join(errors))
    return RegistryView(**{key: definition[key] for key in REGISTRY_FIELDS})


# ---------------------------------------------------------------------------------------
# Merging
# ---------------------------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values: dicts merge key by key, everything else is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def layer_values(toolkit: Mapping[str, Mapping[str, Any]], files: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The toolkit's values per chart key, then each extra values file in order."""
    layered: dict[str, Any] = {key: copy.deepcopy(dict(value)) for key, value in toolkit.items()}
    for content in files:
        layered = deep_merge(layered, {k: v for k, v in content.items() if v is not None})
    return layered


# ---------------------------------------------------------------------------------------
# Shared small pieces
# ---------------------------------------------------------------------------------------


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


def _put_selector(values: dict[str, Any], path: tuple[str, ...], selector: Mapping[str, str]) -> None:
    """Set ``values[path...] = selector`` when the cluster defines node pools."""
    if not selector:
        return
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = dict(selector)


def _configured_port(model: HubModel, chart: str, path: tuple[str, ...], default: int) -> int:
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
    port = _configured_port(model, "binderhub-service", ("service", "port"), 80)
    return binderhub_service_url(release.name, release.namespace, port)


def dask_gateway_traefik_address(model: HubModel) -> str:
    """``<service>.<namespace>:<port>`` of the dask-gateway chart's traefik Service."""
    release = model.releases["dask-gateway"]
    return f"{dask_gateway_traefik_name(release.name)}.{release.namespace}:{DASK_GATEWAY_TRAEFIK_PORT}"


# ---------------------------------------------------------------------------------------
# jupyterhub
# ---------------------------------------------------------------------------------------


def authenticator_config(model: HubModel) -> dict[str, Any]:
    """``hub.config`` for the hub's authenticator, admin users and allow lists (no secrets)."""
    auth: Auth = model.jupyterhub.auth
    entry_point, class_name = AUTHENTICATOR_ENTRY_POINTS[auth.type], AUTHENTICATOR_CLASS_NAMES[auth.type]
    common: dict[str, Any] = {"admin_users": list(model.jupyterhub.admin_users)}
    if auth.allowed_users:
        common["allowed_users"] = list(auth.allowed_users)
    if auth.allow_all:
        common["allow_all"] = True
    specific: dict[str, Any] = {}
    if auth.type != "dummy":
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
    specific = deep_merge(specific, auth.extra_config)
    config: dict[str, Any] = {"JupyterHub": {"authenticator_class": entry_point}, "Authenticator": common}
    if specific:
        config[class_name] = specific
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


def choice_values(choice: Choice) -> dict[str, Any]:
    rendered: dict[str, Any] = {"display_name": choice.display_name}
    if choice.description:
        rendered["description"] = choice.description
    if choice.default:
        rendered["default"] = True
    rendered["kubespawner_override"] = copy.deepcopy(choice.kubespawner_override)
    return rendered


def unlisted_choice_values(unlisted: UnlistedChoice) -> dict[str, Any]:
    rendered: dict[str, Any] = {"enabled": unlisted.enabled}
    for key in ("display_name", "display_name_in_choices", "description_in_choices",
                "validation_regex", "validation_message"):
        value = getattr(unlisted, key)
        if value:
            rendered[key] = value
    rendered["kubespawner_override"] = copy.deepcopy(unlisted.kubespawner_override)
    return rendered


def option_values(option: ProfileOption) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "display_name": option.display_name,
        "choices": {choice.key: choice_values(choice) for choice in option.choices},
    }
    if option.unlisted_choice is not None:
        rendered["unlisted_choice"] = unlisted_choice_values(option.unlisted_choice)
    if option.key == IMAGE_OPTION_KEY and option.dynamic_image_building:
        rendered["dynamic_image_building"] = {"enabled": True}
    return rendered


def profile_values(profile: Profile) -> dict[str, Any]:
    """One entry of ``singleuser.profileList`` in KubeSpawner's ``profile_list`` format."""
    rendered: dict[str, Any] = {"display_name": profile.display_name, "slug": profile.slug}
    if profile.description:
        rendered["description"] = profile.description
    if profile.default:
        rendered["default"] = True
    if profile.kubespawner_override:
        rendered["kubespawner_override"] = copy.deepcopy(profile.kubespawner_override)
    if profile.options:
        rendered["profile_options"] = {option.key: option_values(option) for option in profile.options}
    return rendered


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
    services: dict[str, Any] = {
        BINDER_SERVICE: {
            "url": binder_url(model),
            "oauth_client_id": BINDER_OAUTH_CLIENT_ID,
            "oauth_redirect_uri": binder_oauth_redirect_uri(model),
            "oauth_no_confirm": True,
            "display": False,
        },
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


def jupyterhub_values(model: HubModel, registry: RegistryView) -> dict[str, Any]:
    """Values of the ``jupyterhub`` release (z2jh 4.x)."""
    values: dict[str, Any] = {
        "hub": {
            "image": dict(model.jupyterhub.hub_image),
            "config": authenticator_config(model),
            "services": hub_services(model),
            "loadRoles": {
                "user": {
                    "description": "What every user may do: their own resources, and use BinderHub",
                    "scopes": ["self", f"access:services!service={BINDER_SERVICE}"],
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
    if registry.pull_secret_required:
        values["imagePullSecret"] = {"create": True, "registry": registry.host, "username": registry.username}
    if model.jupyterhub.ingress.enabled:
        values["ingress"] = ingress_values(model)
    core, user = node_selector(model, "core"), node_selector(model, "user")
    for path in (("hub", "nodeSelector"), ("proxy", "chp", "nodeSelector"), ("proxy", "traefik", "nodeSelector"),
                 ("scheduling", "userScheduler", "nodeSelector")):
        _put_selector(values, path, core)
    _put_selector(values, ("singleuser", "nodeSelector"), user)
    return values


# ---------------------------------------------------------------------------------------
# binderhub-service
# ---------------------------------------------------------------------------------------


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
    _put_selector(values, ("nodeSelector",), node_selector(model, "core"))
    return values


def _pool_tolerations(pool: str) -> list[dict[str, str]]:
    """Tolerate the z2jh-style taint of a dedicated pool (both spellings z2jh tolerates)."""
    return [
        {"key": key, "operator": "Equal", "value": pool, "effect": "NoSchedule"}
        for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
    ]


# ---------------------------------------------------------------------------------------
# dask-gateway
# ---------------------------------------------------------------------------------------


def dask_gateway_values(model: HubModel, registry: RegistryView) -> dict[str, Any]:
    """Values of the ``dask-gateway`` release, authenticating users with the hub."""
    user, core = node_selector(model, "user"), node_selector(model, "core")
    backend: dict[str, Any] = {}
    if registry.pull_secret_required:
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
        _put_selector(values, path, core)
    return values


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def toolkit_values(model: HubModel, registry: RegistryView) -> dict[str, dict[str, Any]]:
    values = {
        "jupyterhub": jupyterhub_values(model, registry),
        "binderhub-service": binderhub_service_values(model, registry),
    }
    if model.hub.dask_gateway_enabled:
        values["dask-gateway"] = dask_gateway_values(model, registry)
    return values


def render_values(model: HubModel, registry: RegistryView) -> dict[str, dict[str, Any]]:
    """Values per release key (``jupyterhub``, ``binderhub-service``, ``dask-gateway``).

    A values file's section for a release the hub does not deploy (``dask-gateway``
    without ``hub_dask_gateway_enabled``) is dropped.
    """
    layered = layer_values(toolkit_values(model, registry), [f.content for f in model.values_files])
    return {key: layered.get(key, {}) for key in model.releases}


# ---------------------------------------------------------------------------------------
# Secret values (merged by the roles, in memory)
# ---------------------------------------------------------------------------------------


def required_secret_keys(model: HubModel, registry: RegistryView) -> list[str]:
    """Dotted keys the hub's secret values file must hold for its releases to work."""
    keys = [BINDER_TOKEN_KEY]
    if model.jupyterhub.auth.type != "dummy":
        keys.append(f"jupyterhub.hub.config.{AUTHENTICATOR_CLASS_NAMES[model.jupyterhub.auth.type]}.client_secret")
    if registry.pull_secret_required:
        keys.append("jupyterhub.imagePullSecret.password")
    keys += ["binderhub-service.config.DockerRegistry.password", "binderhub-service.buildPodsRegistryCredentials.password"]
    return keys


def dig(values: Mapping[str, Any], dotted: str) -> object:
    """``values`` at a dotted key path (path parts contain no dots), or None."""
    node: object = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def missing_secret_keys(secret_values: Mapping[str, Any], keys: list[str]) -> list[str]:
    """The keys that are absent or empty (names only: never the values)."""
    return [key for key in keys if dig(secret_values or {}, key) in (None, "")]


def release_values(rendered: Mapping[str, Any], secret_values: Mapping[str, Any], release_key: str) -> dict[str, Any]:
    """A release's final values: the rendered ones, then the secret file's section on top.

    BinderHub gets the binder service's token from ``jupyterhub.hub.services.binder.apiToken``
    (one token, one place in the file) as ``config.BinderHub.hub_api_token``.
    """
    secret_section = (secret_values or {}).get(release_key) or {}
    merged = deep_merge(rendered, secret_section)
    token = dig(secret_values or {}, BINDER_TOKEN_KEY)
    if release_key == "binderhub-service" and token:
        merged = deep_merge(merged, {"config": {"BinderHub": {"hub_api_token": token}}})
    return merged


REDACTED = "********"
# Keys of the secret values file whose values are not secret (they also name things the
# diff must show, e.g. a username that is also the namespace).
NOT_SECRET_KEYS = frozenset(("username", "registry", "server", "url", "email", "create", "mountPath"))


def _secret_strings(value: object) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key not in NOT_SECRET_KEYS:
                yield from _secret_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_strings(item)
    elif isinstance(value, str) and len(value) >= 4:
        yield value


def redact(text: str, secret_values: Mapping[str, Any]) -> str:
    """``text`` (e.g. helm's error) with every secret value, plain or base64, replaced."""
    needles: set[str] = set()
    for secret in _secret_strings(secret_values or {}):
        needles.add(secret)
        needles.add(base64.b64encode(secret.encode()).decode())
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, REDACTED)
    return text


def plain(value: object) -> object:
    """``value`` with plain dicts, lists, str, int, float, bool and None only.

    Ansible hands plugins its own (tagged) subclasses of these, which YAML dumpers refuse.
    """
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return str(value)
