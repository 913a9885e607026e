"""The validated hub model: one hub's inventory variables -> a typed, normalized model.

Data flows one way (see README, "Interfaces between the roles"): inventory variables ->
this model -> helm values per release (``hub_values``) -> helm. Every function here is a
plain function of its arguments apart from reading the hub's extra values files, so the
action plugins and the tests share one implementation.

Validation collects *all* errors of a hub before failing. Each error names the hub, the
variable path (``jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex``)
and what is expected, e.g.::

    hub 'research': jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex:
    '^(unclosed' does not compile (missing ), unterminated subpattern at position 1);
    expected a Python regular expression, as KubeSpawner applies it with re.match

Defaults come from the hub roles' argument specs (``DEFAULTS``, read by ``role_specs``), the
one place they are written; the roles' ``defaults/main.yml`` equal them (a test checks).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    HAS_YAML = False
else:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import describe_yaml_error, load_strict

from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import FACTS as REGISTRY_FACTS
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import VARIABLE_TYPES as REGISTRY_VARIABLE_TYPES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.role_specs import option_defaults, role_options

PROVIDERS = ("local", "gcp", "aws", "azure", "kubeconfig")
STAGES = ("staging", "production")
CHART_SOURCES = ("upstream", "directory")
AUTH_TYPES = ("github", "generic", "cilogon", "dummy")
AUTHENTICATOR_CLASS_NAMES = {
    "github": "GitHubOAuthenticator",
    "generic": "GenericOAuthenticator",
    "cilogon": "CILogonOAuthenticator",
    "dummy": "DummyAuthenticator",
}
STORAGE_TYPES = ("dynamic", "nfs", "none")
# Top-level keys of an extra values file: one per chart (release) the toolkit deploys.
VALUES_FILE_KEYS = ("jupyterhub", "binderhub-service", "dask-gateway")
# fancy-profiles shows "build from a repository" only on an option with this key.
IMAGE_OPTION_KEY = "image"

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
SLUG_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
OPTION_KEY_RE = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
GITHUB_ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
GITHUB_TEAM_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}):[A-Za-z0-9_.-]+$")
LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# Helm release names are DNS labels of at most 53 characters.
RELEASE_NAME_MAX = 53

DEFAULT_NFS_MOUNT_OPTIONS = ["soft", "noatime", "vers=4.2"]
DEFAULT_HOME_MOUNT_PATH = "/home/jovyan"

# Every inventory variable the hub model reads; each one's default (None: required, or no
# default) comes from the hub roles' argument specs (role_specs.py), where it is written once.
MODEL_VARIABLES = (
    # hub (host_vars); hub_name defaults to inventory_hostname (filled in by the caller),
    # hub_namespace "" -> hub_name, hub_charts_dir is required with hub_charts_source: directory
    "hub_name", "hub_namespace", "hub_domain", "hub_stage", "hub_values_files", "hub_charts_source",
    "hub_charts_dir", "hub_dask_gateway_enabled",
    # cluster (group_vars)
    "cluster_name", "cluster_provider", "cluster_local", "cluster_kubeconfig", "cluster_kube_context",
    "cluster_node_pools", "cluster_max_parallel_deploys",
    # jupyterhub role (release names "" -> release_name_default())
    "jupyterhub_chart_version", "jupyterhub_chart_repo", "jupyterhub_chart_ref", "jupyterhub_release_name",
    "jupyterhub_dask_gateway_chart_version", "jupyterhub_dask_gateway_chart_repo", "jupyterhub_dask_gateway_chart_ref",
    "jupyterhub_dask_gateway_release_name", "jupyterhub_auth", "jupyterhub_admin_users", "jupyterhub_open_access_opt_in",
    "jupyterhub_storage", "jupyterhub_profiles", "jupyterhub_hub_image", "jupyterhub_ingress",
    # binderhub_service role
    "binderhub_service_chart_version", "binderhub_service_chart_repo", "binderhub_service_chart_ref",
    "binderhub_service_release_name", "binderhub_service_build_node_pool", "binderhub_service_docker_cache_size",
)
_SPEC_DEFAULTS = option_defaults("jupyterhub", "binderhub_service")
DEFAULTS: dict[str, Any] = {name: _SPEC_DEFAULTS.get(name) for name in MODEL_VARIABLES}
# Variables the roles use that the model does not read (deploy mechanics, not hub data).
ROLE_ONLY_VARIABLES = ("jupyterhub_helm_timeout", "binderhub_service_helm_timeout",
                       # Rollouts: re-apply unchanged releases, health check timeout, the report's fact,
                       # waves, and how long a rollout lock left behind stays valid.
                       "hub_force", "hub_health_timeout", "hub_rollout_releases", "hub_rollout_plan",
                       "hub_rollout_max_fail_percentage", "hub_rollout_lock_seconds", "hub_rollout_unchanged",
                       # Stop every hub when one fails validation.
                       "hub_rollout_strict",
                       # The hub roles' inputs wired from the other roles by the playbook.
                       "jupyterhub_registry", "jupyterhub_secrets_file", "jupyterhub_recover_pending",
                       "binderhub_service_registry", "binderhub_service_secrets_file", "binderhub_service_recover_pending")
# Variables with these prefixes belong to this model: an unknown one is a typo.
CHECKED_PREFIXES = ("hub_", "jupyterhub_", "binderhub_service_")

AUTH_KEYS = {
    "github": {"type", "client_id", "allowed_organizations", "allowed_teams", "allowed_users", "allow_all",
               "scope", "extra_config"},
    "generic": {"type", "client_id", "authorize_url", "token_url", "userdata_url", "username_claim", "scope",
                "login_service", "allowed_users", "allowed_groups", "groups_claim", "allow_all", "extra_config"},
    "cilogon": {"type", "client_id", "allowed_idps", "allowed_users", "allow_all", "scope", "extra_config"},
    "dummy": {"type", "allowed_users", "allow_all", "extra_config"},
}
STORAGE_KEYS = {
    "dynamic": {"type", "capacity", "storage_class", "home_mount_path"},
    "nfs": {"type", "server", "path", "mount_options", "shared_dir", "home_mount_path"},
    "none": {"type"},
}
PROFILE_KEYS = {"display_name", "slug", "description", "default", "kubespawner_override", "options"}
OPTION_KEYS = {"display_name", "choices", "unlisted_choice", "dynamic_image_building"}
CHOICE_KEYS = {"display_name", "description", "default", "image", "kubespawner_override"}
UNLISTED_KEYS = {"enabled", "display_name", "display_name_in_choices", "description_in_choices",
                 "validation_regex", "validation_message", "kubespawner_override"}
DYNAMIC_BUILD_KEYS = {"enabled"}
HUB_IMAGE_KEYS = {"name", "tag"}
INGRESS_KEYS = {"enabled", "class_name", "annotations", "tls_secret_name"}
# Authenticator settings that let anybody in: refused without jupyterhub_open_access_opt_in.
OPEN_ACCESS_SETTINGS = ("allow_all", "open_signup")


class HubModelError(Exception):
    """The hub's inputs are invalid; ``errors`` lists every problem found."""

    def __init__(self, hub: str, errors: list[str]) -> None:
        self.hub = hub
        self.errors = list(errors)
        super().__init__(f"hub {hub!r} has {len(errors)} invalid input(s):\n- " + "\n- ".join(errors))


@dataclass
class Errors:
    """Collects the errors of one hub; every message names the hub and the variable."""

    hub: str
    messages: list[str] = field(default_factory=list)

    def add(self, path: str, problem: str, expected: str) -> None:
        self.messages.append(f"hub {self.hub!r}: {path}: {problem}; expected {expected}")


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """One helm release of the hub: what ``kubernetes.core.helm`` gets."""

    name: str
    chart: str
    chart_ref: str
    chart_version: str  # "" for a chart directory (helm ignores versions there)
    chart_repo_url: str  # "" unless chart_ref is a chart name in a repository
    namespace: str


@dataclass(frozen=True)
class Cluster:
    name: str
    provider: str
    local: bool
    kubeconfig: str
    kube_context: str
    node_pools: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Hub:
    name: str
    namespace: str
    domain: str
    stage: str
    charts_source: str
    dask_gateway_enabled: bool


@dataclass(frozen=True)
class ValuesFile:
    path: str
    content: dict[str, Any]
    # sops-encrypted: ``content`` stays empty until ``decrypt_values_files`` (in memory only).
    encrypted: bool = False


@dataclass(frozen=True)
class Auth:
    type: str
    client_id: str = ""
    allowed_organizations: list[str] = field(default_factory=list)  # orgs and org:team entries
    allowed_users: list[str] = field(default_factory=list)
    allowed_groups: list[str] = field(default_factory=list)
    allow_all: bool = False
    scope: list[str] = field(default_factory=list)
    authorize_url: str = ""
    token_url: str = ""
    userdata_url: str = ""
    username_claim: str = ""
    groups_claim: str = ""
    login_service: str = ""
    allowed_idps: dict[str, Any] = field(default_factory=dict)
    extra_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Storage:
    type: str
    capacity: str = ""
    storage_class: str = ""
    server: str = ""
    path: str = ""
    mount_options: list[str] = field(default_factory=list)
    shared_dir: bool = False
    home_mount_path: str = DEFAULT_HOME_MOUNT_PATH


@dataclass(frozen=True)
class Choice:
    key: str
    display_name: str
    description: str
    default: bool
    kubespawner_override: dict[str, Any]


@dataclass(frozen=True)
class UnlistedChoice:
    enabled: bool
    display_name: str
    display_name_in_choices: str
    description_in_choices: str
    validation_regex: str
    validation_message: str
    kubespawner_override: dict[str, Any]


@dataclass(frozen=True)
class ProfileOption:
    key: str
    display_name: str
    choices: list[Choice]
    unlisted_choice: UnlistedChoice | None
    dynamic_image_building: bool


@dataclass(frozen=True)
class Profile:
    display_name: str
    slug: str
    description: str
    default: bool
    kubespawner_override: dict[str, Any]
    options: list[ProfileOption]


@dataclass(frozen=True)
class Ingress:
    enabled: bool = False
    class_name: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    tls_secret_name: str = ""


@dataclass(frozen=True)
class JupyterHubSettings:
    auth: Auth
    admin_users: list[str]
    open_access_opt_in: bool
    storage: Storage
    profiles: list[Profile]
    hub_image: dict[str, str]
    ingress: Ingress


@dataclass(frozen=True)
class BinderHubSettings:
    build_node_pool: str
    docker_cache_size: str


@dataclass(frozen=True)
class HubModel:
    hub: Hub
    cluster: Cluster
    jupyterhub: JupyterHubSettings
    binderhub_service: BinderHubSettings
    releases: dict[str, Release]
    values_files: list[ValuesFile]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------
# Small typed readers: each returns a usable value and records an error when it cannot.
# ---------------------------------------------------------------------------------------


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
    (dict, "mapping"), (list, "list"), (tuple, "list"),
)


def _type_name(value: object) -> str:
    """A YAML-level name of the value's type (Ansible hands over tagged subclasses of str/dict/list)."""
    if value is None:
        return "null"
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__)


def _read_str(errs: Errors, path: str, value: object, *, required: bool = False, default: str = "") -> str:
    if value is None or value == "":
        if required:
            errs.add(path, "is missing or empty", "a non-empty string")
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errs.add(path, f"is a {_type_name(value)}", "a string")
        return default
    return str(value)


def _read_choice(errs: Errors, path: str, value: object, choices: tuple[str, ...], *, required: bool = True,
                 default: str = "") -> str:
    text = _read_str(errs, path, value, required=required, default=default)
    if text and text not in choices:
        errs.add(path, f"{text!r} is not supported", "one of " + ", ".join(choices) + _did_you_mean(text, choices))
        return default
    return text


def _read_bool(errs: Errors, path: str, value: object, *, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        errs.add(path, f"{value!r} is a {_type_name(value)}, not a boolean", "true or false")
        return default
    return value


def _read_mapping(errs: Errors, path: str, value: object, *, required: bool = False) -> dict[str, Any]:
    if value is None:
        if required:
            errs.add(path, "is missing", "a mapping")
        return {}
    if not isinstance(value, Mapping):
        errs.add(path, f"is a {_type_name(value)}", "a mapping")
        return {}
    return dict(value)


def _read_list(errs: Errors, path: str, value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        errs.add(path, f"is a {_type_name(value)}", "a list")
        return []
    return list(value)


def _read_str_list(errs: Errors, path: str, value: object, *, pattern: re.Pattern[str] | None = None,
                   expected: str = "a non-empty string") -> list[str]:
    items: list[str] = []
    for index, item in enumerate(_read_list(errs, path, value)):
        text = _read_str(errs, f"{path}[{index}]", item, required=True)
        if text and pattern is not None and not pattern.match(text):
            errs.add(f"{path}[{index}]", f"{text!r} is not valid", expected)
            continue
        if text:
            items.append(text)
    return items


def _read_pattern(errs: Errors, path: str, value: object, pattern: re.Pattern[str], expected: str, *,
                  required: bool = True, default: str = "") -> str:
    text = _read_str(errs, path, value, required=required, default=default)
    if text and not pattern.match(text):
        errs.add(path, f"{text!r} is not valid", expected)
        return default
    return text


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_keys(errs: Errors, path: str, value: Mapping[str, Any], allowed: set[str], context: str = "") -> None:
    for key in value:
        if key not in allowed:
            where = f" {context}" if context else ""
            errs.add(f"{path}.{key}", f"unknown key{where}",
                     "one of " + ", ".join(sorted(allowed)) + _did_you_mean(str(key), allowed))


def _value(variables: Mapping[str, Any], name: str) -> object:
    """The variable's value, or its default (a copy, so callers may keep it)."""
    if name in variables and variables[name] is not None:
        return variables[name]
    default = DEFAULTS.get(name)
    if isinstance(default, dict):
        return dict(default)
    if isinstance(default, list):
        return list(default)
    return default


# ---------------------------------------------------------------------------------------
# Sections of the model
# ---------------------------------------------------------------------------------------


# The rule for the hub's variables, in one place:
# - a variable with a prefix of the toolkit (PROJECT_PREFIXES) that the toolkit does not know is a
#   typo: an error naming the hub and the variable, with the nearest known name of its prefix
#   (``check_unknown_variables``, in every build of the model);
# - a known registry variable given for a hub whose registry_type does not read it (gcp settings
#   on a quay hub, registry_url on gcp) is ignored: a warning naming the hub, the variables and the
#   types that read them (``registry_rules.ignored_variables``, warned by the registry role's check).
# Variables without such a prefix (a fleet's own, like fleet_admins) are the inventory's business.
PROJECT_PREFIXES = ("hub_", "cluster_", "jupyterhub_", "binderhub_service_", "registry_", "secrets_")
# The secrets role's variables (meta/argument_specs.yml; a test keeps both in step) and its fact.
SECRETS_VARIABLES = tuple(name for name in role_options("secrets") if name.startswith("secrets_"))
SECRETS_FACTS = ("secrets_values_file",)
KNOWN_VARIABLES = frozenset((*DEFAULTS, *ROLE_ONLY_VARIABLES, *REGISTRY_VARIABLE_TYPES, *REGISTRY_FACTS,
                             *SECRETS_VARIABLES, *SECRETS_FACTS))


def check_unknown_variables(errs: Errors, variables: Mapping[str, Any]) -> None:
    """A variable with a prefix of the toolkit (hub_, cluster_, jupyterhub_, binderhub_service_,
    registry_, secrets_) that the toolkit does not know is a typo. Only the names are read."""
    for name in sorted(variables):
        if name.startswith(PROJECT_PREFIXES) and name not in KNOWN_VARIABLES:
            prefix = next(p for p in PROJECT_PREFIXES if name.startswith(p))
            errs.add(name, "unknown variable", "one of the variables listed in the role READMEs"
                     + _did_you_mean(name, [k for k in KNOWN_VARIABLES if k.startswith(prefix)]))


def read_hub(errs: Errors, variables: Mapping[str, Any]) -> Hub:
    name = _read_pattern(errs, "hub_name", _value(variables, "hub_name"), DNS_LABEL_RE,
                         "a DNS label (RFC 1123: lower-case letters, digits and '-', at most 63 characters)")
    namespace_value = _value(variables, "hub_namespace") or name
    namespace = _read_pattern(errs, "hub_namespace", namespace_value, DNS_LABEL_RE,
                              "a DNS label (RFC 1123, at most 63 characters); defaults to hub_name",
                              required=bool(name))
    domain = _read_pattern(errs, "hub_domain", _value(variables, "hub_domain"), HOSTNAME_RE,
                           "the hub's public host name in lower case, e.g. research.hubs.example.org")
    stage = _read_choice(errs, "hub_stage", _value(variables, "hub_stage"), STAGES)
    source = _read_choice(errs, "hub_charts_source", _value(variables, "hub_charts_source"), CHART_SOURCES)
    dask = _read_bool(errs, "hub_dask_gateway_enabled", _value(variables, "hub_dask_gateway_enabled"))
    return Hub(name=name, namespace=namespace, domain=domain, stage=stage, charts_source=source,
               dask_gateway_enabled=dask)


def read_node_pools(errs: Errors, value: object) -> dict[str, dict[str, str]]:
    pools: dict[str, dict[str, str]] = {}
    for pool, labels in _read_mapping(errs, "cluster_node_pools", value).items():
        path = f"cluster_node_pools.{pool}"
        checked: dict[str, str] = {}
        for key, label in _read_mapping(errs, path, labels, required=True).items():
            if not LABEL_KEY_RE.match(str(key)):
                errs.add(f"{path}.{key}", "is not a valid label key", "a Kubernetes label key")
                continue
            text = _read_str(errs, f"{path}.{key}", label, required=False)
            if not LABEL_VALUE_RE.match(text) or len(text) > 63:
                errs.add(f"{path}.{key}", f"{text!r} is not a valid label value", "a Kubernetes label value")
                continue
            checked[str(key)] = text
        if not checked:
            errs.add(path, "has no labels", "the node labels that select this pool's nodes")
        pools[str(pool)] = checked
    if pools:
        for required in ("core", "user"):
            if required not in pools:
                errs.add(f"cluster_node_pools.{required}", "is missing",
                         "the labels of the cluster's core and user node pools (and optionally build)")
    return pools


def read_cluster(errs: Errors, variables: Mapping[str, Any]) -> Cluster:
    name = _read_pattern(errs, "cluster_name", _value(variables, "cluster_name"), DNS_LABEL_RE,
                         "a DNS label (RFC 1123, at most 63 characters)")
    provider = _read_choice(errs, "cluster_provider", _value(variables, "cluster_provider"), PROVIDERS)
    return Cluster(
        name=name,
        provider=provider,
        local=_read_bool(errs, "cluster_local", _value(variables, "cluster_local")),
        kubeconfig=_read_str(errs, "cluster_kubeconfig", _value(variables, "cluster_kubeconfig")),
        kube_context=_read_str(errs, "cluster_kube_context", _value(variables, "cluster_kube_context")),
        node_pools=read_node_pools(errs, _value(variables, "cluster_node_pools")),
    )


def read_max_parallel(errs: Errors, value: object) -> int:
    """``cluster_max_parallel_deploys``: how many hubs of the cluster deploy at once, at least 1
    (a string of digits counts, as ``-e cluster_max_parallel_deploys=3`` gives one)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errs.add("cluster_max_parallel_deploys", f"{value!r} is not a whole number of at least 1",
                 "how many hubs of the cluster may deploy at once, e.g. 5")
        return DEFAULTS["cluster_max_parallel_deploys"]
    return value


def _read_open_access(errs: Errors, path: str, value: object, opt_in: bool) -> bool:
    allow_all = _read_bool(errs, path, value)
    if allow_all and not opt_in:
        errs.add(path, "lets anybody who can log in use the hub",
                 "jupyterhub_open_access_opt_in: true next to it, to say so explicitly")
    return allow_all


def _check_extra_config_open_access(errs: Errors, path: str, extra: Mapping[str, Any], opt_in: bool) -> None:
    for setting in OPEN_ACCESS_SETTINGS:
        if extra.get(setting) and not opt_in:
            errs.add(f"{path}.{setting}", "opens the hub to anybody",
                     "jupyterhub_open_access_opt_in: true to say so explicitly")


def _check_github_entries(errs: Errors, path: str, entries: list[str], pattern: re.Pattern[str],
                          expected: str) -> None:
    for index, entry in enumerate(entries):
        if not pattern.match(entry):
            errs.add(f"{path}[{index}]", f"{entry!r} is not valid", expected)


def _read_idps(errs: Errors, path: str, value: object) -> dict[str, Any]:
    idps = _read_mapping(errs, path, value, required=True)
    if not idps:
        errs.add(path, "is empty", "CILogon identity providers: entity id -> {username_derivation: {...}}")
    for entity, settings in idps.items():
        entry = _read_mapping(errs, f"{path}[{entity!r}]", settings, required=True)
        derivation = _read_mapping(errs, f"{path}[{entity!r}].username_derivation",
                                   entry.get("username_derivation"), required=True)
        _read_str(errs, f"{path}[{entity!r}].username_derivation.username_claim",
                  derivation.get("username_claim"), required=True)
    return idps


def _auth_allows_somebody(auth: Auth) -> bool:
    idp_domains = any(isinstance(v, Mapping) and v.get("allowed_domains") for v in auth.allowed_idps.values())
    return bool(auth.allow_all or auth.allowed_users or auth.allowed_organizations or auth.allowed_groups
                or idp_domains)


def read_auth(errs: Errors, value: object, *, cluster_local: bool, opt_in: bool) -> Auth:
    path = "jupyterhub_auth"
    raw = _read_mapping(errs, path, value, required=True)
    if not raw:
        return Auth(type="")
    kind = _read_choice(errs, f"{path}.type", raw.get("type"), AUTH_TYPES)
    if not kind:
        return Auth(type="")
    _check_keys(errs, path, raw, AUTH_KEYS[kind], f"for type {kind}")
    if kind == "dummy" and not cluster_local:
        errs.add(f"{path}.type", "the test authenticator (dummy) accepts any password",
                 "a real authenticator (github, generic, cilogon); dummy is allowed only where cluster_local is true")
    extra = _read_mapping(errs, f"{path}.extra_config", raw.get("extra_config"))
    _check_extra_config_open_access(errs, f"{path}.extra_config", extra, opt_in)
    needs_client = kind != "dummy"
    orgs = _read_str_list(errs, f"{path}.allowed_organizations", raw.get("allowed_organizations"))
    teams = _read_str_list(errs, f"{path}.allowed_teams", raw.get("allowed_teams"))
    _check_github_entries(errs, f"{path}.allowed_organizations", orgs, GITHUB_ORG_RE, "a GitHub organization name")
    _check_github_entries(errs, f"{path}.allowed_teams", teams, GITHUB_TEAM_RE,
                          "a GitHub team as <organization>:<team-slug>")
    generic = kind == "generic"
    auth = Auth(
        type=kind,
        client_id=_read_str(errs, f"{path}.client_id", raw.get("client_id"), required=needs_client),
        allowed_organizations=orgs + teams,
        allowed_users=_read_str_list(errs, f"{path}.allowed_users", raw.get("allowed_users")),
        allowed_groups=_read_str_list(errs, f"{path}.allowed_groups", raw.get("allowed_groups")),
        allow_all=_read_open_access(errs, f"{path}.allow_all", raw.get("allow_all"), opt_in),
        scope=_read_str_list(errs, f"{path}.scope", raw.get("scope")),
        authorize_url=_read_str(errs, f"{path}.authorize_url", raw.get("authorize_url"), required=generic),
        token_url=_read_str(errs, f"{path}.token_url", raw.get("token_url"), required=generic),
        userdata_url=_read_str(errs, f"{path}.userdata_url", raw.get("userdata_url"), required=generic),
        username_claim=_read_str(errs, f"{path}.username_claim", raw.get("username_claim"),
                                 default="preferred_username" if generic else ""),
        groups_claim=_read_str(errs, f"{path}.groups_claim", raw.get("groups_claim"),
                               default="groups" if generic else ""),
        login_service=_read_str(errs, f"{path}.login_service", raw.get("login_service")),
        allowed_idps=_read_idps(errs, f"{path}.allowed_idps", raw.get("allowed_idps")) if kind == "cilogon" else {},
        extra_config=extra,
    )
    if not _auth_allows_somebody(auth):
        expected = {
            "github": "allowed_organizations, allowed_teams or allowed_users",
            "generic": "allowed_users or allowed_groups",
            "cilogon": "allowed_users or allowed_domains on an identity provider",
            "dummy": "allowed_users",
        }[kind]
        errs.add(path, "allows nobody but admin users to log in", f"{expected} (or allow_all with the opt-in)")
    return auth


def read_storage(errs: Errors, value: object) -> Storage:
    path = "jupyterhub_storage"
    raw = _read_mapping(errs, path, value, required=True)
    kind = _read_choice(errs, f"{path}.type", raw.get("type", "dynamic"), STORAGE_TYPES, default="dynamic")
    _check_keys(errs, path, raw, STORAGE_KEYS[kind], f"for type {kind}")
    home = _read_str(errs, f"{path}.home_mount_path", raw.get("home_mount_path"), default=DEFAULT_HOME_MOUNT_PATH)
    if home and not home.startswith("/"):
        errs.add(f"{path}.home_mount_path", f"{home!r} is relative", "an absolute path in the user container")
    if kind == "dynamic":
        capacity = _read_pattern(errs, f"{path}.capacity", raw.get("capacity"), QUANTITY_RE,
                                 "a Kubernetes quantity such as 10Gi", required=False, default="10Gi")
        return Storage(type=kind, capacity=capacity, home_mount_path=home,
                       storage_class=_read_str(errs, f"{path}.storage_class", raw.get("storage_class")))
    if kind == "nfs":
        server = _read_str(errs, f"{path}.server", raw.get("server"), required=True)
        if server and not HOSTNAME_RE.match(server) and not re.match(r"^[0-9.]+$|^[0-9a-f:]+$", server):
            errs.add(f"{path}.server", f"{server!r} is not a host name or IP address", "the NFS server's address")
        share = _read_str(errs, f"{path}.path", raw.get("path"), required=True)
        if share and not share.startswith("/"):
            errs.add(f"{path}.path", f"{share!r} is relative", "the exported directory as an absolute path")
        options = _read_str_list(errs, f"{path}.mount_options", raw.get("mount_options"))
        return Storage(type=kind, server=server, path=share, home_mount_path=home,
                       mount_options=options or list(DEFAULT_NFS_MOUNT_OPTIONS),
                       shared_dir=_read_bool(errs, f"{path}.shared_dir", raw.get("shared_dir"), default=True))
    return Storage(type=kind)


def slugify(text: str) -> str:
    """A profile slug from a display name: lower case, runs of other characters -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _read_override(errs: Errors, path: str, value: object) -> dict[str, Any]:
    override = _read_mapping(errs, path, value)
    for key in override:
        if not re.match(r"^[a-z_][a-z0-9_]*$", str(key)):
            errs.add(f"{path}.{key}", "is not a KubeSpawner setting name", "a KubeSpawner trait such as image")
    return override


def _contains_value_placeholder(value: object) -> bool:
    if isinstance(value, str):
        return "{value}" in value
    if isinstance(value, Mapping):
        return any(_contains_value_placeholder(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_value_placeholder(v) for v in value)
    return False


def read_choice(errs: Errors, path: str, key: str, value: object, option_key: str) -> Choice:
    raw = _read_mapping(errs, path, value, required=True)
    _check_keys(errs, path, raw, CHOICE_KEYS)
    override = _read_override(errs, f"{path}.kubespawner_override", raw.get("kubespawner_override"))
    image = _read_str(errs, f"{path}.image", raw.get("image"))
    if image:
        if re.search(r"\s", image) or image != image.strip():
            errs.add(f"{path}.image", f"{image!r} contains white space", "an image reference such as repo/name:tag")
        override["image"] = image
    if option_key == IMAGE_OPTION_KEY and not override.get("image"):
        errs.add(f"{path}.image", "is missing", "the image this choice starts (or kubespawner_override.image)")
    return Choice(
        key=key,
        display_name=_read_str(errs, f"{path}.display_name", raw.get("display_name"), required=True),
        description=_read_str(errs, f"{path}.description", raw.get("description")),
        default=_read_bool(errs, f"{path}.default", raw.get("default")),
        kubespawner_override=override,
    )


def _check_regex(errs: Errors, path: str, regex: str) -> None:
    try:
        re.compile(regex)
    except re.error as exc:
        errs.add(path, f"{regex!r} does not compile ({exc})",
                 "a Python regular expression, as KubeSpawner applies it with re.match")


def read_unlisted_choice(errs: Errors, path: str, value: object, option_key: str) -> UnlistedChoice:
    raw = _read_mapping(errs, path, value, required=True)
    _check_keys(errs, path, raw, UNLISTED_KEYS)
    enabled = _read_bool(errs, f"{path}.enabled", raw.get("enabled"))
    regex = _read_str(errs, f"{path}.validation_regex", raw.get("validation_regex"))
    if regex:
        _check_regex(errs, f"{path}.validation_regex", regex)
    override = _read_override(errs, f"{path}.kubespawner_override", raw.get("kubespawner_override"))
    if not override and option_key == IMAGE_OPTION_KEY:
        override = {"image": "{value}"}
    if enabled and not override:
        errs.add(f"{path}.kubespawner_override", "is missing",
                 "the KubeSpawner settings the typed value sets, with {value} where it goes")
    elif enabled and not _contains_value_placeholder(override):
        errs.add(f"{path}.kubespawner_override", "does not use the typed value",
                 "{value} in one of its strings, e.g. {image: '{value}'}")
    return UnlistedChoice(
        enabled=enabled,
        display_name=_read_str(errs, f"{path}.display_name", raw.get("display_name"), required=enabled),
        display_name_in_choices=_read_str(errs, f"{path}.display_name_in_choices",
                                          raw.get("display_name_in_choices")),
        description_in_choices=_read_str(errs, f"{path}.description_in_choices", raw.get("description_in_choices")),
        validation_regex=regex,
        validation_message=_read_str(errs, f"{path}.validation_message", raw.get("validation_message")),
        kubespawner_override=override,
    )


def _read_dynamic_building(errs: Errors, path: str, value: object) -> bool:
    raw = _read_mapping(errs, path, value)
    _check_keys(errs, path, raw, DYNAMIC_BUILD_KEYS)
    return _read_bool(errs, f"{path}.enabled", raw.get("enabled"))


def _check_single_default(errs: Errors, path: str, defaults: list[str], what: str) -> None:
    if len(defaults) > 1:
        errs.add(path, f"{len(defaults)} {what} are marked default ({', '.join(defaults)})", f"at most one {what[:-1]}")


def read_option(errs: Errors, path: str, key: str, value: object) -> ProfileOption:
    raw = _read_mapping(errs, path, value, required=True)
    _check_keys(errs, path, raw, OPTION_KEYS)
    if not OPTION_KEY_RE.match(key):
        errs.add(path, f"option key {key!r} is not valid", "lower-case letters, digits, '-' and '_'")
    choices = [read_choice(errs, f"{path}.choices.{k}", str(k), v, key)
               for k, v in _read_mapping(errs, f"{path}.choices", raw.get("choices")).items()]
    if not choices:
        errs.add(f"{path}.choices", "is empty", "at least one choice: KubeSpawner starts the default one "
                 "when the user picks nothing")
    _check_single_default(errs, f"{path}.choices", [c.key for c in choices if c.default], "choices")
    unlisted = None
    if raw.get("unlisted_choice") is not None:
        unlisted = read_unlisted_choice(errs, f"{path}.unlisted_choice", raw.get("unlisted_choice"), key)
    dynamic = _read_dynamic_building(errs, f"{path}.dynamic_image_building", raw.get("dynamic_image_building"))
    if dynamic and key != IMAGE_OPTION_KEY:
        errs.add(f"{path}.dynamic_image_building.enabled", f"is set on option {key!r}",
                 f"it only on the option keyed {IMAGE_OPTION_KEY!r}: fancy-profiles shows the build form only there")
    if dynamic and not (unlisted and unlisted.enabled):
        errs.add(f"{path}.dynamic_image_building.enabled", "is true but unlisted_choice is not enabled",
                 "unlisted_choice.enabled: true on the same option: the built image is started as an unlisted choice")
    return ProfileOption(
        key=key,
        display_name=_read_str(errs, f"{path}.display_name", raw.get("display_name"), required=True),
        choices=choices,
        unlisted_choice=unlisted,
        dynamic_image_building=dynamic,
    )


def read_profile(errs: Errors, path: str, value: object) -> Profile:
    raw = _read_mapping(errs, path, value, required=True)
    _check_keys(errs, path, raw, PROFILE_KEYS)
    display_name = _read_str(errs, f"{path}.display_name", raw.get("display_name"), required=True)
    slug = _read_pattern(errs, f"{path}.slug", raw.get("slug"), SLUG_RE,
                         "lower-case letters, digits and '-'", required=False) or slugify(display_name)
    options = [read_option(errs, f"{path}.options.{k}", str(k), v)
               for k, v in _read_mapping(errs, f"{path}.options", raw.get("options")).items()]
    return Profile(
        display_name=display_name,
        slug=slug,
        description=_read_str(errs, f"{path}.description", raw.get("description")),
        default=_read_bool(errs, f"{path}.default", raw.get("default")),
        kubespawner_override=_read_override(errs, f"{path}.kubespawner_override", raw.get("kubespawner_override")),
        options=options,
    )


def read_profiles(errs: Errors, value: object) -> list[Profile]:
    profiles = [read_profile(errs, f"jupyterhub_profiles[{i}]", item)
                for i, item in enumerate(_read_list(errs, "jupyterhub_profiles", value))]
    seen: dict[str, int] = {}
    for index, profile in enumerate(profiles):
        if profile.slug and profile.slug in seen:
            errs.add(f"jupyterhub_profiles[{index}].slug", f"{profile.slug!r} is also the slug of "
                     f"jupyterhub_profiles[{seen[profile.slug]}]", "a unique slug per profile")
        seen.setdefault(profile.slug, index)
    _check_single_default(errs, "jupyterhub_profiles", [p.slug for p in profiles if p.default], "profiles")
    return profiles


def read_hub_image(errs: Errors, value: object) -> dict[str, str]:
    path = "jupyterhub_hub_image"
    raw = _read_mapping(errs, path, value, required=True)
    _check_keys(errs, path, raw, HUB_IMAGE_KEYS)
    return {
        "name": _read_str(errs, f"{path}.name", raw.get("name"), required=True),
        "tag": _read_str(errs, f"{path}.tag", raw.get("tag"), required=True),
    }


def read_ingress(errs: Errors, value: object) -> Ingress:
    path = "jupyterhub_ingress"
    raw = _read_mapping(errs, path, value)
    _check_keys(errs, path, raw, INGRESS_KEYS)
    annotations = {str(k): _read_str(errs, f"{path}.annotations.{k}", v)
                   for k, v in _read_mapping(errs, f"{path}.annotations", raw.get("annotations")).items()}
    return Ingress(
        enabled=_read_bool(errs, f"{path}.enabled", raw.get("enabled")),
        class_name=_read_str(errs, f"{path}.class_name", raw.get("class_name")),
        annotations=annotations,
        tls_secret_name=_read_str(errs, f"{path}.tls_secret_name", raw.get("tls_secret_name")),
    )


def read_jupyterhub(errs: Errors, variables: Mapping[str, Any], cluster: Cluster) -> JupyterHubSettings:
    opt_in = _read_bool(errs, "jupyterhub_open_access_opt_in", _value(variables, "jupyterhub_open_access_opt_in"))
    return JupyterHubSettings(
        auth=read_auth(errs, _value(variables, "jupyterhub_auth"), cluster_local=cluster.local, opt_in=opt_in),
        admin_users=_read_str_list(errs, "jupyterhub_admin_users", _value(variables, "jupyterhub_admin_users")),
        open_access_opt_in=opt_in,
        storage=read_storage(errs, _value(variables, "jupyterhub_storage")),
        profiles=read_profiles(errs, _value(variables, "jupyterhub_profiles")),
        hub_image=read_hub_image(errs, _value(variables, "jupyterhub_hub_image")),
        ingress=read_ingress(errs, _value(variables, "jupyterhub_ingress")),
    )


def read_binderhub_service(errs: Errors, variables: Mapping[str, Any], cluster: Cluster) -> BinderHubSettings:
    pool_path = "binderhub_service_build_node_pool"
    pool = _read_str(errs, pool_path, _value(variables, pool_path))
    if not pool:
        pool = "build" if "build" in cluster.node_pools else "user"
    elif cluster.node_pools and pool not in cluster.node_pools:
        errs.add(pool_path, f"{pool!r} is not a pool of cluster_node_pools",
                 "one of " + ", ".join(sorted(cluster.node_pools)) + _did_you_mean(pool, cluster.node_pools))
    size = _read_pattern(errs, "binderhub_service_docker_cache_size",
                         _value(variables, "binderhub_service_docker_cache_size"), QUANTITY_RE,
                         "a Kubernetes quantity such as 15Gi")
    return BinderHubSettings(build_node_pool=pool, docker_cache_size=size)


# ---------------------------------------------------------------------------------------
# Extra values files
# ---------------------------------------------------------------------------------------


def _load_yaml(path: str) -> object:
    if not HAS_YAML:  # pragma: no cover
        raise RuntimeError("PyYAML is required to read hub_values_files")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# Keys every file encrypted by sops carries in its top-level ``sops`` metadata (as in sops_files).
_SOPS_METADATA_KEYS = ("mac", "lastmodified")


def _is_sops_document(content: Mapping[str, Any]) -> bool:
    metadata = content.get("sops")
    return isinstance(metadata, Mapping) and all(key in metadata for key in _SOPS_METADATA_KEYS)


def _check_values_content(errs: Errors, path: str, full: str, content: object) -> dict[str, Any] | None:
    """The file's values when they are a mapping of chart sections, else ``None`` (errors recorded).

    Messages name keys and types only, never values (the content may be decrypted secrets).
    """
    content = {} if content is None else content
    if not isinstance(content, Mapping):
        errs.add(path, f"{full} holds a {_type_name(content)}", "a mapping with top-level keys "
                 + ", ".join(VALUES_FILE_KEYS))
        return None
    for key in content:
        if key not in VALUES_FILE_KEYS:
            errs.add(f"{path}: {key}", f"top-level key {key!r} in {full} is not a chart of the hub",
                     "one of " + ", ".join(VALUES_FILE_KEYS) + _did_you_mean(str(key), VALUES_FILE_KEYS))
        elif content[key] is not None and not isinstance(content[key], Mapping):
            errs.add(f"{path}: {key}", f"is a {_type_name(content[key])}", "a mapping of helm values")
    _check_values_name_overrides(errs, path, full, content)
    return dict(content)


# Chart values that rename the charts' objects: the toolkit derives object names (the binder
# service's URL, the image pull secret, the cluster-scoped objects of the collision check) from
# the release names with the charts' defaults, so these stay empty; rename a release instead.
NAME_OVERRIDE_KEYS = ("fullnameOverride", "nameOverride")


def _check_values_name_overrides(errs: Errors, path: str, full: str, content: Mapping[str, Any]) -> None:
    for chart in VALUES_FILE_KEYS:
        section = content.get(chart)
        if not isinstance(section, Mapping):
            continue
        for key in NAME_OVERRIDE_KEYS:
            if section.get(key):
                variable = RELEASE_PREFIXES[chart] + "_release_name"
                errs.add(f"{path}: {chart}.{key}", f"is set in {full}; the toolkit names the chart's objects "
                         "after the release with the chart's default (empty) override",
                         f"no {key} (name the release with {variable} instead)")


def read_values_files(errs: Errors, value: object, base_dir: str) -> list[ValuesFile]:
    """The hub's extra values files in their listed order.

    A sops-encrypted file (complete top-level ``sops`` metadata) is listed with
    ``encrypted=True`` and empty content: it is decrypted in memory, only where the values are
    deployed (``decrypt_values_files``), never here.
    """
    files: list[ValuesFile] = []
    for index, item in enumerate(_read_list(errs, "hub_values_files", value)):
        path = f"hub_values_files[{index}]"
        name = _read_str(errs, path, item, required=True)
        if not name:
            continue
        full = name if Path(name).is_absolute() else os.path.normpath(Path(base_dir) / name)
        if not Path(full).is_file():
            errs.add(path, f"{full} does not exist", "an existing helm values file (relative paths start at the "
                     "inventory directory)")
            continue
        try:
            content = load_strict(full)
        except OSError as exc:
            errs.add(path, f"{full} cannot be read ({exc.strerror})", "a readable helm values file")
            continue
        except yaml.YAMLError as exc:  # where and what, never the line: the file may hold secrets
            errs.add(path, f"{full} is not valid YAML: {describe_yaml_error(exc)}",
                     "a helm values file, each key once per mapping")
            continue
        if isinstance(content, Mapping) and _is_sops_document(content):
            files.append(ValuesFile(path=full, content={}, encrypted=True))
            continue
        checked = _check_values_content(errs, path, full, content)
        if checked is not None:
            files.append(ValuesFile(path=full, content=checked))
    return files


def decrypt_values_files(model: HubModel, decrypt: Callable[[str], str]) -> HubModel:
    """``model`` with every sops-encrypted values file's content decrypted and checked, in memory.

    ``decrypt(path)`` returns the file's plaintext YAML (e.g. ``sops --decrypt`` on stdout) or
    raises; the plaintext is parsed here and never written anywhere. Raises ``HubModelError``
    naming the hub and the file when a file cannot be decrypted or its values are not valid;
    no message holds any decrypted value.
    """
    if not any(f.encrypted for f in model.values_files):
        return model
    errs = Errors(hub=model.hub.name)
    files: list[ValuesFile] = []
    for index, values_file in enumerate(model.values_files):
        if not values_file.encrypted:
            files.append(values_file)
            continue
        path = f"hub_values_files[{index}]"
        try:
            text = decrypt(values_file.path)
        except Exception as exc:  # the decrypter's message names the file, never its content
            errs.add(path, str(exc) or f"sops could not decrypt {values_file.path}",
                     "a sops file the controller can decrypt (its key, e.g. SOPS_AGE_KEY_FILE, available)")
            continue
        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as exc:  # the parser's message would quote the plaintext
            errs.add(path, f"{values_file.path} decrypts to unreadable YAML ({exc.__class__.__name__})",
                     "a helm values file")
            continue
        checked = _check_values_content(errs, path, values_file.path, content)
        if checked is not None:
            files.append(ValuesFile(path=values_file.path, content=checked, encrypted=True))
    if errs.messages:
        raise HubModelError(model.hub.name, errs.messages)
    return replace(model, values_files=files)


# ---------------------------------------------------------------------------------------
# Releases
# ---------------------------------------------------------------------------------------


# Each release is named after its hub by default (as the incumbent fleets name theirs): the
# charts name cluster-scoped objects after the release (z2jh's user-scheduler ClusterRole and
# PriorityClasses, dask-gateway's ClusterRoles), so two hubs of one cluster need different names.
RELEASE_NAME_SUFFIXES = {"jupyterhub": "", "binderhub_service": "-binderhub", "jupyterhub_dask_gateway": "-dask-gateway"}
# The release variable prefix of each release key.
RELEASE_PREFIXES = {"jupyterhub": "jupyterhub", "binderhub-service": "binderhub_service",
                    "dask-gateway": "jupyterhub_dask_gateway"}


def release_name_default(hub_name: str, prefix: str) -> str:
    """The release name a hub gets when ``<prefix>_release_name`` is empty: the hub's name
    (jupyterhub), ``<hub>-binderhub``, ``<hub>-dask-gateway``."""
    return f"{hub_name}{RELEASE_NAME_SUFFIXES[prefix]}"


def _is_chart_path(ref: str) -> bool:
    return ref.startswith(("/", "./", "../", "~")) or Path(ref).is_dir()


def _chart_metadata(chart_dir: Path) -> dict[str, Any]:
    try:
        content = _load_yaml(str(chart_dir / "Chart.yaml"))
    except (OSError, yaml.YAMLError):
        return {}
    return dict(content) if isinstance(content, Mapping) else {}


def directory_chart(errs: Errors, charts_dir: str, chart: str, version: str, version_variable: str) -> str:
    """The unpacked chart ``chart`` at ``version`` in ``charts_dir``: ``<chart>-<version>/`` when
    there is one (several versions side by side), else ``<chart>/``; its Chart.yaml must name
    that chart and version, so a directory never deploys a version the inventory did not pin."""
    base = Path(charts_dir)
    found = next((d for d in (base / f"{chart}-{version}", base / chart) if (d / "Chart.yaml").is_file()), None)
    if found is None:
        errs.add("hub_charts_dir", f"{base} has no chart {chart!r} ({chart}-{version}/Chart.yaml or {chart}/Chart.yaml)",
                 "a directory of unpacked charts, as `helm pull --untar` gives them")
        return str(base / chart)
    metadata = _chart_metadata(found)
    if metadata.get("name") != chart or str(metadata.get("version")) != version:
        errs.add("hub_charts_dir", f"{found}/Chart.yaml is chart {metadata.get('name')!r} version "
                 f"{metadata.get('version')!r}, not {chart} {version} ({version_variable})",
                 f"the unpacked chart at the version {version_variable} pins")
    return str(found)


def read_release(errs: Errors, variables: Mapping[str, Any], prefix: str, chart: str, hub: Hub,
                 charts_dir: str) -> Release:
    variable = f"{prefix}_release_name"
    given = _value(variables, variable)
    name = _read_pattern(errs, variable, given or (release_name_default(hub.name, prefix) if hub.name else ""),
                         DNS_LABEL_RE, "a helm release name (a DNS label)")
    if len(name) > RELEASE_NAME_MAX:
        derived = "" if given else f" (derived from hub_name; set {variable} to a shorter name)"
        errs.add(variable, f"{name!r} is longer than {RELEASE_NAME_MAX} characters{derived}",
                 "a shorter helm release name")
    version = _read_str(errs, f"{prefix}_chart_version", _value(variables, f"{prefix}_chart_version"), required=True)
    repo = _read_str(errs, f"{prefix}_chart_repo", _value(variables, f"{prefix}_chart_repo"))
    ref = _read_str(errs, f"{prefix}_chart_ref", _value(variables, f"{prefix}_chart_ref"))
    if ref:
        if _is_chart_path(ref):
            return Release(name, chart, str(Path(ref).expanduser()), "", "", hub.namespace)
        repo_url = "" if ref.startswith("oci://") else repo
        return Release(name, chart, ref, version, repo_url, hub.namespace)
    if hub.charts_source == "directory":
        if not charts_dir:
            errs.add("hub_charts_dir", "is empty", "the directory of unpacked charts (hub_charts_source is directory)")
            return Release(name, chart, chart, "", "", hub.namespace)
        path = directory_chart(errs, charts_dir, chart, version, f"{prefix}_chart_version")
        return Release(name, chart, path, "", "", hub.namespace)
    if not repo:
        errs.add(f"{prefix}_chart_repo", "is empty", "the chart repository URL (or set the chart_ref)")
    return Release(name, chart, chart, version, repo, hub.namespace)


def read_releases(errs: Errors, variables: Mapping[str, Any], hub: Hub, charts_dir: str) -> dict[str, Release]:
    keys = ["jupyterhub", "binderhub-service"] + (["dask-gateway"] if hub.dask_gateway_enabled else [])
    releases = {key: read_release(errs, variables, RELEASE_PREFIXES[key], key, hub, charts_dir) for key in keys}
    names = [r.name for r in releases.values()]
    if len(set(names)) != len(names):
        errs.add("jupyterhub_release_name", f"release names {names} collide", "a distinct name per release")
    return releases


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def build_model(variables: Mapping[str, Any], *, base_dir: str = ".") -> HubModel:
    """Turn one hub's variables into a ``HubModel`` or raise ``HubModelError`` with all errors.

    ``variables`` are the hub's inventory and role variables, already templated;
    ``hub_name`` must be set (the caller defaults it to the inventory hostname).
    ``base_dir`` is where relative ``hub_values_files`` and ``hub_charts_dir`` start (the
    inventory directory).
    """
    hub_label = str(variables.get("hub_name") or "?")
    errs = Errors(hub=hub_label)
    check_unknown_variables(errs, variables)
    hub = read_hub(errs, variables)
    cluster = read_cluster(errs, variables)
    read_max_parallel(errs, _value(variables, "cluster_max_parallel_deploys"))
    jupyterhub = read_jupyterhub(errs, variables, cluster)
    binderhub = read_binderhub_service(errs, variables, cluster)
    charts = _read_str(errs, "hub_charts_dir", _value(variables, "hub_charts_dir"))
    if charts and not Path(charts).is_absolute():
        charts = os.path.normpath(Path(base_dir) / charts)
    releases = read_releases(errs, variables, hub, charts)
    files = read_values_files(errs, _value(variables, "hub_values_files"), base_dir)
    if errs.messages:
        raise HubModelError(hub_label, errs.messages)
    return HubModel(hub=hub, cluster=cluster, jupyterhub=jupyterhub, binderhub_service=binderhub,
                    releases=releases, values_files=files)


def collect_variables(task_vars: Mapping[str, Any], template: Callable[[Any], Any]) -> dict[str, Any]:
    """The model's variables out of a task's variables, each passed through ``template``.

    ``hub_name`` defaults to the inventory hostname.
    """
    names = [n for n in task_vars if n.startswith((*CHECKED_PREFIXES, "cluster_")) or n in DEFAULTS]
    variables = {name: template(task_vars[name]) for name in names}
    # The registry and secrets roles' variables by name only, for check_unknown_variables: their
    # values are those roles' business (some are secrets), so they are neither templated nor kept.
    variables.update({n: None for n in task_vars if n.startswith(PROJECT_PREFIXES) and n not in variables})
    if not variables.get("hub_name"):
        variables["hub_name"] = task_vars.get("inventory_hostname")
    return variables
