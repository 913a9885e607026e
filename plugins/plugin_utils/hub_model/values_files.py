"""``hub_values_files``: the hub's extra helm values files, sops-encrypted ones decrypted in memory only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import is_sops_document, is_sops_encrypted
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.adoption import (
    accept_unknown_key,
    check_custom,
    unknown_key_fix,
    unwrap_umbrella,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Adoption, HubModel, ValuesFile
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    HubModelError,
    did_you_mean,
    read_list,
    read_str,
    type_name,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import (
    SAFE_LOADER,
    describe_yaml_error,
    load_strict,
)

# Top-level keys of an extra values file: one per chart (release) the toolkit deploys.
VALUES_FILE_KEYS = ("jupyterhub", "binderhub-service", "dask-gateway")


def _check_values_content(errs: Errors, path: str, full: str, content: object, adoption: Adoption,
                          notes: list[str]) -> dict[str, Any] | None:
    """The file's values when they are a mapping of chart sections, else ``None`` (errors recorded);
    values written for an umbrella chart mapped or refused (``adoption.py``), with ``notes``.

    Messages name keys and types only, never values (the content may be decrypted secrets).
    """
    content = {} if content is None else content
    if not isinstance(content, Mapping):
        errs.add(path, f"{full} holds a {type_name(content)}", "a mapping with top-level keys "
                 + ", ".join(VALUES_FILE_KEYS))
        return None
    content = unwrap_umbrella(errs, path, full, dict(content), adoption, notes)
    for key in list(content):
        if key not in VALUES_FILE_KEYS:
            if accept_unknown_key(str(key), adoption, notes, full):
                content.pop(key)
                continue
            errs.add(f"{path}: {key}", f"top-level key {key!r} in {full} is not a chart of the hub",
                     "one of " + ", ".join(VALUES_FILE_KEYS) + did_you_mean(str(key), VALUES_FILE_KEYS)
                     + unknown_key_fix(adoption))
        elif content[key] is not None and not isinstance(content[key], Mapping):
            errs.add(f"{path}: {key}", f"is a {type_name(content[key])}", "a mapping of helm values")
    _check_values_name_overrides(errs, path, full, content)
    check_custom(errs, path, full, content, adoption, notes)
    return content


def _checked_file(errs: Errors, path: str, full: str, content: object, model_parts: tuple[Collection[str], Adoption],
                  *, encrypted: bool = False) -> ValuesFile | None:
    """One values file's content checked, mapped and noted (``None`` when it is not a mapping)."""
    deployed, adoption = model_parts
    notes: list[str] = []
    checked = _check_values_content(errs, path, full, content, adoption, notes)
    if checked is None:
        return None
    values_file = chart_switches_applied(errs, path, ValuesFile(path=full, content=checked, encrypted=encrypted),
                                         deployed)
    return replace(values_file, notes=(*notes, *values_file.notes))


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


# The umbrella chart's switch of a chart (``binderhub-service.enabled``, ``dask-gateway.enabled``):
# not a value of the chart itself. The hub's own settings decide which releases it has
# (``hub_image_building``, ``hub_dask_gateway_enabled``; the fleet inventory plugin maps a plain
# file's switch to them): a switch that agrees is dropped, one that disagrees is refused. Other
# values of a chart the hub does not deploy stay, named by ``hub_values.render.unused_sections``.
CHART_SWITCH = "enabled"
# Per chart: why the hub has no such release, how to give it one, how to say it has none.
WHY_NOT_DEPLOYED = {
    "binderhub-service": ("the hub builds no images (hub_image_building, else a profile option with "
                          "dynamic_image_building)", "hub_image_building: enabled", "hub_image_building: disabled"),
    "dask-gateway": ("hub_dask_gateway_enabled is false", "hub_dask_gateway_enabled: true (helm_chart: daskhub "
                     "in a fleet's cluster.yaml)", "hub_dask_gateway_enabled: false"),
}


def chart_switches_applied(errs: Errors, path: str, values_file: ValuesFile, deployed: Collection[str]) -> ValuesFile:
    """``values_file`` without the umbrella switches, each checked against the releases the hub
    deploys (``deployed``: chart keys). Messages name keys, never values."""
    content = dict(values_file.content)
    notes: list[str] = list(values_file.notes)
    for chart, (why, on, off) in WHY_NOT_DEPLOYED.items():
        section = content.get(chart)
        if not isinstance(section, Mapping) or CHART_SWITCH not in section:
            continue
        switch = section[CHART_SWITCH]
        if not isinstance(switch, bool):
            errs.add(f"{path}: {chart}.{CHART_SWITCH}", f"is a {type_name(switch)} in {values_file.path}",
                     "true or false")
        elif switch and chart not in deployed:
            errs.add(f"{path}: {chart}.{CHART_SWITCH}", f"is true in {values_file.path}, but the hub deploys no "
                     f"{chart} release: {why}", f"{on}, or no {chart}.{CHART_SWITCH} in the file")
        elif not switch and chart in deployed:
            errs.add(f"{path}: {chart}.{CHART_SWITCH}", f"is false in {values_file.path}, but the hub deploys "
                     f"{chart}", f"{off}, or no {chart}.{CHART_SWITCH} in the file")
        content[chart] = {key: value for key, value in section.items() if key != CHART_SWITCH}
        if isinstance(switch, bool) and (switch == (chart in deployed)):
            notes.append(f"{values_file.path}: {chart}.{CHART_SWITCH} -> the hub's {chart} release is "
                         + ("deployed" if switch else "not deployed"))
    return replace(values_file, content=content, notes=tuple(notes))


def values_file_path(name: str, base_dir: str) -> str:
    """Where a listed values file is: relative paths start at the inventory directory (``base_dir``)."""
    return name if Path(name).is_absolute() else os.path.normpath(Path(base_dir) / name)


def read_values_file(errs: Errors, path: str, item: object, base_dir: str) -> tuple[str, object, bool] | None:
    """One listed values file (``path`` names its variable): its full path, its content (not
    checked here) and whether it is sops-encrypted (complete top-level ``sops`` metadata; the
    content is then left empty: ``decrypted_content`` decrypts it in memory, only where the
    values are deployed). None when it cannot be used (the error recorded, never a line of it)."""
    name = read_str(errs, path, item, required=True)
    if not name:
        return None
    full = values_file_path(name, base_dir)
    if not Path(full).is_file():
        errs.add(path, f"{full} does not exist", "an existing helm values file (relative paths start at the "
                 "inventory directory)")
        return None
    if is_sops_encrypted(full):  # sops metadata (read once per file and run): nothing else to read here
        return full, {}, True
    try:
        content = load_strict(full)
    except OSError as exc:
        errs.add(path, f"{full} cannot be read ({exc.strerror})", "a readable helm values file")
        return None
    except yaml.YAMLError as exc:  # where and what, never the line: the file may hold secrets
        errs.add(path, f"{full} is not valid YAML: {describe_yaml_error(exc)}",
                 "a helm values file, each key once per mapping")
        return None
    if is_sops_document(content):
        return full, {}, True
    return full, content, False


def decrypted_content(errs: Errors, path: str, full: str, decrypt: Callable[[str], str]) -> tuple[bool, object]:
    """(decrypted, the content) of the sops-encrypted values file ``full`` (``path`` names its
    variable), parsed in memory; the errors name the file, never a decrypted value."""
    try:
        text = decrypt(full)
    except Exception as exc:  # the decrypter's message names the file, never its content
        errs.add(path, str(exc) or f"sops could not decrypt {full}",
                 "a sops file the controller can decrypt (its key, e.g. SOPS_AGE_KEY_FILE, available)")
        return False, None
    try:
        return True, yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (libyaml's when there)
    except yaml.YAMLError as exc:  # the parser's message would quote the plaintext
        errs.add(path, f"{full} decrypts to unreadable YAML ({exc.__class__.__name__})", "a helm values file")
        return False, None


def read_values_files(errs: Errors, value: object, base_dir: str, deployed: Collection[str],
                      adoption: Adoption) -> list[ValuesFile]:
    """The hub's extra values files in their listed order, the umbrella switches checked against
    the charts the hub deploys (``deployed``) and dropped, umbrella values mapped (``adoption``).

    A sops-encrypted file is listed with ``encrypted=True`` and empty content: it is decrypted in
    memory, only where the values are deployed (``decrypt_values_files``), never here.
    """
    files: list[ValuesFile] = []
    for index, item in enumerate(read_list(errs, "hub_values_files", value)):
        path = f"hub_values_files[{index}]"
        found = read_values_file(errs, path, item, base_dir)
        if found is None:
            continue
        full, content, encrypted = found
        if encrypted:
            files.append(ValuesFile(path=full, content={}, encrypted=True))
            continue
        checked = _checked_file(errs, path, full, content, (deployed, adoption))
        if checked is not None:
            files.append(checked)
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
        opened, content = decrypted_content(errs, path, values_file.path, decrypt)
        if not opened:
            continue
        checked = _checked_file(errs, path, values_file.path, content, (model.releases, model.adoption),
                                encrypted=True)
        if checked is not None:
            files.append(checked)
    if errs.messages:
        raise HubModelError(model.hub.name, errs.messages)
    return replace(model, values_files=files)
