"""The hub's helm releases: their names, charts and where the charts come from.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import DNS_LABEL_RE
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Hub, Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import Errors, read_pattern, read_str
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import value_of

# Helm release names are DNS labels of at most 53 characters.
RELEASE_NAME_MAX = 53


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


def chart_metadata(chart_dir: Path) -> dict[str, Any]:
    """The chart's Chart.yaml (read once per file and change: a fleet's hubs share a few charts)."""
    try:
        stat = (chart_dir / "Chart.yaml").stat()
    except OSError:
        return {}
    return dict(_read_chart_yaml(str(chart_dir / "Chart.yaml"), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=64)
def _read_chart_yaml(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    del mtime_ns, size  # part of the cache key only
    try:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
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
    metadata = chart_metadata(found)
    if metadata.get("name") != chart or str(metadata.get("version")) != version:
        errs.add("hub_charts_dir", f"{found}/Chart.yaml is chart {metadata.get('name')!r} version "
                 f"{metadata.get('version')!r}, not {chart} {version} ({version_variable})",
                 f"the unpacked chart at the version {version_variable} pins")
    return str(found)


def read_release_name(errs: Errors, variable: str, given: object, derived: str) -> str:
    """A release's name: ``given``, else ``derived`` from the hub's name; a DNS label of at most
    RELEASE_NAME_MAX characters."""
    name = read_pattern(errs, variable, given or derived, DNS_LABEL_RE, "a helm release name (a DNS label)")
    if len(name) > RELEASE_NAME_MAX:
        hint = "" if given else f" (derived from hub_name; set {variable} to a shorter name)"
        errs.add(variable, f"{name!r} is longer than {RELEASE_NAME_MAX} characters{hint}", "a shorter helm release name")
    return name


def read_release(errs: Errors, variables: Mapping[str, Any], prefix: str, chart: str, hub: Hub,
                 charts_dir: str) -> Release:
    variable = f"{prefix}_release_name"
    name = read_release_name(errs, variable, value_of(variables, variable),
                             release_name_default(hub.name, prefix) if hub.name else "")
    version = read_str(errs, f"{prefix}_chart_version", value_of(variables, f"{prefix}_chart_version"), required=True)
    repo = read_str(errs, f"{prefix}_chart_repo", value_of(variables, f"{prefix}_chart_repo"))
    ref = read_str(errs, f"{prefix}_chart_ref", value_of(variables, f"{prefix}_chart_ref"))
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
    keys = (["jupyterhub"] + (["binderhub-service"] if hub.image_building else [])
            + (["dask-gateway"] if hub.dask_gateway_enabled else []))
    releases = {key: read_release(errs, variables, RELEASE_PREFIXES[key], key, hub, charts_dir) for key in keys}
    names = [r.name for r in releases.values()]
    if len(set(names)) != len(names):
        errs.add("jupyterhub_release_name", f"release names {names} collide", "a distinct name per release")
    return releases
