"""Filter ``hub_image_building``: whether a hub builds images (``hub_model/image_building.py``), for
the playbooks, which skip the registry and BinderHub of a hub that builds none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.image_building import VARIABLE, builds_images

READ = (VARIABLE, "jupyterhub_profiles")


def hub_image_building(variables: Mapping[str, Any]) -> bool:
    """True when the hub builds images: ``hub_image_building``, else an option of its profiles with
    ``dynamic_image_building`` (a hub whose variables do not read counts as building: the hub model
    reports them)."""
    try:
        read = {name: variables.get(name) for name in READ}
    except Exception:  # a variable that does not template is the hub model's to report
        return True
    return builds_images(read)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hub_image_building": hub_image_building}
