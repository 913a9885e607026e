#!/usr/bin/python
"""Ansible module: fail when a file named like a secret values file is not sops-encrypted."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sops_leak_guard
short_description: Stop when a secret-named file has no sops metadata
description:
  - Looks at every file under O(paths) (files, or directories searched recursively; missing
    paths are skipped) whose base name contains O(marker), case-insensitively.
  - A YAML or JSON file counts as encrypted when it has a top-level C(sops) mapping with
    C(mac) and C(lastmodified); C(.env) and C(.ini) files when they carry the same sops keys.
  - Any other such file may have leaked (a plaintext secret values file in the inventory), so
    the module fails and names the files, never their content.
  - The check only reads files; it never changes anything.
version_added: "0.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  paths:
    description: Files or directories to check.
    type: list
    elements: path
    required: true
  marker:
    description: Substring of a file name that makes it a secret values file.
    type: str
    default: secret
  hub:
    description: Name of the hub being checked, used in the failure message.
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Directories named C(.git) are not searched.
"""

EXAMPLES = r"""
- name: Check that every secret values file of the inventory is encrypted
  sops_leak_guard:
    paths:
      - "{{ inventory_dir }}/secrets"
      - "{{ inventory_dir }}/values/hub1.secret.values.yaml"
    hub: hub1
"""

RETURN = r"""
checked:
  description: The secret-named files that were looked at.
  returned: always
  type: list
  elements: str
  sample: [/srv/inventory/secrets/enc-hub1.secret.values.yaml]
leaks:
  description: The secret-named files without sops metadata.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_leak_guard import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
