#!/usr/bin/python
"""Ansible module terraform_registry_keys: one repository's registry key from terraform outputs."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: terraform_registry_keys
short_description: Read one repository's service-account key from the terraform output registry_sa_keys
description:
  - The cluster's terraform exposes the Artifact Registry push keys as the sensitive output
    O(output) (default C(registry_sa_keys)), a map from C(container_repos) entry to the
    service-account key JSON. This module returns the key of O(name).
  - Reads either a local state file in terraform's state format (version 4, value under
    C(outputs.<output>.value)) given as O(state_file), or runs C(terraform output -json <output>)
    in O(project_path) (remote backends work this way).
  - A key may be the JSON document itself, a JSON object, or base64 of the JSON document;
    it is returned as the JSON text, the password of the C(_json_key) registry user.
  - Read only; runs in check mode too. Run it with C(no_log).
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  name:
    description: The C(container_repos) entry whose key is wanted.
    type: str
    required: true
  output:
    description: Name of the terraform output.
    type: str
    default: registry_sa_keys
  state_file:
    description: Local terraform state file (C(terraform.tfstate)) to read the output from.
    type: path
  project_path:
    description: Terraform working directory to run C(terraform output) in.
    type: path
  binary:
    description: Terraform executable used with O(project_path).
    type: str
    default: terraform
  missing_ok:
    description:
      - Return RV(found=false) instead of failing when the output or the name is missing
        (for example in check mode before C(terraform apply) created the key).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Read the hub's Artifact Registry key from the terraform state
  terraform_registry_keys:
    state_file: "{{ inventory_dir }}/terraform/terraform.tfstate"
    name: research
  register: keys
  no_log: true
"""

RETURN = r"""
key:
  description: The service-account key JSON (the registry password).
  type: str
  returned: found
found:
  description: Whether the key of O(name) exists.
  type: bool
  returned: always
names:
  description: Names that have a key in the output.
  type: list
  elements: str
  returned: always
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.terraform_registry_keys import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
