"""Whether a hub builds images: ``hub_image_building`` (``auto``, ``enabled``, ``disabled``) and
the hub's profiles - the one place this rule is written.

``auto`` (the default): the hub builds images when an option of its profiles has
``dynamic_image_building`` (fancy-profiles' "build from a repository"); most hubs of a real
fleet do not. A hub that builds no images has no registry, no BinderHub release and no build
wiring (the hub's ``binder`` service, its scope and token, the image pull secret of built
images). ``enabled`` keeps BinderHub without such an option (its build API only);
``disabled`` says so explicitly and refuses an option that builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Profile
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.profiles import read_profiles
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import Errors, read_one_of
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import value_of

VARIABLE = "hub_image_building"
SETTINGS = ("auto", "enabled", "disabled")


def building_options(profiles: list[Profile]) -> list[str]:
    """Paths (``jupyterhub_profiles[i].options.<key>``) of the options that build images."""
    return [f"jupyterhub_profiles[{index}].options.{option.key}.dynamic_image_building"
            for index, profile in enumerate(profiles) for option in profile.options if option.dynamic_image_building]


def read_image_building(errs: Errors, setting: object, profiles: list[Profile]) -> bool:
    """True when the hub builds images (it needs a registry and a BinderHub release)."""
    chosen = read_one_of(errs, VARIABLE, setting, SETTINGS) or "auto"
    building = building_options(profiles)
    if chosen == "disabled" and building:
        errs.add(VARIABLE, f"is disabled, but {', '.join(building)} is enabled",
                 "no option with dynamic_image_building on a hub that builds no images (or hub_image_building: auto)")
    return chosen == "enabled" or (chosen == "auto" and bool(building))


def builds_images(variables: Mapping[str, Any]) -> bool:
    """``read_image_building`` on a hub's raw variables, for the playbooks (problems are left to
    the hub model, which reports them: a hub whose variables do not read counts as building)."""
    errs = Errors(hub="")
    profiles = read_profiles(errs, value_of(variables, "jupyterhub_profiles"))
    building = read_image_building(errs, value_of(variables, VARIABLE), profiles)
    return building or bool(errs.messages)
