"""Nested values (helm values, the secret values file's content): helm's deep merge, dotted
key paths and plain copies, written once for the hub's values and its secret values.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class KeyPathError(ValueError):
    """A dotted key path with an empty component; the message shows the path, never a value."""


# Values that are never changed in place: shared by a copy instead of copied.
_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def copy_values(value: object) -> Any:  # noqa: ANN401 - a copy of whatever it is given
    """A deep copy of nested values: dicts and lists copied level by level, immutable scalars
    shared, anything else by ``copy.deepcopy`` (values are mostly dicts, lists and strings, for
    which this is several times faster)."""
    if isinstance(value, dict):
        return {key: copy_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_values(item) for item in value]
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values: dicts merge key by key, everything else is replaced. Returns a new
    dict; neither argument changes."""
    merged = copy_values(dict(base))  # copied once: the merge below works on the copy
    merge_into(merged, override)
    return merged


def merge_into(target: dict[str, Any], override: Mapping[str, Any]) -> None:
    """``deep_merge`` of ``override`` into ``target`` itself (``override`` does not change)."""
    for key, value in override.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            if not isinstance(current, dict):
                current = target[key] = dict(current)
            merge_into(current, value)
        else:
            target[key] = copy_values(value)


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
