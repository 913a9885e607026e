"""Nested values (helm values, the secret values file's content): helm's deep merge, dotted
key paths and plain copies, written once for the hub's values and its secret values.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class KeyPathError(ValueError):
    """A dotted key path with an empty component; the message shows the path, never a value."""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values: dicts merge key by key, everything else is replaced. Returns a new
    dict; neither argument changes."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _split(path: str) -> list[str]:
    parts = path.split(".")
    if not all(parts):
        raise KeyPathError(f"invalid key path {path!r}: empty component")
    return parts


def get_path(data: Mapping[str, object], path: str) -> object:
    """Value at dotted ``path`` (components contain no dots) in ``data``, or None when any
    component is missing."""
    node: object = data
    for key in _split(path):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def set_path(data: dict[str, object], path: str, value: object) -> None:
    """Set dotted ``path`` in ``data`` in place, creating (or replacing non-mapping) parents."""
    parts = _split(path)
    node = data
    for key in parts[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[parts[-1]] = value


def leaf_paths(data: object, prefix: str = "") -> dict[str, object]:
    """Every leaf of ``data`` by dotted key path (an empty mapping below the top is a leaf)."""
    if not isinstance(data, Mapping) or (prefix and not data):
        return {prefix: data} if prefix else {}
    leaves: dict[str, object] = {}
    for key, value in data.items():
        leaves.update(leaf_paths(value, f"{prefix}.{key}" if prefix else str(key)))
    return leaves


def plain(value: object) -> object:
    """``value`` with plain dicts, lists, str, int, float, bool and None only.

    Ansible hands plugins its own (tagged) subclasses of these, which YAML dumpers refuse.
    """
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return str(value)
