"""Pure rules of the registry role: names, hosts, image prefixes, registry definitions.

Everything here is a plain function of its arguments (no I/O), so the role's modules and
the tests share one implementation. Errors are returned as strings that name the role
variable at fault and say what is expected, so a failing hub reads e.g.::

    registry_image_prefix 'quay.io/other/x-' must start with 'quay.io/myorg/' ...

BinderHub appends the escaped repository name directly to ``image_prefix``, so a prefix
ends either in ``/`` (a new path component) or in ``-`` (the name continues the last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import DNS_LABEL_RE

REGISTRY_TYPES = ("gcp", "quay", "generic")

# Every variable of the registry role (meta/argument_specs.yml; a test keeps both in step) and
# the registry types that read it; () for every type. Set for a hub of another type, a
# variable is ignored: the hub model warns naming the hub, the variable and its types.
VARIABLE_TYPES: dict[str, tuple[str, ...]] = {
    "registry_type": (),
    "registry_image_prefix": (),
    "registry_ca_file": (),
    "registry_validate_certs": (),
    "registry_verify": (),
    "registry_verify_push": (),
    "registry_rotate": (),
    "registry_password_length": (),
    "registry_secrets_file": (),
    "registry_pull_secret_required": (),
    "registry_checked": (),
    "registry_verified": (),
    "registry_password": ("generic", "gcp"),
    "registry_host": ("generic",),
    "registry_url": ("generic",),
    "registry_namespace": ("generic",),
    "registry_username": ("generic",),
    "registry_htpasswd_file": ("generic",),
    "registry_name": ("gcp",),
    "registry_gcp_project": ("gcp",),
    "registry_gcp_region": ("gcp",),
    "registry_terraform_vars_file": ("gcp",),
    "registry_terraform_variable": ("gcp",),
    "registry_terraform_dir": ("gcp",),
    "registry_terraform_state_file": ("gcp",),
    "registry_terraform_output": ("gcp",),
    "registry_terraform_binary": ("gcp",),
    "registry_terraform_apply": ("gcp",),
    "registry_quay_org": ("quay",),
    "registry_quay_robot": ("quay",),
    "registry_quay_host": ("quay",),
    "registry_quay_api_url": ("quay",),
    "registry_quay_robot_description": ("quay",),
    "registry_quay_robot_token": ("quay",),
    "registry_quay_api_token": ("quay",),
}
# Facts the registry role sets during a run (not inventory variables, but not typos either).
FACTS = ("registry_definition",)


def ignored_variables(registry_type: str, given: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """The ``given`` registry variables a registry of ``registry_type`` does not read, each with
    the types that read it, e.g. ``registry_gcp_project (read by gcp registries)``. Names only."""
    return [f"{name} (read by {' and '.join(VARIABLE_TYPES[name])} registries)" for name in sorted(set(given))
            if VARIABLE_TYPES.get(name) and registry_type not in VARIABLE_TYPES[name]]


def ignored_variables_warning(hub: str, registry_type: str, given: list[str] | tuple[str, ...] | set[str]) -> str:
    """The warning for the hub's ignored registry variables ('' when none is)."""
    ignored = ignored_variables(registry_type, given)
    if not ignored:
        return ""
    return (f"hub '{hub}': registry_type is '{registry_type}', so these variables given for the hub are ignored: "
            + ", ".join(ignored) + "; remove them, or set them only for the hubs whose registry reads them "
            "(e.g. in the group_vars of their provider or cluster)")

# Docker Hub: images are named docker.io/<namespace>/<name>, the API lives elsewhere.
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
DOCKER_HUB_URL = "https://registry-1.docker.io"
# Multi-tenant registries where the first path component is an owner or organization.
NAMESPACED_HOSTS = (*DOCKER_HUB_HOSTS, "ghcr.io", "quay.io", "registry.gitlab.com")

GCP_USERNAME = "_json_key"
GCP_REPOSITORY_SUFFIX = "-registry"

# distribution/reference grammar (lowercase only: we refuse upper case everywhere).
_DOMAIN_COMPONENT = r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])"
_HOST_RE = re.compile(rf"^{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]{{1,5}})?$")
_PATH_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$")
NAME_TOTAL_LENGTH_MAX = 255

GCP_REGION_RE = re.compile(r"^[a-z]+(?:-[a-z]+)+[0-9]+$")
GCP_PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# Artifact Registry repository ids: lowercase letters, digits and hyphens, <= 63 chars.
GCP_REPOSITORY_RE = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
# Quay: organization (namespace) names and robot short names.
QUAY_ORG_RE = re.compile(r"^(?=.{2,255}$)[a-z0-9]+(?:[._-][a-z0-9]+)*$")
QUAY_ROBOT_RE = re.compile(r"^[a-z][a-z0-9_]{1,254}$")


@dataclass(frozen=True)
class RegistrySettings:
    """Inventory settings of one hub's registry (the role variables, without secrets)."""

    type: str
    hub: str
    cluster: str = ""
    name: str = ""
    image_prefix: str = ""
    host: str = ""
    url: str = ""
    namespace: str = ""
    username: str = ""
    gcp_project: str = ""
    gcp_region: str = ""
    quay_org: str = ""
    quay_robot: str = ""
    quay_host: str = "quay.io"
    quay_api_url: str = ""
    ca_file: str = ""
    pull_secret_required: bool | None = None


# --- hosts and urls ---------------------------------------------------------------


def check_host(host: str, variable: str = "registry_host") -> list[str]:
    """A registry host is ``name[:port]``, lowercase, without scheme or path."""
    if not host:
        return [f"{variable} is required: the registry host[:port], e.g. 'registry.example.org'"]
    if "://" in host:
        return [f"{variable} '{host}' must not contain a scheme: give host[:port] only, e.g. '{host.split('://', 1)[1]}'"]
    if "/" in host:
        return [f"{variable} '{host}' must not contain a path: give host[:port] only"]
    if host != host.lower():
        return [f"{variable} '{host}' must be lowercase"]
    if not _HOST_RE.match(host):
        return [f"{variable} '{host}' is not a valid host[:port]"]
    return []


def is_docker_hub(host: str) -> bool:
    return host.lower() in DOCKER_HUB_HOSTS


def image_host(host: str) -> str:
    """The host images are named with: Docker Hub's images are ``docker.io/...``."""
    return "docker.io" if is_docker_hub(host) else host


def default_url(host: str) -> str:
    """The distribution API base URL for a registry host."""
    return DOCKER_HUB_URL if is_docker_hub(host) else f"https://{host}"


def url_host(url: str) -> str:
    """host[:port] of an http(s) URL ('' when it is not one)."""
    match = re.match(r"^https?://([^/?#]+)/?$", url)
    return match.group(1).lower() if match else ""


def check_url(url: str, host: str) -> list[str]:
    """The API URL is http(s)://host[:port] with no path, and belongs to the host."""
    if not re.match(r"^https?://", url):
        return [f"registry_url '{url}' must start with https:// (or http:// for a plain-HTTP registry)"]
    found = url_host(url)
    if not found:
        return [f"registry_url '{url}' must be scheme://host[:port] with no path"]
    if is_docker_hub(host):
        if found not in DOCKER_HUB_HOSTS:
            return [f"registry_url '{url}' does not belong to Docker Hub: use '{DOCKER_HUB_URL}'"]
        return []
    if found != host:
        return [f"registry_url '{url}' points at '{found}' but registry_host is '{host}': they must name the same registry"]
    return []


# --- image prefixes -----------------------------------------------------------------


def split_prefix(prefix: str) -> tuple[str, str]:
    """('host', 'path part') of an image prefix."""
    host, _, path = prefix.partition("/")
    return host, path


def check_reference_shape(prefix: str, variable: str = "registry_image_prefix") -> list[str]:
    """Shape rules common to every registry: what BinderHub can append a name to."""
    if not prefix:
        return [f"{variable} is empty"]
    if "://" in prefix:
        return [
            f"{variable} '{prefix}' must not contain a scheme (no https://): "
            "it is an image name prefix like 'registry.example.org/hub/'"
        ]
    if prefix != prefix.lower():
        return [f"{variable} '{prefix}' must be lowercase: image references are lowercase"]
    if re.search(r"\s", prefix):
        return [f"{variable} '{prefix}' must not contain whitespace"]
    if not prefix.endswith(("/", "-")):
        return [f"{variable} '{prefix}' must end in '/' or '-': BinderHub appends the repository name directly to it"]
    host, path = split_prefix(prefix)
    if "/" not in prefix or not host:
        return [f"{variable} '{prefix}' must start with the registry host, e.g. '{prefix.rstrip('/-')}/images/'"]
    errors = check_host(host, variable=f"the host part of {variable} '{prefix}'")
    # Appending a name completes the last component: check the grammar on prefix + 'x'.
    for component in (path + "x").split("/"):
        if not _PATH_COMPONENT_RE.match(component):
            errors.append(
                f"{variable} '{prefix}' has an invalid path component '{component.rstrip('x') or component}': "
                "components are lowercase letters and digits separated by '.', '_', '__' or '-'"
            )
            break
    if len(prefix) + 16 > NAME_TOTAL_LENGTH_MAX:
        errors.append(f"{variable} '{prefix}' is too long: image names are at most {NAME_TOTAL_LENGTH_MAX} characters")
    return errors


def gcp_host(region: str) -> str:
    return f"{region}-docker.pkg.dev"


def default_repository_name(hub: str) -> str:
    """``registry_name`` when none is given: the hub's name, with ``hub-`` before a name that
    starts with a digit (an Artifact Registry repository id starts with a letter)."""
    return f"hub-{hub}" if hub[:1].isdigit() else hub


def gcp_repository_id(name: str) -> str:
    """Artifact Registry repository id created by the cluster's terraform for ``name``."""
    return f"{name}{GCP_REPOSITORY_SUFFIX}"


def gcp_image_prefix(region: str, project: str, name: str) -> str:
    return f"{gcp_host(region)}/{project}/{gcp_repository_id(name)}/"


def quay_image_prefix(quay_host: str, org: str, cluster: str, hub: str) -> str:
    return f"{quay_host}/{org}/{cluster}-{hub}-"


def quay_username(org: str, robot: str) -> str:
    return f"{org}+{robot}"


# What a default robot name starts with when its cluster's name does not start with a letter.
QUAY_ROBOT_DEFAULT_PREFIX = "hub_"


def default_quay_robot(cluster: str, hub: str) -> str:
    """Robot short names allow only [a-z0-9_] and start with a letter: '<cluster>_<hub>' with '-'
    turned to '_', prefixed with 'hub_' when the cluster's name starts with a digit (a DNS label
    may), so the default is valid for any cluster name."""
    robot = f"{cluster}_{hub}".replace("-", "_").replace(".", "_")
    return robot if robot[:1].isalpha() else f"{QUAY_ROBOT_DEFAULT_PREFIX}{robot}"


def generic_image_prefix(host: str, namespace: str) -> str:
    return f"{image_host(host)}/{namespace.strip('/')}/"


def check_gcp_prefix(prefix: str, region: str, project: str, name: str) -> list[str]:
    expected = gcp_image_prefix(region, project, name)
    if not prefix.startswith(expected):
        return [
            f"registry_image_prefix '{prefix}' must start with '{expected}' "
            "(<region>-docker.pkg.dev/<project>/<name>-registry/: the Artifact Registry repository terraform creates)"
        ]
    return []


def check_quay_prefix(prefix: str, quay_host: str, org: str) -> list[str]:
    base = f"{quay_host}/{org}/"
    if not prefix.startswith(base):
        return [f"registry_image_prefix '{prefix}' must start with '{base}' (the quay organization registry_quay_org)"]
    rest = prefix[len(base):]
    if "/" in rest:
        return [f"registry_image_prefix '{prefix}' must not nest paths below '{base}': quay repositories are <org>/<name>"]
    return []


def check_generic_prefix(prefix: str, host: str) -> list[str]:
    prefix_host, path = split_prefix(prefix)
    if is_docker_hub(host):
        if prefix_host not in ("docker.io", "index.docker.io"):
            return [f"registry_image_prefix '{prefix}' must start with 'docker.io/<namespace>/' for Docker Hub"]
    elif prefix_host != host:
        return [f"registry_image_prefix '{prefix}' must start with the registry host '{host}/' (registry_host)"]
    if (prefix_host in NAMESPACED_HOSTS or is_docker_hub(host)) and "/" not in path:
        return [
            f"registry_image_prefix '{prefix}' must name a namespace on {prefix_host}: "
            f"'{prefix_host}/<user or organization>/...'"
        ]
    return []


def check_image_prefix(settings: RegistrySettings, prefix: str) -> list[str]:
    """All image_prefix rules for the settings' registry type."""
    errors = check_reference_shape(prefix)
    if errors:
        return errors
    if settings.type == "gcp":
        return check_gcp_prefix(prefix, settings.gcp_region, settings.gcp_project, settings.name)
    if settings.type == "quay":
        return check_quay_prefix(prefix, settings.quay_host, settings.quay_org)
    return check_generic_prefix(prefix, settings.host)


# --- names ------------------------------------------------------------------------


def check_pattern(value: str, pattern: re.Pattern[str], variable: str, expected: str) -> list[str]:
    if not value:
        return [f"{variable} is required: {expected}"]
    if not pattern.match(value):
        return [f"{variable} '{value}' is invalid: expected {expected}"]
    return []


def check_common(settings: RegistrySettings) -> list[str]:
    errors: list[str] = []
    if settings.type not in REGISTRY_TYPES:
        return [f"registry_type '{settings.type}' is invalid: expected one of {', '.join(REGISTRY_TYPES)}"]
    errors += check_pattern(settings.hub, DNS_LABEL_RE, "hub_name", "a DNS label (lowercase letters, digits, '-')")
    return errors


def check_gcp(settings: RegistrySettings) -> list[str]:
    errors = check_pattern(settings.gcp_project, GCP_PROJECT_RE, "registry_gcp_project", "a GCP project id like 'my-project-123'")
    errors += check_pattern(settings.gcp_region, GCP_REGION_RE, "registry_gcp_region", "a GCP region like 'us-central1'")
    errors += check_pattern(
        settings.name, GCP_REPOSITORY_RE, "registry_name", "a lowercase name (letters, digits, '-') for the container_repos entry"
    )
    if settings.name and len(gcp_repository_id(settings.name)) > 63:
        errors.append(f"registry_name '{settings.name}' is too long: '{gcp_repository_id(settings.name)}' exceeds 63 characters")
    return errors


def check_quay(settings: RegistrySettings) -> list[str]:
    errors = check_pattern(
        settings.quay_org, QUAY_ORG_RE, "registry_quay_org", "a quay organization name (lowercase, 2-255 chars)"
    )
    errors += check_pattern(
        settings.quay_robot, QUAY_ROBOT_RE, "registry_quay_robot", "a robot short name matching ^[a-z][a-z0-9_]{1,254}$ (no '-')"
    )
    errors += check_host(settings.quay_host, "registry_quay_host")
    if settings.quay_api_url and not re.match(r"^https?://[^/]+/?$", settings.quay_api_url):
        errors.append(f"registry_quay_api_url '{settings.quay_api_url}' must be scheme://host[:port], e.g. 'https://quay.io'")
    if not settings.image_prefix and not settings.cluster:
        errors.append("cluster_name is required for a quay registry: the image prefix is quay.io/<org>/<cluster>-<hub>-")
    return errors


def check_generic(settings: RegistrySettings) -> list[str]:
    errors = check_host(settings.host)
    if errors:
        return errors
    errors += check_url(settings.url or default_url(settings.host), settings.host)
    if not settings.image_prefix and not settings.namespace:
        errors.append("registry_namespace (or registry_image_prefix) is required for a generic registry")
    return errors


def check_settings(settings: RegistrySettings) -> list[str]:
    """Every rule for the settings, including the derived image prefix."""
    errors = check_common(settings)
    if errors:
        return errors
    per_type = {"gcp": check_gcp, "quay": check_quay, "generic": check_generic}[settings.type]
    errors += per_type(settings)
    if errors:
        return errors
    return check_image_prefix(settings, effective_image_prefix(settings))


# --- definitions --------------------------------------------------------------------


def effective_image_prefix(settings: RegistrySettings) -> str:
    """The given image prefix, or the type's default one."""
    if settings.image_prefix:
        return settings.image_prefix
    if settings.type == "gcp":
        return gcp_image_prefix(settings.gcp_region, settings.gcp_project, settings.name)
    if settings.type == "quay":
        return quay_image_prefix(settings.quay_host, settings.quay_org, settings.cluster, settings.hub)
    return generic_image_prefix(settings.host, settings.namespace)


def build_definition(settings: RegistrySettings) -> dict[str, Any]:
    """The public part of ``registry_definition`` (everything except the password).

    Call :func:`check_settings` first; this function assumes valid settings.
    """
    if settings.type == "gcp":
        host = gcp_host(settings.gcp_region)
        url, username, pull_secret = f"https://{host}", GCP_USERNAME, False
    elif settings.type == "quay":
        host = settings.quay_host
        url, username, pull_secret = f"https://{host}", quay_username(settings.quay_org, settings.quay_robot), True
    else:
        host = settings.host
        url, username, pull_secret = settings.url or default_url(host), settings.username, False
    if settings.pull_secret_required is not None:
        pull_secret = settings.pull_secret_required
    definition: dict[str, Any] = {
        "type": settings.type,
        "host": host,
        "url": url.rstrip("/"),
        "image_prefix": effective_image_prefix(settings),
        "username": username,
        "pull_secret_required": pull_secret,
    }
    if settings.ca_file:
        definition["ca_file"] = settings.ca_file
    return definition


def repository_for_check(image_prefix: str) -> str:
    """A repository path under the prefix, used for token scopes and push checks."""
    _, path = split_prefix(image_prefix)
    return f"{path}registry-check"
