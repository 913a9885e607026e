"""Filter ``hub_affected`` (``plugin_utils/hub_affected.py``): the hubs a change affects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_affected import affected_hubs


def hub_affected(inputs: Mapping[str, Mapping[str, Iterable[str]]], changed: Iterable[str] | str,
                 root: str) -> dict[str, list[str]]:
    paths = changed.split() if isinstance(changed, str) else list(changed)
    return affected_hubs(inputs, paths, root)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"hub_affected": hub_affected}
