"""Small typed readers of the hub's variables: each returns a usable value and records an
error naming the hub, the variable path and what is expected when it cannot (``Errors``), so
one build of the model reports every problem of a hub at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class HubModelError(Exception):
    """The hub's inputs are invalid; ``errors`` lists every problem found."""

    def __init__(self, hub: str, errors: list[str]) -> None:
        self.hub = hub
        self.errors = list(errors)
        super().__init__(f"hub {hub!r} has {len(errors)} invalid input(s):\n- " + "\n- ".join(errors))


@dataclass
class Errors:
    """Collects the errors of one hub; every message names the hub and the variable."""

    hub: str
    messages: list[str] = field(default_factory=list)

    def add(self, path: str, problem: str, expected: str) -> None:
        self.messages.append(f"hub {self.hub!r}: {path}: {problem}; expected {expected}")



_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
    (dict, "mapping"), (list, "list"), (tuple, "list"),
)


def type_name(value: object) -> str:
    """A YAML-level name of the value's type (Ansible hands over tagged subclasses of str/dict/list)."""
    if value is None:
        return "null"
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__)


def read_str(errs: Errors, path: str, value: object, *, required: bool = False, default: str = "") -> str:
    if value is None or value == "":
        if required:
            errs.add(path, "is missing or empty", "a non-empty string")
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errs.add(path, f"is a {type_name(value)}", "a string")
        return default
    return str(value)


def read_one_of(errs: Errors, path: str, value: object, choices: tuple[str, ...], *, required: bool = True,
                 default: str = "") -> str:
    text = read_str(errs, path, value, required=required, default=default)
    if text and text not in choices:
        errs.add(path, f"{text!r} is not supported", "one of " + ", ".join(choices) + did_you_mean(text, choices))
        return default
    return text


def read_bool(errs: Errors, path: str, value: object, *, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        errs.add(path, f"{value!r} is a {type_name(value)}, not a boolean", "true or false")
        return default
    return value


def read_mapping(errs: Errors, path: str, value: object, *, required: bool = False) -> dict[str, Any]:
    if value is None:
        if required:
            errs.add(path, "is missing", "a mapping")
        return {}
    if not isinstance(value, Mapping):
        errs.add(path, f"is a {type_name(value)}", "a mapping")
        return {}
    return dict(value)


def read_list(errs: Errors, path: str, value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        errs.add(path, f"is a {type_name(value)}", "a list")
        return []
    return list(value)


def read_str_list(errs: Errors, path: str, value: object, *, pattern: re.Pattern[str] | None = None,
                   expected: str = "a non-empty string") -> list[str]:
    items: list[str] = []
    for index, item in enumerate(read_list(errs, path, value)):
        text = read_str(errs, f"{path}[{index}]", item, required=True)
        if text and pattern is not None and not pattern.match(text):
            errs.add(f"{path}[{index}]", f"{text!r} is not valid", expected)
            continue
        if text:
            items.append(text)
    return items


def read_pattern(errs: Errors, path: str, value: object, pattern: re.Pattern[str], expected: str, *,
                  required: bool = True, default: str = "") -> str:
    text = read_str(errs, path, value, required=required, default=default)
    if text and not pattern.match(text):
        errs.add(path, f"{text!r} is not valid", expected)
        return default
    return text


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(errs: Errors, path: str, value: Mapping[str, Any], allowed: set[str], context: str = "") -> None:
    for key in value:
        if key not in allowed:
            where = f" {context}" if context else ""
            errs.add(f"{path}.{key}", f"unknown key{where}",
                     "one of " + ", ".join(sorted(allowed)) + did_you_mean(str(key), allowed))
