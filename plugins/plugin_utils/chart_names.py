"""Names of the objects the charts create, as the hub roles need them.

The rules are those of the genuine charts (tests/test_charts.py renders them and
compares the names with these functions):

* ``jupyterhub`` and ``binderhub-service`` prefix their object names with the
  chart's *fullname*: ``fullnameOverride`` when it is a string (the charts'
  default is ``""``, which means no prefix at all), otherwise the release name,
  followed by ``-<chart name>`` unless the release name already contains it.
  So with the defaults the BinderHub Service is ``binderhub`` and the pull
  secret ``image-pull-secret`` whatever the release is called.
* ``dask-gateway`` always prefixes: ``api-<fullname>``, where an empty
  ``fullnameOverride`` counts as unset.

``fullname_override=None`` stands for a null ``fullnameOverride`` in the values.
"""

from __future__ import annotations

JUPYTERHUB_CHART = "jupyterhub"
BINDERHUB_SERVICE_CHART = "binderhub-service"
DASK_GATEWAY_CHART = "dask-gateway"

# binderhub-service: service.port default and config.BinderHub.port default.
BINDERHUB_SERVICE_DEFAULT_PORT = 80
BINDERHUB_CONTAINER_PORT = 8585
# jupyterhub: the hub Service's port; the public proxy Service's http port.
HUB_SERVICE_PORT = 8081
PROXY_PUBLIC_HTTP_PORT = 80
DASK_GATEWAY_API_PORT = 8000
# dask-gateway: traefik.service.ports.web.port default, and the traefik container's web port behind it.
DASK_GATEWAY_TRAEFIK_PORT = 80
DASK_GATEWAY_TRAEFIK_CONTAINER_PORT = 8000

# Keys of the jupyterhub chart's hub Secret.
HUB_CHART_VALUES_KEY = "values.yaml"
# Key of the binderhub-service config Secret holding custom/config/extraConfig.
BINDERHUB_CONFIG_KEY = "chart-config.yaml"
# Key of the build pods' docker config Secret.
BUILD_PODS_DOCKER_CONFIG_KEY = "config.json"


def chart_fullname(chart: str, release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """The ``<chart>.fullname`` helper of jupyterhub / binderhub-service: a prefix, possibly empty."""
    if isinstance(fullname_override, str):
        return fullname_override
    name = name_override or chart
    return release if name in release else f"{release}-{name}"


def prefixed(prefix: str, name: str) -> str:
    """``<prefix>-<name>``, or ``<name>`` when the prefix is empty."""
    return f"{prefix}-{name}" if prefix else name


def binderhub_service_fullname(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """The binderhub-service chart's fullname (object-name prefix); ``""`` with the chart defaults."""
    return chart_fullname(BINDERHUB_SERVICE_CHART, release, fullname_override, name_override)


def binderhub_service_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the BinderHub Deployment, Service and config Secret (``binderhub`` by default)."""
    return prefixed(binderhub_service_fullname(release, fullname_override, name_override), "binderhub")


def binderhub_service_url(
    release: str,
    namespace: str,
    port: int = BINDERHUB_SERVICE_DEFAULT_PORT,
    fullname_override: str | None = "",
    name_override: str | None = None,
) -> str:
    """In-cluster URL of the BinderHub Service: ``http://<service>.<namespace>:<port>``."""
    service = binderhub_service_name(release, fullname_override, name_override)
    return f"http://{service}.{namespace}:{port}"


def docker_api_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the docker-api DaemonSet."""
    return prefixed(binderhub_service_fullname(release, fullname_override, name_override), "docker-api")


def build_pods_docker_config_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the build pods' docker config Secret (BinderHub's push secret)."""
    return prefixed(binderhub_service_fullname(release, fullname_override, name_override), "build-pods-docker-config")


def jupyterhub_fullname(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """The jupyterhub chart's fullname (object-name prefix); ``""`` with the chart defaults."""
    return chart_fullname(JUPYTERHUB_CHART, release, fullname_override, name_override)


def hub_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the hub Deployment, Service, ConfigMap and Secret (``hub`` by default)."""
    return prefixed(jupyterhub_fullname(release, fullname_override, name_override), "hub")


def proxy_public_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the public proxy Service (``proxy-public`` by default)."""
    return prefixed(jupyterhub_fullname(release, fullname_override, name_override), "proxy-public")


def image_pull_secret_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the Secret ``imagePullSecret.create`` makes (``image-pull-secret`` by default)."""
    return prefixed(jupyterhub_fullname(release, fullname_override, name_override), "image-pull-secret")


def hub_service_api_token_key(service: str) -> str:
    """Key of a hub service's API token in the hub Secret, e.g. ``hub.services.binder.apiToken``."""
    return f"hub.services.{service}.apiToken"


def _dns_trunc(name: str) -> str:
    """Helm's ``trunc 63 | trimSuffix "-"``."""
    return name[:63].removesuffix("-")


def dask_gateway_fullname(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """The dask-gateway chart's fullname; an empty override counts as unset. Truncated to 63."""
    if fullname_override:
        return _dns_trunc(fullname_override)
    name = name_override or DASK_GATEWAY_CHART
    full = release if name in release else f"{release}-{name}"
    return _dns_trunc(full)


def dask_gateway_api_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the dask-gateway API Deployment, Service and ConfigMap (``api-<fullname>``)."""
    return _dns_trunc(f"api-{dask_gateway_fullname(release, fullname_override, name_override)}")


def dask_gateway_traefik_name(release: str, fullname_override: str | None = "", name_override: str | None = None) -> str:
    """Name of the dask-gateway traefik Deployment and Service (``traefik-<fullname>``), the hub service's target."""
    return _dns_trunc(f"traefik-{dask_gateway_fullname(release, fullname_override, name_override)}")


# Defaults spelled out for the roles (release names do not matter with them).
IMAGE_PULL_SECRET_NAME = image_pull_secret_name(JUPYTERHUB_CHART)
HUB_SECRET_NAME = hub_name(JUPYTERHUB_CHART)
BINDERHUB_SERVICE_NAME = binderhub_service_name(BINDERHUB_SERVICE_CHART)


def cluster_scoped_objects(chart: str, release: str) -> list[tuple[str, str]]:
    """(kind, name) of every cluster-scoped object ``chart`` can create for ``release`` with its
    default name overrides, whatever its other values enable. These names are derived from the
    release name, not the namespace, so two releases of one name on a cluster collide:

    * jupyterhub: the user-scheduler ClusterRole and ClusterRoleBinding ``<release>-user-scheduler``
      and the PriorityClasses ``<release>-default-priority``, ``-user-placeholder-priority`` and
      ``-image-puller-priority``;
    * dask-gateway: a ClusterRole and ClusterRoleBinding each named ``api-``, ``controller-`` and
      ``traefik-<fullname>``;
    * binderhub-service: none. (dask-gateway's CRDs are shared on purpose: helm installs them once.)
    """
    if chart == JUPYTERHUB_CHART:
        scheduler = f"{release}-user-scheduler"
        return [("ClusterRole", scheduler), ("ClusterRoleBinding", scheduler),
                *(("PriorityClass", f"{release}-{name}-priority") for name in ("default", "user-placeholder", "image-puller"))]
    if chart == DASK_GATEWAY_CHART:
        fullname = dask_gateway_fullname(release)
        return [(kind, _dns_trunc(f"{component}-{fullname}"))
                for component in ("api", "controller", "traefik") for kind in ("ClusterRole", "ClusterRoleBinding")]
    return []
