"""Values written for an umbrella chart (a fleet adopted from ``config/clusters``): what is mapped,
what is dropped on the operator's word, and what needs a decision - the one place these rules live.

``hub_adoption_umbrella`` names the umbrella chart a hub's values files were written for (the
fleet inventory plugin sets ``basehub``; empty for the toolkit's own inventories). Then:

- values nested under the umbrella's name (``basehub:`` -> ``jupyterhub:`` ..., as a ``daskhub``
  hub's files have them) are unwrapped to the top level (mapped);
- ``jupyterhub.custom.<key>`` is read by the umbrella chart's own hub configuration code, which
  the toolkit does not deploy: each key needs a decision (refused until listed in
  ``hub_adoption_accepted``, which keeps it as an inert z2jh ``custom`` value);
- a top-level key that is not a chart of the hub (an umbrella-only setting, a subchart the
  toolkit does not deploy) is refused until listed in ``hub_adoption_accepted``, which drops it.

Every mapping and acceptance is noted for the hub's adoption report (``ValuesFile.notes``);
messages name keys and files, never values (a file may be decrypted secrets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Adoption, HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    read_str,
    read_str_list,
    type_name,
)

UMBRELLA_VARIABLE = "hub_adoption_umbrella"
ACCEPTED_VARIABLE = "hub_adoption_accepted"
# Top-level keys of an umbrella chart's values that are separate charts here (companion releases).
COMPANION_HINT = ("a companion release of the hub (hub_companion_releases: the subchart's chart, repo and version "
                  "from the umbrella's Chart.yaml, this section as its values)")


def read_adoption(errs: Errors, umbrella: object, accepted: object) -> Adoption:
    return Adoption(umbrella=read_str(errs, UMBRELLA_VARIABLE, umbrella),
                    accepted=tuple(read_str_list(errs, ACCEPTED_VARIABLE, accepted)))


def unwrap_umbrella(errs: Errors, path: str, full: str, content: dict[str, Any], adoption: Adoption,
                    notes: list[str]) -> dict[str, Any]:
    """``content`` with the umbrella's nesting (``<umbrella>: {jupyterhub: ...}``) at the top level."""
    nested = content.get(adoption.umbrella) if adoption.umbrella else None
    if nested is None:
        return content
    if not isinstance(nested, Mapping):
        errs.add(f"{path}: {adoption.umbrella}", f"is a {type_name(nested)} in {full}",
                 f"the {adoption.umbrella} chart's values (a mapping)")
        return content
    unwrapped = {key: value for key, value in content.items() if key != adoption.umbrella}
    for key, value in nested.items():
        if unwrapped.get(key) not in (None, {}):
            errs.add(f"{path}: {adoption.umbrella}.{key}", f"and {key} are both set in {full}",
                     f"one of them (the {adoption.umbrella} chart reads {adoption.umbrella}.{key})")
            continue
        unwrapped[key] = value
        notes.append(f"{full}: {adoption.umbrella}.{key} -> {key} (umbrella nesting unwrapped)")
    return unwrapped


def accept_unknown_key(key: str, adoption: Adoption, notes: list[str], full: str) -> bool:
    """True when the operator dropped this top-level key (``hub_adoption_accepted``)."""
    if key in adoption.accepted:
        notes.append(f"{full}: {key} dropped ({ACCEPTED_VARIABLE})")
        return True
    return False


def unknown_key_fix(adoption: Adoption) -> str:
    """The fix for a top-level key that is not a chart of the hub, on an adopted hub."""
    if not adoption.umbrella:
        return ""
    return (f"; an umbrella-only key of {adoption.umbrella}: carry it over as {COMPANION_HINT}, or list it in "
            f"{ACCEPTED_VARIABLE} to deploy without it")


def check_custom(errs: Errors, path: str, full: str, content: Mapping[str, Any], adoption: Adoption,
                 notes: list[str]) -> None:
    """Each ``jupyterhub.custom.<key>`` of an adopted hub: accepted, else a decision to take."""
    hub_values = content.get("jupyterhub")
    custom = hub_values.get("custom") if adoption.umbrella and isinstance(hub_values, Mapping) else None
    if not isinstance(custom, Mapping):
        return
    for key in custom:
        name = f"jupyterhub.custom.{key}"
        if name in adoption.accepted or "jupyterhub.custom" in adoption.accepted:
            notes.append(f"{full}: {name} kept inert ({ACCEPTED_VARIABLE}: no code of the toolkit reads it)")
            continue
        errs.add(f"{path}: {name}", f"in {full} is read by the {adoption.umbrella} chart's own hub configuration "
                 "code, which the toolkit does not deploy", f"a decision: carry its behaviour (e.g. in "
                 f"jupyterhub.hub.extraConfig) and list {name} in {ACCEPTED_VARIABLE}, or remove it")


def adoption_report(model: HubModel, chart_pins: Mapping[str, str] | None = None) -> list[str]:
    """An adopted hub's report (empty for the toolkit's own hubs): what each values file carries
    over, what was mapped and how, the chart pins honoured and what the operator accepted."""
    if not model.adoption.umbrella:
        return []
    lines: list[str] = []
    for values_file in model.values_files:
        sections = sorted(key for key, value in values_file.content.items() if value not in (None, {}))
        if sections:
            lines.append(f"{values_file.path}: {', '.join(sections)} carried over")
        else:
            lines.append(f"{values_file.path}: " + ("sops-encrypted, read where it is deployed" if values_file.encrypted
                                                    and not values_file.content else "nothing to carry over"))
        lines.extend(values_file.notes)
    lines.extend(f"{variable}: {pin} honoured" for variable, pin in sorted((chart_pins or {}).items()))
    return lines
