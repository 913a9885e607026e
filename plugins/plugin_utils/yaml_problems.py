"""YAML problems of inventory files, said without their content.

Inventory files (host_vars, group_vars, the hubs' helm values files, a fleet's cluster.yaml)
may hold secret values, so a problem is described by what the parser found and where (line and
column), never by the text around it: PyYAML's own message (``str(error)``) can quote a
snippet of the line, and Ansible's error display shows the lines around the fault.

Two loaders, both refusing duplicate mapping keys (PyYAML would keep the last value silently,
Ansible only warns by default):

- ``load_strict``: the safe loader's tags only, for helm values files and cluster.yaml;
- ``check_text`` / ``check_file``: any tag is accepted (Ansible's ``!vault``, ``!unsafe``), for
  files Ansible itself loads (host_vars and group_vars); only the problem is returned.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The safe loader, libyaml's when PyYAML has it (several times faster on a fleet's files).
SAFE_LOADER: Any = _BaseLoader
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _check_duplicate_keys(node: MappingNode) -> None:
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
            continue
        if key_node.value in seen:
            raise ConstructorError(
                None, None,
                f"found duplicate key {key_node.value!r} (first at line {seen[key_node.value] + 1})",
                key_node.start_mark)
        seen[key_node.value] = key_node.start_mark.line


class StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type] # the C or the Python safe loader
    """The safe loader, refusing duplicate mapping keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            _check_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)


class _AnyTagLoader(StrictLoader):
    """``StrictLoader`` that builds tagged nodes of unknown tags as plain ones (Ansible's own tags)."""


def _construct_any_tag(loader: _AnyTagLoader, _suffix: str, node: Node) -> object:
    if isinstance(node, MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_AnyTagLoader.add_multi_constructor("", _construct_any_tag)


def describe_yaml_error(error: BaseException) -> str:
    """What the parser found and where, e.g. ``found undefined alias at line 3, column 12``.

    Built from the error's problem, context and marks only: never ``str(error)``, which can
    quote the line.
    """
    if not isinstance(error, yaml.MarkedYAMLError):
        return f"not readable YAML ({error.__class__.__name__})"
    problem = (error.problem or error.context or "not valid YAML").strip()
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = ""
    if error.context and error.problem and error.context_mark is not None:
        context = f" ({error.context} at line {error.context_mark.line + 1})"
    return f"{problem}{where}{context}"


def _name_a_tab(error: yaml.YAMLError, text: str) -> None:
    """Say so when the problem is at a tab (the C parser's message does not show the character)."""
    mark = getattr(error, "problem_mark", None)
    if mark is None or not isinstance(error, yaml.MarkedYAMLError):
        return
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if mark.column < len(line) and line[mark.column] == "\t" and "tab" not in (error.problem or ""):
        error.problem = f"{error.problem or 'not valid YAML'} (a tab character: YAML indents with spaces)"


def load_strict(path: str) -> object:
    """The file's YAML document (safe tags only); raises ``yaml.YAMLError`` on any problem,
    a duplicate key included, and ``OSError`` when it cannot be read."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        _name_a_tab(error, text)
        raise


def check_text(text: str) -> str:
    """'' when ``text`` is valid YAML without duplicate keys (any tag allowed), else the problem."""
    try:
        for _ in yaml.load_all(text, Loader=_AnyTagLoader):
            pass
    except yaml.YAMLError as error:
        _name_a_tab(error, text)
        return describe_yaml_error(error)
    return ""


def check_file(path: str) -> str:
    """``check_text`` of the file's content ('' when fine)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    return check_text(text)
