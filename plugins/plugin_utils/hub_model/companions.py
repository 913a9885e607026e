"""``hub_companion_releases``: releases of charts the toolkit does not know, deployed beside the hub's own.

A fleet deploys charts next to each hub that the toolkit has no values of its own for: a home
directory NFS server (a ``jupyterhub-home-nfs``-style chart with quotas), metrics exporters. An
umbrella chart has them as top-level keys; here each is a release of its own, listed per hub::

    hub_companion_releases:
      - chart: jupyterhub-home-nfs                       # a chart directory, a chart name with repo,
        repo: https://example.org/helm-charts/            # or an oci:// reference
        version: 1.2.0                                    # pinned; required for repo and oci:// charts
        order: before                                     # before or after the hub's own releases
        values: {quotaEnforcer: {enabled: true}}          # inline values, under the values files
        values_files: [values/research.nfs.values.yaml]   # sops-encrypted ones decrypted in memory only

Each is deployed by ``hub_release`` like the hub's releases (fast path, helm upgrade, wait,
rollback); the rules here are the inventory's side: every error names the hub and the variable
path (``hub_companion_releases[1].version``), and the file where one is at fault.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import DNS_LABEL_RE
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import (
    Companion,
    Hub,
    HubModel,
    Release,
    ValuesFile,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    HubModelError,
    check_keys,
    read_bool,
    read_list,
    read_mapping,
    read_one_of,
    read_pattern,
    read_str,
    type_name,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import (
    RELEASE_PREFIXES,
    chart_metadata,
    read_release_name,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.values_files import (
    decrypted_content,
    read_values_file,
    values_file_path,
)

VARIABLE = "hub_companion_releases"
KEYS = frozenset({"name", "chart", "repo", "version", "values_files", "values", "namespace", "order", "wait", "timeout"})
ORDERS = ("before", "after")
DEFAULT_ORDER = "after"
# helm's --timeout (a Go duration) that the wait reads too: hours, minutes, seconds (5m0s, 90s, 1h).
TIMEOUT_RE = re.compile(r"^(\d+(\.\d+)?(h|m|s))+$")
OCI = "oci://"
CHART_FORMS = ("a chart directory (relative paths start at the inventory directory), a chart name with repo "
               "(the repository's URL), or an oci:// reference")


@dataclass(frozen=True)
class ChartSource:
    """Where a companion's chart comes from, as its entry says (``chart_source``)."""

    kind: str  # "directory", "repo" or "oci"
    ref: str  # the directory (full path), the chart's name in the repository, or the oci:// reference
    name: str  # the chart's name ("" for a directory without a readable Chart.yaml)


def chart_source(item: Mapping[str, Any], base_dir: str) -> ChartSource | None:
    """The chart an entry names (None when it names none): an ``oci://`` reference, a chart name
    with ``repo``, else a chart directory, relative paths starting at the inventory directory."""
    chart = item.get("chart")
    if not isinstance(chart, str) or not chart:
        return None
    if chart.startswith(OCI):
        return ChartSource("oci", chart, chart.rstrip("/").rsplit("/", 1)[-1])
    if item.get("repo"):
        return ChartSource("repo", chart, chart)
    directory = os.path.normpath(Path(base_dir) / Path(chart).expanduser())
    return ChartSource("directory", directory, str(chart_metadata(Path(directory)).get("name") or ""))


def _entries(variables: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    """The entries of the hub's ``hub_companion_releases`` that are mappings, with their index (unchecked)."""
    value = variables.get(VARIABLE)
    items = value if isinstance(value, list | tuple) else []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]


def companion_chart_directories(variables: Mapping[str, Any], base_dir: str) -> dict[str, str]:
    """``hub_companion_releases[<i>]`` -> the chart directory an entry deploys from (entries with
    a directory chart only): the inputs of a rollout (hub_state) as the model reads them."""
    return {f"{VARIABLE}[{index}]": source.ref for index, item in _entries(variables)
            if (source := chart_source(item, base_dir)) is not None and source.kind == "directory"}


def companion_values_file_paths(variables: Mapping[str, Any], base_dir: str) -> dict[str, str]:
    """``hub_companion_releases[<i>].values_files[<j>]`` -> the file's full path (the inputs of a rollout)."""
    return {f"{VARIABLE}[{index}].values_files[{number}]": values_file_path(name, base_dir)
            for index, item in _entries(variables)
            for number, name in enumerate(item.get("values_files") if isinstance(item.get("values_files"), list) else [])
            if isinstance(name, str) and name}


def _read_chart(errs: Errors, path: str, item: Mapping[str, Any], base_dir: str) -> tuple[ChartSource | None, str]:
    """The entry's chart and its pinned version ('' for a directory that pins none), checked."""
    chart = read_str(errs, f"{path}.chart", item.get("chart"))
    repo = read_str(errs, f"{path}.repo", item.get("repo"))
    version = read_str(errs, f"{path}.version", item.get("version"))
    if not chart:
        errs.add(f"{path}.chart", "is missing", CHART_FORMS)
        return None, version
    source = chart_source(item, base_dir)
    if source is None:
        return None, version
    if source.kind == "oci" and repo:
        errs.add(f"{path}.repo", f"is set beside the oci:// chart {chart}",
                 "no repo: helm pulls an oci:// reference from its registry")
    if source.kind == "oci" and (":" in source.name or "@" in source.name):
        errs.add(f"{path}.chart", f"{chart} carries a tag or digest", f"the reference without it, the version in {path}.version")
    if source.kind == "repo":
        if not re.match(r"^(https?|file)://", repo):
            errs.add(f"{path}.repo", f"{repo!r} is not a chart repository URL", "the repository's URL, e.g. https://…/")
        if "/" in chart:
            errs.add(f"{path}.chart", f"{chart!r} is not a chart name (a repository alias/chart of `helm repo add` "
                     "is not known here)", f"the chart's name in the repository, with {path}.repo its URL")
    if source.kind in ("oci", "repo") and not version:
        errs.add(f"{path}.version", f"is missing for the {'oci://' if source.kind == 'oci' else 'repository'} chart "
                 f"{chart}", "the chart version to deploy (pinned: a chart that helm fetches needs one)")
    if source.kind == "directory":
        metadata = chart_metadata(Path(source.ref))
        if not Path(source.ref).is_dir():
            errs.add(f"{path}.chart", f"{source.ref} is not a chart directory, and no repo is given", CHART_FORMS)
            return None, version
        if not metadata.get("name"):
            errs.add(f"{path}.chart", f"{source.ref} has no readable Chart.yaml naming the chart",
                     "an unpacked chart, as `helm pull --untar` or `helm create` gives it")
            return None, version
        if version and str(metadata.get("version")) != version:
            errs.add(f"{path}.version", f"is {version}, but {source.ref}/Chart.yaml is version "
                     f"{metadata.get('version')!r}", "the version the chart directory holds (or no version)")
    return source, version


def _read_values_files(errs: Errors, path: str, value: object, base_dir: str) -> list[ValuesFile]:
    """The entry's values files: helm values of the chart itself (a mapping, no chart sections)."""
    files: list[ValuesFile] = []
    for number, item in enumerate(read_list(errs, f"{path}.values_files", value)):
        where = f"{path}.values_files[{number}]"
        found = read_values_file(errs, where, item, base_dir)
        if found is None:
            continue
        full, content, encrypted = found
        checked = _checked_content(errs, where, full, content)
        if checked is not None:
            files.append(ValuesFile(path=full, content=checked, encrypted=encrypted))
    return files


def _checked_content(errs: Errors, where: str, full: str, content: object) -> dict[str, Any] | None:
    """A companion values file's values: a mapping (of the chart's values; names a type, never a value)."""
    content = {} if content is None else content
    if not isinstance(content, Mapping):
        errs.add(where, f"{full} holds a {type_name(content)}", "a mapping of the chart's helm values")
        return None
    return dict(content)


def read_companion(errs: Errors, index: int, item: object, hub: Hub, base_dir: str) -> Companion | None:
    """One entry of ``hub_companion_releases``, or None when it cannot be deployed (errors recorded)."""
    path = f"{VARIABLE}[{index}]"
    if not isinstance(item, Mapping):
        errs.add(path, f"is a {type_name(item)}", "a mapping with chart (and version, values_files, values, name, "
                 "namespace, order, wait, timeout)")
        return None
    check_keys(errs, path, item, set(KEYS))
    source, version = _read_chart(errs, path, item, base_dir)
    derived = f"{hub.name}-{source.name}" if hub.name and source and source.name else ""
    given = item.get("name")
    name = read_release_name(errs, f"{path}.name", given, derived) if given or derived else ""
    namespace = read_pattern(errs, f"{path}.namespace", item.get("namespace") or hub.namespace, DNS_LABEL_RE,
                             "a namespace (a DNS label); it defaults to the hub's")
    order = read_one_of(errs, f"{path}.order", item.get("order"), ORDERS, required=False, default=DEFAULT_ORDER)
    wait = read_bool(errs, f"{path}.wait", item.get("wait"), default=True)
    timeout = read_pattern(errs, f"{path}.timeout", item.get("timeout"), TIMEOUT_RE,
                           "a duration helm's --timeout takes, e.g. 5m0s", required=False)
    values = read_mapping(errs, f"{path}.values", item.get("values"))
    files = _read_values_files(errs, path, item.get("values_files"), base_dir)
    if source is None or not name:
        return None
    if source.kind == "directory":
        release = Release(name, source.name, source.ref, "", "", namespace)
    else:
        repo = str(item.get("repo") or "") if source.kind == "repo" else ""
        release = Release(name, source.name, source.ref, version, repo, namespace)
    return Companion(release=release, index=index, order=order or DEFAULT_ORDER, wait=wait, timeout=timeout,
                     values=values, values_files=files)


def read_companions(errs: Errors, value: object, hub: Hub, releases: Mapping[str, Release],
                    base_dir: str) -> list[Companion]:
    """Every entry of ``hub_companion_releases``: release names unique among the companions and
    the hub's own releases (whatever their namespaces: one name, one release of the hub)."""
    companions: list[Companion] = []
    own = {release.name: key for key, release in releases.items()}
    for index, item in enumerate(read_list(errs, VARIABLE, value)):
        companion = read_companion(errs, index, item, hub, base_dir)
        if companion is None:
            continue
        name = companion.release.name
        if name in own:
            errs.add(f"{companion.variable}.name", f"{name!r} is the name of the hub's {own[name]} release "
                     f"({RELEASE_PREFIXES[own[name]]}_release_name)", "a release name of its own")
            continue
        twin = next((other for other in companions if other.release.name == name), None)
        if twin is not None:
            derived = "" if isinstance(item, Mapping) and item.get("name") else " (derived from the hub and the chart)"
            errs.add(f"{companion.variable}.name", f"{name!r}{derived} is also the name of {twin.variable}",
                     "a release name of its own per companion (set name)")
            continue
        companions.append(companion)
    return companions


def decrypt_companions(model: HubModel, decrypt: Callable[[str], str], order: str = "") -> HubModel:
    """``model`` with the sops-encrypted values files of its companions (of ``order`` only, when
    given) decrypted and checked, in memory. Raises ``HubModelError`` naming the hub, the variable
    and the file; no message holds a decrypted value."""
    errs = Errors(hub=model.hub.name)
    companions = []
    for companion in model.companions:
        files = []
        for number, values_file in enumerate(companion.values_files):
            if not values_file.encrypted or (order and companion.order != order):
                files.append(values_file)
                continue
            where = f"{companion.variable}.values_files[{number}]"
            opened, content = decrypted_content(errs, where, values_file.path, decrypt)
            checked = _checked_content(errs, where, values_file.path, content) if opened else None
            if checked is not None:
                files.append(replace(values_file, content=checked))
        companions.append(replace(companion, values_files=files))
    if errs.messages:
        raise HubModelError(model.hub.name, errs.messages)
    return replace(model, companions=companions)
