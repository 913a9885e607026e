"""What the smoke check expects of a user pod, per profile: derived from the validated hub model and
the jupyterhub release's values rendered from it (the same source the deployed values come from),
with the chart's own defaults underneath.

One case per profile: the profile with each option at its default choice (KubeSpawner's default:
the choice marked ``default``, else the first). A hub without profiles has one case, the chart's
single-user server as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import image_pull_secret_name
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel, Profile
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import SMOKE_USER
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge

# KubeSpawner's byte sizes (its ByteSpecification): binary multiples.
BYTE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
# Kubernetes quantity suffixes.
QUANTITY_SUFFIXES = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6,
                     "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
# Home claims of dynamic storage: KubeSpawner's default name (z2jh 4.4.0 sets no other).
DYNAMIC_CLAIM = "claim-{user}"


class SmokeCaseError(ValueError):
    """The expected pod cannot be told from the hub's values (names the hub and the value)."""


@dataclass(frozen=True)
class Home:
    """Where the user's home is: ``kind`` dynamic, nfs or none."""

    kind: str
    mount_path: str
    claim: str = ""  # empty: any claim (a values file renamed the claims)
    sub_path: str = ""


@dataclass(frozen=True)
class SmokeCase:
    """One server start of the smoke check and the pod it must give."""

    profile: str  # the profile's slug ("" without profiles)
    user_options: dict[str, str]
    image: str
    node_selector: dict[str, str]
    pull_secrets: list[str]
    home: Home
    limits: dict[str, float | None] = field(default_factory=dict)  # cpu (cores), memory (bytes)


def byte_size(value: object) -> float | None:
    """KubeSpawner's reading of a memory size: ``2G`` is 2 GiB, a number is bytes."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text[-1:] in BYTE_UNITS:
        return float(text[:-1]) * BYTE_UNITS[text[-1]]
    return float(text)


def quantity(value: object) -> float | None:
    """A Kubernetes quantity as a number (``500m`` is 0.5, ``1Gi`` is 1073741824)."""
    if value is None or value == "":
        return None
    found = QUANTITY.match(str(value).strip())
    if not found or (found[2] and found[2] not in QUANTITY_SUFFIXES):
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return float(found[1]) * QUANTITY_SUFFIXES.get(found[2], 1)


def _secret_names(entries: object) -> list[str]:
    """Names of a chart's pull secret list (strings or ``{name: ...}``)."""
    names = []
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("name") if isinstance(entry, Mapping) else entry
        if name:
            names.append(str(name))
    return names


def default_choices(profile: Profile) -> tuple[dict[str, str], dict[str, Any]]:
    """The user options of a profile at its default choices, and the overrides they add up to."""
    options: dict[str, str] = {}
    overrides: dict[str, Any] = dict(profile.kubespawner_override)
    for option in profile.options:
        choice = next((c for c in option.choices if c.default), option.choices[0])
        options[option.key] = choice.key
        overrides.update(choice.kubespawner_override)
    return options, overrides


def smoke_cases(model: HubModel, values: Mapping[str, Any], chart_defaults: Mapping[str, Any],
                pull_secret_required: bool) -> list[SmokeCase]:
    """The smoke check's cases: ``values`` are the jupyterhub release's rendered values (values files
    included), ``chart_defaults`` the chart's values.yaml."""
    hub = model.hub.name
    singleuser = deep_merge(dict(chart_defaults.get("singleuser") or {}), dict(values.get("singleuser") or {}))
    release = model.releases["jupyterhub"].name
    pull_secrets = [image_pull_secret_name(release)] if pull_secret_required else []
    pull_secrets += _secret_names(values.get("imagePullSecrets", chart_defaults.get("imagePullSecrets")))
    pull_secrets += _secret_names((singleuser.get("image") or {}).get("pullSecrets"))
    home = _home(model, singleuser)
    chart_image = singleuser.get("image") or {}
    default_image = f"{chart_image['name']}:{chart_image['tag']}" if chart_image.get("name") and chart_image.get("tag") \
        else ""
    profiles = [(p.slug, *default_choices(p)) for p in model.jupyterhub.profiles] or [("", {}, {})]
    cases = []
    for slug, options, overrides in profiles:
        image = str(overrides.get("image") or default_image)
        if not image:
            raise SmokeCaseError(f"hub {hub!r}: profile {slug or '(none)'}: no image is set by the profile, its default "
                                 "choices or singleuser.image, and the chart's default is unknown")
        selector = {**(singleuser.get("nodeSelector") or {}), **(overrides.get("node_selector") or {})}
        cases.append(SmokeCase(
            profile=slug,
            user_options={"profile": slug, **options} if slug else {},
            image=image,
            node_selector={str(k): str(v) for k, v in selector.items()},
            pull_secrets=sorted(set(pull_secrets)),
            home=home,
            limits={"cpu": _number(overrides.get("cpu_limit", (singleuser.get("cpu") or {}).get("limit"))),
                    "memory": byte_size(overrides.get("mem_limit", (singleuser.get("memory") or {}).get("limit")))},
        ))
    return cases


def _number(value: object) -> float | None:
    return None if value is None or value == "" else float(str(value))


def _home(model: HubModel, singleuser: Mapping[str, Any]) -> Home:
    storage = model.jupyterhub.storage
    mount_path = str((singleuser.get("storage") or {}).get("homeMountPath") or storage.home_mount_path)
    if storage.type == "dynamic":
        template = ((singleuser.get("storage") or {}).get("dynamic") or {}).get("pvcNameTemplate")
        return Home("dynamic", mount_path, "" if template else DYNAMIC_CLAIM.format(user=SMOKE_USER))
    if storage.type == "nfs":
        static = (singleuser.get("storage") or {}).get("static") or {}
        return Home("nfs", mount_path, str(static.get("pvcName") or ""),
                    str(static.get("subPath") or "").replace("{username}", SMOKE_USER))
    return Home("none", mount_path)
