"""Rules over the final values of each release: what helm would be given, checked before it is.

The hub model checks the toolkit's own variables; an extra values file or the secret values
file can still override any value the toolkit renders. These rules run on the merged values
of every release (toolkit values < ``hub_values_files`` in order < the secret values file) and
name, for each problem, the hub, the layer (file) that set the value and the key path:

    hub 'research': hub_values_files[0] (values/research.values.yaml):
    binderhub-service.config.BinderHub.auth_enabled: is false; expected true (...)

The same rules as for the variables: who may log in (open access, the test authenticator),
BinderHub's hub authentication and API-only mode, the image prefix and the build pods'
credentials against the hub's registry, Kubernetes quantities, node pool selectors, the image
pull secret; and every key and type against the chart's ``values.schema.json``. Messages name
keys and types, never a value (a layer may be decrypted secrets).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import check_reference_shape
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.built_images import github_example
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import image_pull_secret_name
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import Errors, HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.login_rules import (
    OPEN_OPT_IN,
    OPEN_SETTINGS,
    OPEN_TYPES,
    SHARED_PASSWORD_MIN_LENGTHS,
    allow_all_is_open,
    authenticator_type,
    hosted_domains,
    test_authenticator_expected,
    test_authenticator_refused,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import did_you_mean, type_name
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.values_files import VALUES_FILE_KEYS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_names import NOT_SECRET_KEYS, is_secret_key

# A Kubernetes resource quantity (apimachinery's resource.Quantity grammar).
K8S_QUANTITY_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
# Keys whose value is a quantity wherever they appear, and maps whose every value is one.
QUANTITY_KEYS = frozenset(("sizeLimit", "capacity"))
QUANTITY_MAPS = frozenset(("requests", "limits"))
# z2jh's singleuser.memory/cpu limit and guarantee are quantities too.
SINGLEUSER_QUANTITIES = (("singleuser", "memory", "limit"), ("singleuser", "memory", "guarantee"),
                         ("singleuser", "cpu", "limit"), ("singleuser", "cpu", "guarantee"))
NODE_SELECTOR_KEYS = frozenset(("nodeSelector", "node_selector"))
# BinderHub settings binderhub-service must keep: BinderHub checks users with the hub, serves
# only its build API (the spawn form is fancy-profiles), and pushes what it builds.
BINDERHUB_REQUIRED = {
    "auth_enabled": "BinderHub checks every request with the hub (users log in there); without it anybody "
                    "who reaches the service can build and run images",
    "enable_api_only_mode": "binderhub-service serves BinderHub's build API only; the hub's spawn form "
                            "(fancy-profiles) is its user interface",
    "use_registry": "user pods pull what BinderHub builds from the hub's registry",
}

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Layer:
    """One source of a hub's values: its name in messages, its content per chart key, and
    whether it is a plaintext file a person wrote (where no secret may be)."""

    source: str
    content: Mapping[str, Any]
    plaintext: bool = False


def dotted(chart: str, path: Path) -> str:
    return ".".join([chart, *(f"[{p}]" if isinstance(p, int) else str(p) for p in path)]).replace(".[", "[")


def _walk_to(node: object, path: Path) -> tuple[bool, object]:
    for key in path:
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if in_list or (isinstance(node, Mapping) and key in node):
            node = node[key]  # type: ignore[index]
        else:
            return False, None
    return True, node


def origin(layers: list[Layer], chart: str, path: Path) -> str:
    """The last layer that sets ``chart``'s value at ``path`` (or an enclosing list/value)."""
    for depth in range(len(path), 0, -1):
        for layer in reversed(layers):
            found, _ = _walk_to(layer.content.get(chart), path[:depth])
            if found:
                return layer.source
    return layers[0].source if layers else "the chart"


class Report:
    """Collects problems of the final values, each named by the layer that set the value."""

    def __init__(self, errs: Errors, layers: list[Layer]) -> None:
        self.errs, self.layers = errs, layers

    def add(self, chart: str, path: Path, problem: str, expected: str) -> None:
        self.errs.add(f"{origin(self.layers, chart, path)}: {dotted(chart, path)}", problem, expected)


def _at(values: Mapping[str, Any], *path: str) -> object:
    return _walk_to(values, path)[1]


# --- who may log in -------------------------------------------------------------------


def check_login(report: Report, model: HubModel, jupyterhub: Mapping[str, Any]) -> None:
    """Who may log in, with the rules of ``jupyterhub_auth`` (login_rules): open access only with
    the opt-in, test authenticators only on a local cluster or with their opt-in, and shared
    passwords JupyterHub accepts."""
    config = _at(jupyterhub, "hub", "config")
    if not isinstance(config, Mapping):
        return
    class_path = ("hub", "config", "JupyterHub", "authenticator_class")
    kind = authenticator_type(_at(config, "JupyterHub", "authenticator_class"))
    domains = [d for section in ("GoogleOAuthenticator", "LocalGoogleOAuthenticator")
               if isinstance(config.get(section), Mapping) for d in hosted_domains(config[section])]
    if not model.jupyterhub.open_access_opt_in:
        for section, settings in config.items():
            for setting in OPEN_SETTINGS:
                if not isinstance(settings, Mapping) or settings.get(setting) is not True:
                    continue
                if setting == "allow_all" and not allow_all_is_open(kind, domains):
                    continue  # Google restricted to its hosted domains: not anybody
                report.add("jupyterhub", ("hub", "config", section, setting), "opens the hub to anybody",
                           f"{OPEN_OPT_IN}: true in the hub's variables to say so explicitly")
        if kind in OPEN_TYPES:
            report.add("jupyterhub", class_path, f"is the {kind} authenticator, which {OPEN_TYPES[kind]}",
                       f"{OPEN_OPT_IN}: true in the hub's variables to say so explicitly")
    refused = test_authenticator_refused(kind, cluster_local=model.cluster.local,
                                         opt_in=model.jupyterhub.test_authenticator_opt_in)
    if refused:
        report.add("jupyterhub", class_path, f"is {refused}", test_authenticator_expected(kind))
    if kind == "shared_password":
        settings = config.get("SharedPasswordAuthenticator")
        check_shared_passwords(report, settings if isinstance(settings, Mapping) else {})


def check_shared_passwords(report: Report, settings: Mapping[str, Any]) -> None:
    """The passwords as JupyterHub 5 accepts them (it refuses to start otherwise); no value shown."""
    section = ("hub", "config", "SharedPasswordAuthenticator")
    given = {key: settings.get(key) for key in SHARED_PASSWORD_MIN_LENGTHS if settings.get(key) not in (None, "")}
    if not given:
        report.add("jupyterhub", (*section, "user_password"), "is missing, so nobody can log in",
                   "the shared password in the hub's secret values file (scripts/hub-secrets set <hub> "
                   "jupyterhub.hub.config.SharedPasswordAuthenticator.user_password)")
    for key, value in given.items():
        minimum = SHARED_PASSWORD_MIN_LENGTHS[key]
        if not isinstance(value, str):
            report.add("jupyterhub", (*section, key), f"is a {type_name(value)}", "a string")
        elif len(value) < minimum:
            report.add("jupyterhub", (*section, key), f"is shorter than {minimum} characters (the value is not shown)",
                       f"a password of at least {minimum} characters: JupyterHub refuses to start otherwise")
    if len(given) == len(SHARED_PASSWORD_MIN_LENGTHS) and len(set(map(str, given.values()))) == 1:
        report.add("jupyterhub", (*section, "admin_password"), "is the same as user_password",
                   "a password of its own: JupyterHub refuses to start otherwise")


# --- BinderHub and the registry -------------------------------------------------------


def check_binderhub(report: Report, binderhub: Mapping[str, Any], registry: RegistryView) -> None:
    settings = _at(binderhub, "config", "BinderHub")
    settings = settings if isinstance(settings, Mapping) else {}
    for key, why in BINDERHUB_REQUIRED.items():
        if settings.get(key) is not True:
            report.add("binderhub-service", ("config", "BinderHub", key), f"is {_shown(settings.get(key))}",
                       f"true: {why}")
    prefix = settings.get("image_prefix")
    path = ("config", "BinderHub", "image_prefix")
    if not isinstance(prefix, str):
        report.add("binderhub-service", path, f"is a {type_name(prefix)}", "the registry's image prefix, a string")
    else:
        shape = check_reference_shape(prefix, variable="the image prefix")
        if shape:
            report.add("binderhub-service", path, "; ".join(shape), "an image prefix BinderHub can append a name to")
        elif prefix.partition("/")[0] != registry.host:
            report.add("binderhub-service", path, f"pushes to {prefix.partition('/')[0]}, not to the hub's registry "
                       f"{registry.host}", f"an image prefix on {registry.host} (set registry_image_prefix, "
                       "where the build pods' credentials follow it)")
    for credentials in (("buildPodsRegistryCredentials", "server"), ("config", "DockerRegistry", "url")):
        if _at(binderhub, *credentials) != registry.url:
            report.add("binderhub-service", credentials, "is not the hub's registry URL, so the build pods' "
                       "credentials would not match where they push", f"{registry.url} (set registry_* instead)")


def check_built_images_launchable(report: Report, jupyterhub: Mapping[str, Any], binderhub: Mapping[str, Any]) -> None:
    """The spawn form launches a built image as the option's unlisted choice: its
    ``validation_regex`` (KubeSpawner's ``re.match``) must accept the names the hub's BinderHub
    gives the images it builds, or no built image can ever start."""
    prefix = _at(binderhub, "config", "BinderHub", "image_prefix")
    profiles = _at(jupyterhub, "singleuser", "profileList")
    if not isinstance(prefix, str) or not isinstance(profiles, list):
        return
    example = github_example(prefix)
    for index, profile in enumerate(profiles):
        options = profile.get("profile_options") if isinstance(profile, Mapping) else None
        for key, option in (options or {}).items() if isinstance(options, Mapping) else ():
            building = _at(option, "dynamic_image_building", "enabled") is True if isinstance(option, Mapping) else False
            regex = _at(option, "unlisted_choice", "validation_regex") if building else None
            if not isinstance(regex, str) or not regex:
                continue
            try:
                accepted = re.match(regex, example) is not None
            except re.error:
                continue  # the hub model names a pattern that does not compile
            if not accepted:
                name = profile.get("slug") or profile.get("display_name") or f"#{index}"
                report.add("jupyterhub", ("singleuser", "profileList", index, "profile_options", key, "unlisted_choice",
                                          "validation_regex"),
                           f"{regex!r} (profile {name!r}, option {key!r}) rejects the names the hub's BinderHub gives "
                           f"the images it builds, e.g. {example!r}, so no built image could be started",
                           "a pattern that accepts <image_prefix><escaped repository>:<ref> "
                           f"(the image prefix is {prefix!r})")


def _shown(value: object) -> str:
    """A value of a setting that is never secret (booleans, missing), else its type."""
    if value is None:
        return "not set"
    return str(value).lower() if isinstance(value, bool) else f"a {type_name(value)}"


def check_pull_secret(report: Report, model: HubModel, final: Mapping[str, Mapping[str, Any]],
                      registry: RegistryView | None) -> None:
    if registry is None or not registry.pull_secret_required:
        return
    wanted = {"create": True, "registry": registry.host, "username": registry.username}
    for key, value in wanted.items() if "jupyterhub" in final else ():
        if _at(final["jupyterhub"], "imagePullSecret", key) != value:
            report.add("jupyterhub", ("imagePullSecret", key), "would leave user pods unable to pull the images "
                       f"BinderHub pushes to {registry.host} (its registry needs a pull secret)",
                       f"the toolkit's value ({'true' if value is True else value})")
    if "dask-gateway" in final:
        name = image_pull_secret_name(model.releases["jupyterhub"].name)
        secrets = _at(final["dask-gateway"], "gateway", "backend", "imagePullSecrets")
        if not isinstance(secrets, list) or {"name": name} not in secrets:
            report.add("dask-gateway", ("gateway", "backend", "imagePullSecrets"), "does not list the hub's image "
                       f"pull secret, so dask pods could not pull images from {registry.host}",
                       f"a list holding {{name: {name}}}")


# --- quantities and node pools --------------------------------------------------------


def _items(node: object, path: Path = ()) -> Iterator[tuple[Path, object]]:
    yield path, node
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _items(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _items(value, (*path, index))


def _is_quantity(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return value is None or isinstance(value, (int, float)) or (isinstance(value, str) and bool(K8S_QUANTITY_RE.match(value)))


def check_quantities(report: Report, chart: str, values: Mapping[str, Any]) -> None:
    for path, value in _items(values):
        if not path or isinstance(value, (Mapping, list)):
            continue
        key, parent = path[-1], path[-2] if len(path) > 1 else None
        if (key in QUANTITY_KEYS or parent in QUANTITY_MAPS or (chart == "jupyterhub" and path in SINGLEUSER_QUANTITIES)) \
                and not _is_quantity(value):
            report.add(chart, path, f"is not a Kubernetes quantity ({type_name(value)})",
                       "a quantity such as 10Gi, 512Mi, 500m or 2")


def check_node_selectors(report: Report, model: HubModel, chart: str, values: Mapping[str, Any]) -> None:
    pools = model.cluster.node_pools
    if not pools:
        return
    known: dict[str, set[str]] = {}
    for selector in pools.values():
        for label, value in selector.items():
            known.setdefault(label, set()).add(value)
    for path, node in _items(values):
        if not path or path[-1] not in NODE_SELECTOR_KEYS or not isinstance(node, Mapping):
            continue
        for label, value in node.items():
            if label in known and value not in known[label]:
                choices = ", ".join(f"{name} ({label}={sel[label]})" for name, sel in pools.items() if label in sel)
                report.add(chart, (*path, label), f"selects no node pool of cluster {model.cluster.name}",
                           f"a selector of cluster_node_pools: {choices}")


# --- secrets in plaintext files -------------------------------------------------------


def secret_paths(content: Mapping[str, Any]) -> Iterator[Path]:
    """Key paths of ``content`` that hold a secret-looking, non-empty string (CryptKeeper keys too)."""
    for path, value in _items(content):
        if not path or not isinstance(path[-1], str) or path[-1] in NOT_SECRET_KEYS:
            continue
        secret_string = isinstance(value, str) and is_secret_key(path[-1])
        if value and (secret_string or path[-2:] == ("CryptKeeper", "keys")):
            yield path


def check_plaintext_secrets(errs: Errors, layer: Layer) -> None:
    """A plaintext values file holds no secret: it belongs in the secret values file (sops)."""
    if not layer.plaintext:
        return
    for chart, *path in secret_paths(layer.content):
        errs.add(f"{layer.source}: {dotted(str(chart), tuple(path))}", "holds a secret in a file that is not "
                 "sops-encrypted (the value is not shown)", "it in the hub's secret values file (scripts/hub-secrets "
                 "edit <hub>), or this file encrypted with sops; rotate it if the file was ever committed or shared")


# --- the chart's schema ---------------------------------------------------------------


_SCHEMA_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (Mapping,), "array": (list,), "null": (type(None),),
}


def _type_ok(value: object, types: object) -> bool:
    names = types if isinstance(types, list) else [types]
    for name in names:
        kinds = _SCHEMA_TYPES.get(str(name))
        if kinds is None:
            return True
        if isinstance(value, bool) and name not in ("boolean",):
            continue
        if isinstance(value, kinds):
            return True
    return False


def schema_problems(value: object, schema: Mapping[str, Any], path: Path = ()) -> Iterator[tuple[Path, str, str]]:
    """(path, problem, expected) of ``value`` against a JSON schema's keys and types.

    The subset of JSON schema the charts use for their structure: ``type``, ``properties``,
    ``patternProperties``, ``additionalProperties``, ``items``, ``enum``. ``required`` is left
    to helm (the secret values file is written later in a rollout); ``oneOf``/``if`` too.
    """
    if "type" in schema and not _type_ok(value, schema["type"]):
        expected = " or ".join(schema["type"]) if isinstance(schema["type"], list) else str(schema["type"])
        yield path, f"is a {type_name(value)}", f"{expected}, as the chart's schema says"
        return
    if "enum" in schema and value not in schema["enum"]:
        yield path, "is not one of the values the chart accepts", "one of " + ", ".join(map(str, schema["enum"]))
    if isinstance(value, Mapping):
        properties = schema.get("properties") or {}
        patterns = schema.get("patternProperties") or {}
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            matched = [sub for pattern, sub in patterns.items() if re.search(pattern, str(key))]
            if key in properties:
                yield from schema_problems(item, properties[key], (*path, key))
            elif matched:
                for sub in matched:
                    yield from schema_problems(item, sub, (*path, key))
            elif extra is False:
                yield (*path, key), "is not a key the chart accepts", (
                    "one of " + ", ".join(sorted(properties)) + did_you_mean(str(key), properties)
                    if properties else "no keys here")
            elif isinstance(extra, Mapping):
                yield from schema_problems(item, extra, (*path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from schema_problems(item, schema["items"], (*path, index))


def check_schema(report: Report, chart: str, values: Mapping[str, Any], schema: Mapping[str, Any] | None) -> None:
    if schema:
        for path, problem, expected in schema_problems(values, schema):
            report.add(chart, path, problem, expected)


# --- entry point ----------------------------------------------------------------------


def check_secret_sections(errs: Errors, source: str, content: Mapping[str, Any]) -> None:
    """The secret values file's top level: one section per chart of the hub."""
    for key, section in content.items():
        if key not in VALUES_FILE_KEYS:
            errs.add(f"{source}: {key}", f"top-level key {key!r} is not a chart of the hub",
                     "one of " + ", ".join(VALUES_FILE_KEYS) + did_you_mean(str(key), VALUES_FILE_KEYS))
        elif section is not None and not isinstance(section, Mapping):
            errs.add(f"{source}: {key}", f"is a {type_name(section)}", "a mapping of helm values")


def check_final_values(model: HubModel, registry: RegistryView | None, layers: list[Layer],
                       final: Mapping[str, Mapping[str, Any]], schemas: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """Every problem of the releases' final values (``final``: values per release key), each
    message naming the hub, the layer that set the value and the key path."""
    errs = Errors(hub=model.hub.name)
    for layer in layers:
        check_plaintext_secrets(errs, layer)
    report = Report(errs, layers)
    if "jupyterhub" in final:
        check_login(report, model, final["jupyterhub"])
    if "binderhub-service" in final and registry is not None:
        check_binderhub(report, final["binderhub-service"], registry)
        if "jupyterhub" in final:
            check_built_images_launchable(report, final["jupyterhub"], final["binderhub-service"])
    check_pull_secret(report, model, final, registry)
    for chart, values in final.items():
        check_chart_values(report, model, chart, values, schemas.get(chart))
    return errs.messages


def check_chart_values(report: Report, model: HubModel, chart: str, values: Mapping[str, Any],
                       schema: Mapping[str, Any] | None) -> None:
    """The rules of any release's final values: Kubernetes quantities, node pool selectors, the chart's schema."""
    check_quantities(report, chart, values)
    check_node_selectors(report, model, chart, values)
    check_schema(report, chart, values, schema)


def check_companion_values(model: HubModel, layers: list[Layer], key: str, values: Mapping[str, Any],
                           schema: Mapping[str, Any] | None) -> list[str]:
    """Every problem of a companion release's final values (``key``: its release name, the layers'
    key): no secret in a plaintext layer (its inline values, a values file that is not
    sops-encrypted) and the rules of any release, each naming the layer that set the value."""
    errs = Errors(hub=model.hub.name)
    for layer in layers:
        check_plaintext_secrets(errs, layer)
    check_chart_values(Report(errs, layers), model, key, values, schema)
    return errs.messages
