"""The umbrella chart's switches in a fleet hub's plain values files: ``binderhub-service.enabled``
and ``dask-gateway.enabled`` say which releases the incumbent deploys for the hub.

The fleet inventory plugin maps a switch that is on to the hub's own setting
(``hub_image_building: enabled``, ``hub_dask_gateway_enabled: true``), so such a hub gets its
release rather than losing the section; the hub model drops the switch from the values and
refuses one that disagrees with the hub's releases (``hub_model/values_files.py``). Sops-encrypted
files are not read here (their switches are checked once decrypted, where they are deployed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

# Umbrella switch -> the hub variable and value that give the hub that release.
SWITCHED_VARIABLES: dict[str, tuple[str, object]] = {
    "binderhub-service": ("hub_image_building", "enabled"),
    "dask-gateway": ("hub_dask_gateway_enabled", True),
}
SWITCH = "enabled"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def file_switches(path: str) -> dict[str, bool]:
    """The switches a plain values file sets (a file that does not read sets none: the hub
    model names its problem)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if SWITCH not in text:
        return {}
    try:
        content = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    if not isinstance(content, Mapping) or "sops" in content:
        return {}
    found: dict[str, bool] = {}
    for chart in SWITCHED_VARIABLES:
        section = content.get(chart)
        if isinstance(section, Mapping) and isinstance(section.get(SWITCH), bool):
            found[chart] = section[SWITCH]
    return found


def switched_on(files: Iterable[str], cache: dict[str, dict[str, bool]]) -> dict[str, str]:
    """Chart -> the file whose switch turns it on, the last file of ``files`` (in helm's layering
    order) that sets the switch deciding; ``cache`` holds each file's switches across a fleet."""
    state: dict[str, tuple[bool, str]] = {}
    for path in files:
        if path not in cache:
            cache[path] = file_switches(path)
        for chart, value in cache[path].items():
            state[chart] = (value, path)
    return {chart: path for chart, (value, path) in state.items() if value}


def switched_variables(switches: Mapping[str, str]) -> dict[str, object]:
    """The hub variables the switches that are on stand for."""
    return dict(SWITCHED_VARIABLES[chart] for chart in switches)
