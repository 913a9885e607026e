"""A fleet hub's ``chart_override``: the chart versions the incumbent pins for that hub.

In the ``config/clusters`` layout, ``chart_override`` names the umbrella chart's ``Chart.yaml``
the hub is deployed with instead of the fleet's default one (a path with a ``/`` starts at the
fleet repository's root, else at the cluster's directory; a directory means its ``Chart.yaml``).
Its ``dependencies`` pin the subcharts: ``jupyterhub``, ``binderhub-service`` and ``dask-gateway``
become the hub's ``<release>_chart_version`` - honoured, not ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import describe_yaml_error, load_strict

# Umbrella dependency name -> the toolkit's chart version variable.
PINNED_VARIABLES = {
    "jupyterhub": "jupyterhub_chart_version",
    "binderhub-service": "binderhub_service_chart_version",
    "dask-gateway": "jupyterhub_dask_gateway_chart_version",
}


class ChartPinError(ValueError):
    """The hub's ``chart_override`` cannot be honoured; the message says why and what is expected."""


def chart_file(value: str, cluster_dir: Path, fleet_root: Path) -> Path:
    """The ``Chart.yaml`` that ``chart_override`` names."""
    path = (fleet_root if "/" in value else cluster_dir) / value
    return path / "Chart.yaml" if path.is_dir() else path


def chart_pins(value: object, cluster_dir: Path, fleet_root: Path) -> dict[str, tuple[str, str]]:
    """Version variable -> (version, the Chart.yaml pinning it); raises ``ChartPinError``."""
    if not isinstance(value, str) or not value:
        raise ChartPinError(f"is {value!r}; expected the path of the hub's umbrella Chart.yaml")
    path = chart_file(value, cluster_dir, fleet_root)
    try:
        data = load_strict(str(path))
    except OSError as exc:
        raise ChartPinError(f"{path} cannot be read ({exc.strerror}); expected the hub's umbrella Chart.yaml "
                            "(a path with '/' starts at the fleet's root, else at the cluster's directory)") from exc
    except yaml.YAMLError as exc:
        raise ChartPinError(f"{path} is not valid YAML: {describe_yaml_error(exc)}") from exc
    dependencies = data.get("dependencies") if isinstance(data, Mapping) else None
    pins: dict[str, tuple[str, str]] = {}
    for dependency in dependencies if isinstance(dependencies, list) else []:
        if not isinstance(dependency, Mapping):
            continue
        variable = PINNED_VARIABLES.get(str(dependency.get("alias") or dependency.get("name") or ""))
        version = dependency.get("version")
        if variable and isinstance(version, str) and version:
            pins[variable] = (version, str(path))
    if PINNED_VARIABLES["jupyterhub"] not in pins:
        raise ChartPinError(f"{path} pins no jupyterhub dependency; expected a Chart.yaml whose dependencies name "
                            "jupyterhub (and binderhub-service, dask-gateway) with a version")
    return pins
