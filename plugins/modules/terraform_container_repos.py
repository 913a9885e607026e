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
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
requirements:
  - python-hcl2 (for the verification)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
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
  platform:
    support: full
    platforms: posix
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

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.terraform_container_repos import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
