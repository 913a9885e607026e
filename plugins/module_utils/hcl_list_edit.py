"""Append a string to a top-level list attribute of an HCL file, editing the text in place.

Only the bytes needed are inserted: comments, blank lines, the order of the entries and
the formatting of everything else stay as they were. The scanner knows enough HCL to
find a top-level ``name = [ ... ]`` attribute safely: quoted strings with escapes and
``${...}`` templates, ``#``, ``//`` and ``/* */`` comments, heredocs, and nesting of
``{}``, ``[]`` and ``()`` (so a ``container_repos`` inside a block is not touched).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC_RE = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\r?\n")


class HclEditError(Exception):
    """The file cannot be edited safely; the message says why."""


@dataclass
class ListElement:
    start: int
    end: int
    value: str | None  # None for anything that is not a plain string literal


@dataclass
class ListAttribute:
    name_start: int
    open_bracket: int
    close_bracket: int
    elements: list[ListElement]


def _skip_line_comment(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _skip_block_comment(text: str, i: int) -> int:
    end = text.find("*/", i + 2)
    if end < 0:
        raise HclEditError("unterminated /* comment")
    return end + 2


def _skip_heredoc(text: str, i: int) -> int:
    match = _HEREDOC_RE.match(text, i)
    if not match:
        return i + 2
    marker = match.group(1)
    pos = match.end()
    while pos < len(text):
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end < 0 else line_end
        if text[pos:line_end].strip() == marker:
            return line_end
        pos = line_end + 1
    raise HclEditError(f"unterminated heredoc <<{marker}")


def scan_string(text: str, i: int) -> int:
    """Index just after the quoted string starting at text[i] == '"'."""
    pos = i + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            return pos + 1
        if char == "\n":
            raise HclEditError(f"newline inside a quoted string at offset {i}")
        if text.startswith(("${", "%{"), pos):
            pos = _scan_template(text, pos + 2)
            continue
        pos += 1
    raise HclEditError(f"unterminated string at offset {i}")


def _scan_template(text: str, pos: int) -> int:
    """Index just after the '}' closing a template interpolation that starts at pos."""
    depth = 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            pos = scan_string(text, pos)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    raise HclEditError("unterminated ${ template")


def skip_trivia(text: str, i: int) -> int:
    """Skip whitespace, newlines and comments."""
    while i < len(text):
        if text[i] in " \t\r\n":
            i += 1
        elif text[i] == "#" or text.startswith("//", i):
            i = _skip_line_comment(text, i)
        elif text.startswith("/*", i):
            i = _skip_block_comment(text, i)
        else:
            break
    return i


def _at_line_start(text: str, i: int) -> bool:
    line_start = text.rfind("\n", 0, i) + 1
    return text[line_start:i].strip() == ""


def find_top_level_attributes(text: str, name: str) -> list[int]:
    """Offsets of every top-level ``name =`` attribute."""
    found: list[int] = []
    depth, i = 0, 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = scan_string(text, i)
            continue
        if char == "#" or text.startswith("//", i):
            i = _skip_line_comment(text, i)
            continue
        if text.startswith("/*", i):
            i = _skip_block_comment(text, i)
            continue
        if text.startswith("<<", i):
            i = _skip_heredoc(text, i)
            continue
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth < 0:
                raise HclEditError(f"unbalanced '{char}' at offset {i}")
        elif depth == 0 and _at_line_start(text, i):
            match = _IDENT_RE.match(text, i)
            if match:
                after = skip_trivia(text, match.end())
                if match.group(0) == name and text.startswith("=", after) and not text.startswith("==", after):
                    found.append(i)
                i = match.end()
                continue
        i += 1
    if depth != 0:
        raise HclEditError("unbalanced brackets: the file does not look like valid HCL")
    return found


def _string_value(literal: str) -> str | None:
    if "${" in literal or "%{" in literal:
        return None
    try:
        value = json.loads(literal)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def parse_list_attribute(text: str, name_start: int, name: str) -> ListAttribute:
    eq = skip_trivia(text, name_start + len(name))
    open_bracket = skip_trivia(text, eq + 1)
    if not text.startswith("[", open_bracket):
        raise HclEditError(f"'{name}' is not a literal list (expected '[' after '=')")
    elements: list[ListElement] = []
    i = open_bracket + 1
    while True:
        i = skip_trivia(text, i)
        if i >= len(text):
            raise HclEditError(f"unterminated list '{name}'")
        if text[i] == "]":
            return ListAttribute(name_start, open_bracket, i, elements)
        if text[i] != '"':
            raise HclEditError(f"'{name}' contains an element that is not a quoted string at offset {i}; edit it by hand")
        end = scan_string(text, i)
        elements.append(ListElement(i, end, _string_value(text[i:end])))
        i = skip_trivia(text, end)
        if i < len(text) and text[i] == ",":
            i += 1
        elif i < len(text) and text[i] != "]":
            raise HclEditError(f"expected ',' or ']' after an element of '{name}' at offset {i}")


def _line_start(text: str, i: int) -> int:
    return text.rfind("\n", 0, i) + 1


def _indent_of_line(text: str, i: int) -> str:
    start = _line_start(text, i)
    return re.match(r"[ \t]*", text[start:]).group(0)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _insert(text: str, at: int, fragment: str) -> str:
    return text[:at] + fragment + text[at:]


def append_to_list(text: str, attribute: ListAttribute, value: str) -> str:
    """Text with ``value`` appended to the list, in the list's own style."""
    literal = json.dumps(value)
    nl = _newline(text)
    close = attribute.close_bracket
    if not attribute.elements:
        if "\n" not in text[attribute.open_bracket:close]:
            return text[: attribute.open_bracket + 1] + literal + text[close:]
        indent = _indent_of_line(text, close) + "  "
        return _insert(text, _line_start(text, close), f"{indent}{literal},{nl}")
    last = attribute.elements[-1]
    # Is there a comma right after the last element (possibly after spaces)?
    probe = last.end
    while probe < len(text) and text[probe] in " \t":
        probe += 1
    has_comma = probe < len(text) and text[probe] == ","
    multiline = _line_start(text, close) > last.end
    if not multiline:
        return _insert(text, last.end, f", {literal}")
    indent = _indent_of_line(text, last.start)
    line_end = text.find("\n", last.end)
    new_line = f"{indent}{literal}{',' if has_comma else ''}{nl}"
    edited = _insert(text, line_end + 1, new_line)
    if not has_comma:
        edited = _insert(edited, last.end, ",")
    return edited


def list_values(attribute: ListAttribute) -> list[str | None]:
    return [element.value for element in attribute.elements]


def ensure_in_list(text: str, name: str, value: str, create: bool = True) -> tuple[str, str]:
    """(new text, action) where action is 'unchanged', 'appended' or 'created'."""
    offsets = find_top_level_attributes(text, name)
    if len(offsets) > 1:
        raise HclEditError(f"'{name}' is set {len(offsets)} times at the top level")
    if not offsets:
        if not create:
            raise HclEditError(f"there is no top-level '{name}' attribute")
        nl = _newline(text)
        separator = "" if not text or text.endswith(nl + nl) else (nl if text.endswith(nl) else nl + nl)
        return f"{text}{separator}{name} = [{nl}  {json.dumps(value)},{nl}]{nl}", "created"
    attribute = parse_list_attribute(text, offsets[0], name)
    if value in list_values(attribute):
        return text, "unchanged"
    return append_to_list(text, attribute, value), "appended"
