"""``singleuser.profileList``: the hub model's profiles in KubeSpawner's ``profile_list`` format.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import (
    Choice,
    Profile,
    ProfileOption,
    UnlistedChoice,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.profiles import IMAGE_OPTION_KEY


def choice_values(choice: Choice) -> dict[str, Any]:
    rendered: dict[str, Any] = {"display_name": choice.display_name}
    if choice.description:
        rendered["description"] = choice.description
    if choice.default:
        rendered["default"] = True
    rendered["kubespawner_override"] = copy.deepcopy(choice.kubespawner_override)
    return rendered


def unlisted_choice_values(unlisted: UnlistedChoice) -> dict[str, Any]:
    rendered: dict[str, Any] = {"enabled": unlisted.enabled}
    for key in ("display_name", "display_name_in_choices", "description_in_choices",
                "validation_regex", "validation_message"):
        value = getattr(unlisted, key)
        if value:
            rendered[key] = value
    rendered["kubespawner_override"] = copy.deepcopy(unlisted.kubespawner_override)
    return rendered


def option_values(option: ProfileOption) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "display_name": option.display_name,
        "choices": {choice.key: choice_values(choice) for choice in option.choices},
    }
    if option.unlisted_choice is not None:
        rendered["unlisted_choice"] = unlisted_choice_values(option.unlisted_choice)
    if option.key == IMAGE_OPTION_KEY and option.dynamic_image_building:
        rendered["dynamic_image_building"] = {"enabled": True}
    return rendered


def profile_values(profile: Profile) -> dict[str, Any]:
    """One entry of ``singleuser.profileList`` in KubeSpawner's ``profile_list`` format."""
    rendered: dict[str, Any] = {"display_name": profile.display_name, "slug": profile.slug}
    if profile.description:
        rendered["description"] = profile.description
    if profile.default:
        rendered["default"] = True
    if profile.kubespawner_override:
        rendered["kubespawner_override"] = copy.deepcopy(profile.kubespawner_override)
    if profile.options:
        rendered["profile_options"] = {option.key: option_values(option) for option in profile.options}
    return rendered
