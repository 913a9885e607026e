"""The hub's secret values file: where it is and what it should hold (the secrets role's
``hub_secret_values`` action and its filters).

``secret_values_file`` is the file's path, ``<secrets_dir>/enc-<hub>.secret.values.yaml``: the
one place this rule is written (the roles use it through the ``hub_sealed_values_file`` filter).
``desired_secret_values`` takes the decrypted current content and returns it with the
toolkit-managed keys set; every other key (what a person added) is kept. Generated
tokens are kept when present and only created when missing or when rotating.
``changed_secret_keys`` lists, by dotted key name only, what differs between
two contents, so a run can say what it rewrites without showing any value.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import is_dns_label
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import (
    KeyPathError,
    deep_merge,
    get_path,
    leaf_paths,
    set_path,
)


class SecretValuesError(ValueError):
    """Input the secret values cannot be made from; the message shows no value."""


def secret_values_file(secrets_dir: str, hub: str) -> str:
    """The hub's sops-encrypted secret values file: ``<secrets_dir>/enc-<hub>.secret.values.yaml``."""
    return f"{secrets_dir}/enc-{hub}.secret.values.yaml"


CHART_KEYS = ("jupyterhub", "binderhub-service", "dask-gateway")
REGISTRY_PASSWORD_PATHS = (
    "binderhub-service.config.DockerRegistry.password",
    "binderhub-service.buildPodsRegistryCredentials.password",
)
# (username path, password path) of the chart's image pull secret.
IMAGE_PULL_KEYS = ("jupyterhub.imagePullSecret.username", "jupyterhub.imagePullSecret.password")
DEFAULT_TOKEN_LENGTH = 64
# Check mode only: what stands in for a key the rollout writes itself but has not yet (a hub's
# first run: the secrets role writes the file after the registry role made the credentials).
STAND_IN = "0" * DEFAULT_TOKEN_LENGTH


def rollout_written_keys(generated_tokens: object) -> set[str]:
    """Secret keys the rollout writes itself: the registry credentials and the generated tokens
    (the secrets role's ``secrets_generated_tokens``: paths, or mappings with a path)."""
    tokens = generated_tokens if isinstance(generated_tokens, list) else []
    paths = {str(t.get("path")) if isinstance(t, Mapping) else str(t) for t in tokens if isinstance(t, (Mapping, str))}
    return {*REGISTRY_PASSWORD_PATHS, *IMAGE_PULL_KEYS, *paths}


def leak_guard_paths(secrets_dir: object, inventory_dir: object, values_files: object, extra: object) -> list[str]:
    """What the leak guard checks for a hub: ``secrets_dir``, ``<inventory_dir>/secrets``, the hub's
    ``hub_values_files`` (relative ones from the inventory directory) and ``secrets_leak_guard_paths``,
    each once, in that order."""
    def listed(value: object) -> list[str]:
        return [str(item) for item in value] if isinstance(value, list) else []

    files = [item if item.startswith("/") else f"{inventory_dir}/{item}" for item in listed(values_files)]
    return list(dict.fromkeys([str(secrets_dir), f"{inventory_dir}/secrets", *files, *listed(extra)]))


# A generated token's dotted key path: non-empty keys separated by single dots.
TOKEN_PATH_RE = re.compile(r"^[^.]+(\.[^.]+)*$")


def input_problems(hub: str, tokens: object, config_path: object = None) -> list[str]:
    """What is wrong with the secrets role's own inputs: the hub name (a DNS label: it names the
    file), each of ``secrets_generated_tokens`` (a dotted key path, an even length of at least 32)
    and ``secrets_sops_config_path`` (when set, an existing file)."""
    problems = []
    if config_path and not Path(str(config_path)).is_file():
        problems.append(f"hub {hub}: secrets_sops_config_path: {config_path} does not exist; expected the sops "
                        "configuration (.sops.yaml) whose creation rules encrypt the hub's secret values file")
    if not is_dns_label(str(hub)):
        problems.append(f"hub {hub}: hub_name must be a DNS label (lowercase letters, digits, '-', at most 63)")
    for token in tokens if isinstance(tokens, list) else []:
        token = token if isinstance(token, Mapping) else {}
        path, length = token.get("path"), token.get("length", DEFAULT_TOKEN_LENGTH)
        length = DEFAULT_TOKEN_LENGTH if length is None else length
        if (not isinstance(path, str) or not TOKEN_PATH_RE.match(path) or not isinstance(length, int)
                or isinstance(length, bool) or length % 2 or length < 32):
            problems.append(f"hub {hub}: secrets_generated_tokens entry {path} needs a dotted key path and an even "
                            "length of at least 32 hex characters")
    return problems


def new_token(length: int) -> str:
    """A random token of ``length`` lowercase hex characters."""
    if length < 32 or length % 2:
        raise SecretValuesError(f"token length must be an even number >= 32, not {length}")
    return secrets.token_hex(length // 2)


def _given(value: object) -> bool:
    return value is not None and value != ""


def apply_registry(data: dict[str, Any], registry: Mapping[str, Any] | None) -> None:
    """Write the registry credentials the charts need; leave the keys alone without a password."""
    if not registry or not _given(registry.get("password")):
        return
    password = registry["password"]
    for path in REGISTRY_PASSWORD_PATHS:
        set_path(data, path, password)
    if registry.get("pull_secret_required"):
        if not _given(registry.get("username")):
            raise SecretValuesError("registry_definition.pull_secret_required is set but username is empty")
        username_path, password_path = IMAGE_PULL_KEYS
        set_path(data, username_path, registry["username"])
        set_path(data, password_path, password)


def _token_specs(tokens: Iterable[Any]) -> list[tuple[str, int]]:
    specs = []
    for token in tokens:
        if isinstance(token, str):
            specs.append((token, DEFAULT_TOKEN_LENGTH))
        elif isinstance(token, Mapping) and isinstance(token.get("path"), str):
            specs.append((token["path"], int(token.get("length") or DEFAULT_TOKEN_LENGTH)))
        else:
            raise SecretValuesError("each generated token must be a key path or a mapping with 'path' (and 'length')")
    return specs


def apply_tokens(data: dict[str, Any], tokens: Iterable[Any], rotate: bool) -> None:
    """Generate each token that is missing (or every token when rotating); keep the others."""
    for path, length in _token_specs(tokens):
        if rotate or not _given(get_path(data, path)):
            set_path(data, path, new_token(length))


def desired_secret_values(
    current: object,
    registry: Mapping[str, Any] | None = None,
    tokens: Iterable[Any] = (),
    rotate: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Desired secret values: ``current`` with the toolkit-managed keys set.

    Order: registry credentials, then generated tokens, then ``extra`` (values given in the
    inventory win over everything else).
    """
    if current in (None, ""):
        current = {}
    if not isinstance(current, Mapping):
        raise SecretValuesError("the decrypted secret values file is not a mapping of chart keys")
    data: dict[str, Any] = copy.deepcopy(dict(current))
    for chart in CHART_KEYS:
        if not isinstance(data.get(chart), dict):
            data[chart] = {}
    apply_registry(data, registry)
    try:
        apply_tokens(data, tokens or (), bool(rotate))
    except KeyPathError as error:
        raise SecretValuesError(str(error)) from None
    if extra:
        data = deep_merge(data, extra)
    return data


def changed_secret_keys(current: object, desired: object) -> list[str]:
    """Sorted dotted key names whose values differ (added, changed or removed); no values."""
    old = leaf_paths(current or {})
    new = leaf_paths(desired or {})
    return sorted(key for key in old.keys() | new.keys() if old.get(key, _MISSING) != new.get(key, _MISSING))


_MISSING = object()
