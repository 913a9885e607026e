"""One hub's release values, rendered on the controller: the validated hub model, its values
per release, its sops-encrypted values files and its secret values file decrypted in memory.

Shared by the ``hub_values`` action (which returns them, on a ``no_log`` task) and the
``hub_release`` action (which renders and deploys in one task, so that decrypted values never
leave the worker process). Every error names the hub and the file, never a value.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    SopsDecryptError,
    is_sops_encrypted,
    sops_decrypt,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import cached_chart_dir
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import (
    Errors,
    HubModel,
    HubModelError,
    build_model,
    decrypt_values_files,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.companions import decrypt_companions
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Companion, Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.jupyterhub import nfs_objects
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView, registry_view
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import (
    companion_values,
    render_values,
    toolkit_values,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import (
    BINDER_TOKEN_KEY,
    missing_secret_keys,
    release_values,
    required_secret_keys,
    without_build_wiring,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import set_path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.release_rules import (
    Layer,
    check_companion_values,
    check_final_values,
    check_secret_sections,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import STAND_IN
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import SAFE_LOADER


class RenderError(ValueError):
    """Why a hub's values could not be rendered (names the hub, never a value)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Rendering:
    """A hub's model, registry view and values per release before the secret values file,
    with the layers they were merged from (for messages naming the file that set a value)."""

    model: HubModel
    registry: RegistryView | None  # None: the hub builds no images
    layers: list[Layer]
    values: dict[str, dict[str, Any]]
    decrypted: bool

    def result(self) -> dict[str, Any]:
        """What ``hub_values`` returns (and ``with_secret_values`` takes)."""
        model = self.model
        rendered: dict[str, Any] = {
            "hub": model.hub.name,
            "values": self.values,
            "encrypted_values_files": [f.path for f in model.values_files if f.encrypted],
            "releases": {key: dict(release.__dict__) for key, release in model.releases.items()},
            "companions": {c.release.name: {**c.release.__dict__, "order": c.order} for c in model.companions},
            "objects": nfs_objects(model),
            "namespace": model.hub.namespace,
            "required_secret_keys": required_secret_keys(model, self.registry),
        }
        if self.decrypted:
            rendered["secret_values"] = [f.content for f in model.values_files if f.encrypted]
        return rendered


def values_file_source(index: int, path: str, base_dir: str, variable: str = "hub_values_files") -> str:
    """How messages name an extra values file: its variable and its path (relative to the inventory)."""
    inside = bool(base_dir) and Path(path).is_absolute() and Path(path).is_relative_to(base_dir)
    shown = os.path.relpath(path, base_dir) if inside else path
    return f"{variable}[{index}] ({shown})"


# Decrypts one sops file in memory: its path -> its plaintext YAML (raises when it cannot).
Decrypter = Callable[[str], str]


def render_model(variables: dict[str, Any], definition: object, *, base_dir: str, decrypt: bool = False,
                 sops_binary: str = "sops", env: dict[str, str] | None = None,
                 decrypt_file: Decrypter | None = None) -> Rendering:
    """The hub's rendering: the model validated, the registry view checked, the encrypted values
    files decrypted in memory when ``decrypt`` (by ``decrypt_file`` when given, else sops)."""
    try:
        model = build_model(variables, base_dir=base_dir)
    except HubModelError as error:
        raise RenderError(str(error), errors=error.errors, hub=error.hub) from None
    if decrypt_file is None:
        def decrypt_file(path: str) -> str:
            return sops_decrypt(path, binary=sops_binary, env=env)
    return render_built(model, definition, base_dir=base_dir, decrypt_file=decrypt_file if decrypt else None)


def render_built(model: HubModel, definition: object, *, base_dir: str, decrypt_file: Decrypter | None) -> Rendering:
    """The rendering of a model already built: the registry view checked, the encrypted values
    files decrypted in memory by ``decrypt_file`` (left empty when it is None)."""
    registry: RegistryView | None = None
    if model.hub.image_building:  # a hub that builds no images has no registry: a definition is not used
        if not isinstance(definition, dict) or not definition:
            raise RenderError(f"hub {model.hub.name!r}: registry_definition: is missing; expected the fact the "
                              "registry role sets for a hub that builds images")
        try:
            registry = registry_view(definition, model.hub.name)
        except ValueError as error:
            raise RenderError(str(error)) from None
    if decrypt_file is not None and any(f.encrypted for f in model.values_files):
        try:
            model = decrypt_values_files(model, decrypt_file)
        except HubModelError as error:
            raise RenderError(str(error), errors=error.errors, hub=error.hub, decrypt_error=str(error)) from None
    toolkit = toolkit_values(model, registry)
    layers = [Layer("the toolkit's values", toolkit)]
    layers += [Layer(values_file_source(index, f.path, base_dir), f.content, plaintext=not f.encrypted)
               for index, f in enumerate(model.values_files)]
    return Rendering(model, registry, layers, render_values(model, registry), decrypt_file is not None)


def render_hub(variables: dict[str, Any], definition: object, *, base_dir: str, decrypt: bool = False) -> dict[str, Any]:
    """The hub's rendered values and what the roles need with them (``hub_values``' result keys)."""
    return render_model(variables, definition, base_dir=base_dir, decrypt=decrypt).result()


def chart_schema(release: Release) -> dict[str, Any] | None:
    """The chart's ``values.schema.json`` when the chart is on disk (a chart directory, or an
    upstream chart the preflight resolved into the chart cache), else None (helm checks it).
    Read once per file and change (a fleet's hubs share a few charts); callers only read it."""
    for directory in (Path(release.chart_ref), cached_chart_dir(release)):
        schema = directory / "values.schema.json" if directory else None
        if schema is not None and schema.is_file():
            try:
                stat = schema.stat()
            except OSError:
                return None
            return _read_schema(str(schema), stat.st_mtime_ns, stat.st_size)
    return None


@functools.lru_cache(maxsize=32)
def _read_schema(path: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    del mtime_ns, size  # part of the cache key only: a changed file is read again
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def check_final(rendering: Rendering, secrets: dict[str, Any], secrets_source: str,
                final: dict[str, dict[str, Any]]) -> None:
    """Raise RenderError naming every problem of the releases' final values (no value shown)."""
    errs = Errors(hub=rendering.model.hub.name)
    check_secret_sections(errs, secrets_source, secrets)
    layers = [*rendering.layers, Layer(secrets_source, secrets)]
    schemas = {key: chart_schema(rendering.model.releases[key]) for key in final}
    messages = errs.messages + check_final_values(rendering.model, rendering.registry, layers, final, schemas)
    if messages:
        error = HubModelError(rendering.model.hub.name, messages)
        raise RenderError(str(error), errors=messages, hub=rendering.model.hub.name)


def final_values(rendering: Rendering, secrets: dict[str, Any], secrets_source: str,
                 releases: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Each release's final values (rendered values, the secret values file on top), checked."""
    wanted = [str(r) for r in releases or rendering.values]
    if not rendering.model.hub.image_building:
        secrets = without_build_wiring(secrets)
    final = {key: release_values(rendering.values[key], secrets, key) for key in wanted if key in rendering.values}
    check_final(rendering, secrets, secrets_source, final)
    return final


def with_secret_values(rendering: Rendering, secrets_file: str, releases: list[str] | None, *,
                       sops_binary: str, env: dict[str, str], stand_ins: Collection[str] = ()) -> dict[str, Any]:
    """The rendering's result plus each release's final values (rendered values, the hub's
    secret values file on top: ``release_values``), checked by the release rules, and every
    decrypted value (``secret_values``, for redaction).

    ``stand_ins`` (check mode only): keys the rollout writes itself; when the file lacks them (or
    there is no file yet: the hub's first run) ``STAND_IN`` stands in, and ``stand_ins`` of the
    result names them.

    Raises RenderError when the file is missing, not sops-encrypted, cannot be decrypted, lacks
    a key the releases need, or the final values break a rule.
    """
    rendered = rendering.result()
    hub = rendered["hub"]
    wanted_releases = [str(r) for r in releases or rendered["values"]]
    secrets = (decrypt_secrets_file(hub, secrets_file, sops_binary=sops_binary, env=env)
               if not stand_ins or Path(secrets_file).is_file() else {})
    wanted = [key for key in rendered["required_secret_keys"]
              if key.split(".", 1)[0] in wanted_releases
              or (key == BINDER_TOKEN_KEY and "binderhub-service" in wanted_releases)]
    standing_in = missing_secret_keys(secrets, [key for key in wanted if key in stand_ins])
    for key in standing_in:
        set_path(secrets, key, STAND_IN)
    missing = missing_secret_keys(secrets, wanted)
    if missing:
        raise RenderError(f"hub {hub}: {secrets_file} lacks {', '.join(missing)}; expected the secrets role to write "
                          f"them (or scripts/hub-secrets set {hub} <key>)")
    return {**rendered,
            "release_values": final_values(rendering, secrets, f"the secret values file {secrets_file}", wanted_releases),
            "secret_values": {"secrets_file": secrets, "values_files": rendered.get("secret_values") or []},
            "stand_ins": standing_in}


def decrypt_secrets_file(hub: str, path: str, *, sops_binary: str = "sops", env: dict[str, str] | None = None,
                         decrypt_file: Decrypter | None = None) -> dict[str, Any]:
    """The hub's secret values file decrypted in memory (by ``decrypt_file`` when given, else sops)."""
    if not Path(path).is_file():
        raise RenderError(f"hub {hub}: {path} is missing: run playbooks/seal.yml first")
    if not is_sops_encrypted(path):
        raise RenderError(f"hub {hub}: {path} is not sops-encrypted: a secret values file must never be plain "
                          "text (encrypt it with sops, or delete it and run playbooks/seal.yml)")
    try:
        text = decrypt_file(path) if decrypt_file is not None else sops_decrypt(path, binary=sops_binary, env=env)
        content = yaml.load(text, Loader=SAFE_LOADER) or {}  # noqa: S506 - a safe loader (libyaml's when there)
    except (SopsDecryptError, yaml.YAMLError) as error:  # messages name the file, never its content
        raise RenderError(f"hub {hub}: {error.__class__.__name__}: " + (
            str(error) if isinstance(error, SopsDecryptError) else f"{path} decrypts to unreadable YAML")) from None
    if not isinstance(content, dict):
        raise RenderError(f"hub {hub}: {path} decrypts to a {type(content).__name__}, expected a mapping")
    return content


@dataclass(frozen=True)
class CompanionRendering:
    """One companion release ready to deploy: its final values (its inline values, then its values
    files, sops-encrypted ones decrypted in memory) and the decrypted values, for redaction."""

    companion: Companion
    values: dict[str, Any]
    secret_values: list[dict[str, Any]]

    @property
    def release(self) -> dict[str, Any]:
        return dict(self.companion.release.__dict__)


def companion_layers(companion: Companion, base_dir: str) -> list[Layer]:
    """A companion's layers, keyed by its release name: its inline values (in the inventory, plain
    text), then each values file, for messages naming the layer that set a value."""
    key = companion.release.name
    return [Layer(f"{companion.variable}.values", {key: companion.values}, plaintext=True),
            *(Layer(values_file_source(number, f.path, base_dir, f"{companion.variable}.values_files"), {key: f.content},
                    plaintext=not f.encrypted) for number, f in enumerate(companion.values_files))]


def render_companions(model: HubModel, *, base_dir: str, order: str = "", decrypt: bool = False,
                      sops_binary: str = "sops", env: dict[str, str] | None = None,
                      decrypt_file: Decrypter | None = None) -> list[CompanionRendering]:
    """The hub's companion releases (of ``order`` only, when given) with their final values,
    checked: no secret in a plaintext layer, quantities, node pools and the chart's
    ``values.schema.json`` where the chart is on disk. With ``decrypt`` their sops-encrypted values
    files are decrypted in memory (by ``decrypt_file`` when given; else they count as empty). Raises RenderError naming every
    problem (the hub, the variable, the file; never a value)."""
    if decrypt:
        decrypter = decrypt_file or (lambda path: sops_decrypt(path, binary=sops_binary, env=env))
        try:
            model = decrypt_companions(model, decrypter, order)
        except HubModelError as error:
            raise RenderError(str(error), errors=error.errors, hub=error.hub, decrypt_error=str(error)) from None
    found, messages = [], []
    for companion in model.companions:
        if order and companion.order != order:
            continue
        values = companion_values(companion)
        messages += check_companion_values(model, companion_layers(companion, base_dir), companion.release.name, values,
                                           chart_schema(companion.release))
        found.append(CompanionRendering(companion, values, [f.content for f in companion.values_files if f.encrypted]))
    if messages:
        error = HubModelError(model.hub.name, messages)
        raise RenderError(str(error), errors=messages, hub=model.hub.name)
    return found
