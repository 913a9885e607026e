"""Vars plugin ``hub_inventory_yaml``: host_vars and group_vars files that are not valid YAML
stop the run naming the file, the hub (or the group and its hubs), the line and the column."""

from __future__ import annotations

DOCUMENTATION = r"""
name: hub_inventory_yaml
short_description: Refuse host_vars and group_vars files that are not valid YAML, naming the file and the hub
description:
  - Checks every C(host_vars/) and C(group_vars/) file of an inventory source's directory that
    C(ansible.builtin.host_group_vars) reads, once per file and run, before that plugin loads it
    (it is listed before C(host_group_vars) in C(vars_plugins_enabled)). Loads no variable itself.
  - A file that is not valid YAML (an undefined alias, a tab in the indentation, an unclosed
    bracket or quote) or that repeats a key of one mapping fails the run with the hub (host
    variables) or the group and its hubs (group variables), the file, the line and the column.
    C(host_group_vars) alone says only "YAML parsing failed" and names neither, and keeps the last
    of two equal keys with a warning.
  - The message holds what the parser found and where, never a line of the file (host variables
    may hold secret values); Ansible's own tags (C(!vault), C(!unsafe)) are accepted.
options:
  stage:
    ini:
      - key: stage
        section: vars_hub_inventory_yaml
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
extends_documentation_fragment:
  - ansible.builtin.vars_plugin_staging
"""

import os
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.inventory.host import Host
from ansible.plugins.vars import BaseVarsPlugin
from ansible.utils.path import basedir
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import check_file

# How many hubs a group's message lists before "and N more".
HUBS_LISTED = 5
# file -> its problem ('' when fine), and (directory, entity) -> its files: each file is
# checked once per run, as host_group_vars reads each once.
_PROBLEMS: dict[str, str] = {}
_FILES: dict[tuple[str, str], list[str]] = {}


def entity_label(entity: Any) -> str:  # noqa: ANN401 - an inventory Host or Group
    """``hub 'x'`` for a host; ``group 'g' (hubs 'a', 'b' and 3 more)`` for a group."""
    if isinstance(entity, Host):
        return f"hub {entity.name!r}"
    if entity.name == "all":
        return "group 'all' (every hub)"
    hubs = sorted(host.name for host in entity.get_hosts())
    listed = ", ".join(repr(name) for name in hubs[:HUBS_LISTED])
    more = f" and {len(hubs) - HUBS_LISTED} more" if len(hubs) > HUBS_LISTED else ""
    return f"group {entity.name!r} (hubs {listed}{more})" if hubs else f"group {entity.name!r} (no hubs)"


def problem_message(entity: Any, file: str, problem: str) -> str:  # noqa: ANN401 - an inventory Host or Group
    kind = "host_vars" if isinstance(entity, Host) else "group_vars"
    return (f"{entity_label(entity)}: {kind} file {file} is not valid YAML: {problem}; "
            "expected a YAML mapping of variables, each key once (the file's content is not shown)")


class VarsModule(BaseVarsPlugin):
    is_stateless = True

    def get_vars(self, loader: Any, path: str, entities: Any, cache: bool = True) -> dict[str, Any]:  # noqa: ANN401
        del cache  # checked once per file and run either way
        base = os.path.realpath(basedir(path))
        for entity in entities if isinstance(entities, list) else [entities]:
            name = getattr(entity, "name", "")
            if not name or name.startswith(os.path.sep):
                continue
            directory = Path(base) / ("host_vars" if isinstance(entity, Host) else "group_vars")
            key = (str(directory), name)
            if key not in _FILES:
                _FILES[key] = loader.find_vars_files(str(directory), name) if directory.is_dir() else []
            for file in _FILES[key]:
                file = str(file)
                if file not in _PROBLEMS:
                    _PROBLEMS[file] = check_file(file)
                if _PROBLEMS[file]:
                    raise AnsibleParserError(problem_message(entity, file, _PROBLEMS[file]))
        return {}
