#!/usr/bin/python
"""Ansible module terraform_container_repos: a name in a terraform list variable file."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: terraform_container_repos
short_description: Make sure a repository name is in the container_repos list of a terraform variables file
description:
  - Edits a C(.tfvars) (HCL) file so that its top-level list attribute O(variable) (default
    C(container_repos)) contains O(name). The cluster's terraform creates one Artifact Registry
    repository C(<name>-registry) and one service-account key per entry.
  - The edit inserts only the new entry, after the last one and in the list's own style
    (one entry per line with the same indentation and trailing commas, or inline). Comments,
    blank lines, the order of existing entries and everything else in the file are kept
    byte for byte. A name already in the list leaves the file untouched.
  - When the attribute is missing and O(create=true), C(container_repos = ["<name>"]) is added at
    the end of the file.
  - The result is parsed with python-hcl2 before it is written; the module fails instead of
    writing if the list afterwards is not the list before plus O(name) or if any other
    top-level value changed.
  - Never removes entries, removing one would make terraform delete that registry and its images.
  - Supports check mode and diff mode.
version_added: "1.0.0"
author: imagebuilding-hubs
requirements:
  - python-hcl2 (for the verification)
options:
  path:
    description: The terraform variables file (for example C(terraform/gcp/projects/<cluster>.tfvars)).
    type: path
    required: true
  name:
    description: Repository name to have in the list (the hub name unless overridden).
    type: str
    required: true
  variable:
    description: Name of the top-level list attribute.
    type: str
    default: container_repos
  create:
    description: Add the attribute at the end of the file when it is missing.
    type: bool
    default: true
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Add the hub's Artifact Registry repository to the cluster's terraform variables
  terraform_container_repos:
    path: "{{ inventory_dir }}/terraform/mycluster.tfvars"
    name: research
"""

RETURN = r"""
edit:
  description: What happened to the file.
  type: str
  returned: success
  choices: [unchanged, appended, created]
repos:
  description: The list after the edit, as terraform reads it.
  type: list
  elements: str
  returned: success
backup_file:
  description: Path of the backup copy.
  type: str
  returned: changed and backup
"""

import os
import tempfile
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.imagebuilding.hubs.plugins.module_utils.hcl_list_edit import HclEditError, ensure_in_list

try:
    import hcl2
except ImportError:  # pragma: no cover - reported by the module
    hcl2 = None


def parse(text: str, what: str) -> dict[str, Any]:
    """Top-level values of an HCL document, strings unquoted and comments dropped."""
    options = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True)
    try:
        return hcl2.loads(text, serialization_options=options)
    except Exception as exc:  # python-hcl2 raises lark errors of many kinds
        raise HclEditError(f"{what} is not valid HCL: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def verify(before: str, after: str, variable: str, name: str) -> list[str]:
    """Parse both texts and check that only the list gained ``name``; return the new list."""
    old, new = parse(before, "the file"), parse(after, "the edited file")
    old_list = old.get(variable, [])
    new_list = new.get(variable)
    if not isinstance(old_list, list):
        raise HclEditError(f"'{variable}' is not a list")
    if new_list != [*old_list, name]:
        raise HclEditError(f"refusing to write: the edit would make '{variable}' {new_list!r} instead of {[*old_list, name]!r}")
    others_old = {key: value for key, value in old.items() if key != variable}
    others_new = {key: value for key, value in new.items() if key != variable}
    if others_old != others_new:
        raise HclEditError("refusing to write: the edit would change other values of the file")
    return new_list


def write_atomically(path: str, text: str) -> None:
    target = Path(path).absolute()
    fd, name = tempfile.mkstemp(prefix=".tfvars-", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        tmp.chmod(target.stat().st_mode & 0o7777 if target.exists() else 0o644)
        tmp.replace(target)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "name": {"type": "str", "required": True},
            "variable": {"type": "str", "default": "container_repos"},
            "create": {"type": "bool", "default": True},
            "backup": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    if hcl2 is None:
        module.fail_json(msg=missing_required_lib("python-hcl2"))
    path, name, variable = module.params["path"], module.params["name"], module.params["variable"]
    if not Path(path).is_file():
        module.fail_json(msg=f"terraform variables file {path} does not exist")
    with open(path, encoding="utf-8", newline="") as handle:
        before = handle.read()
    try:
        after, action = ensure_in_list(before, variable, name, create=module.params["create"])
        repos = verify(before, after, variable, name) if action != "unchanged" else parse(before, "the file").get(variable, [])
    except HclEditError as exc:
        module.fail_json(msg=f"cannot add '{name}' to {variable} in {path}: {exc}")
    result: dict[str, Any] = {"changed": action != "unchanged", "edit": action, "repos": repos}
    if module._diff and result["changed"]:
        result["diff"] = {"before_header": path, "after_header": path, "before": before, "after": after}
    if result["changed"] and not module.check_mode:
        if module.params["backup"]:
            result["backup_file"] = module.backup_local(path)
        write_atomically(path, after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
