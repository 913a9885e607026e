#!/usr/bin/python
"""Documentation of the registry_access action plugin (plugins/action/registry_access.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_access
short_description: Take a hub's registry password, set its htpasswd entry, log in, and set registry_definition
description:
  - Runs on the controller (action plugin), after the registry role's type tasks, in the task's worker process.
  - Takes the password by the C(password_source) of O(checked) - given in the inventory
    (C(registry_password), or C(registry_quay_robot_token) for quay), kept in the hub's secret
    values file (C(registry_secrets_file), decrypted in memory with sops), got by the type's tasks
    (the registered C(_registry_robot) token or C(_registry_keys) key), or, for a managed htpasswd
    file, the kept one (a new random one of C(registry_password_length) letters and digits when
    there is none, or with C(registry_rotate)).
  - With a managed htpasswd file, sets the hub's user in it (the logic of M(imagebuilding.hubs.htpasswd_user), called
    in this process).
  - Unless C(registry_verify) is false, logs in as the build pods would (the logic of
    M(imagebuilding.hubs.registry_login), called in this process); in check mode not when the htpasswd entry would
    change first.
  - Sets the fact C(registry_definition) - the checked definition with the password.
  - The result holds the password, so the task must have C(no_log) (it fails otherwise). Failures
    are returned as RV(error), which never holds a secret, for the next task to report; use
    C(failed_when) false and a M(ansible.builtin.fail) task on RV(error).
  - The registry variables are read from the host's variables, not passed as arguments.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  checked:
    description:
      - The result of M(imagebuilding.hubs.registry_check) for the hub (C(definition), C(password_source),
        C(htpasswd_managed), C(secrets_file_exists)).
    type: dict
    required: true
  verify_only:
    description:
      - Change nothing and return no password (the role's validate entry point, before a rollout
        changes anything) - log in with the password the registry already has where something
        else manages it (given, or kept in the secret values file and not rotated), or, where the
        rollout makes or sets it (the entry of a managed htpasswd file, a quay robot, a terraform
        key), check that the registry answers over verified TLS. The task needs no C(no_log).
    type: bool
    default: false
  verified:
    description:
      - The C(verified) result of a O(verify_only) run of this hub earlier in the run - it logged in
        with the password this run uses, so the login is not repeated (unless the htpasswd entry
        changed).
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
- name: Take the registry password, set the htpasswd entry and log in as the build pods would
  registry_access:
    checked: "{{ _registry_checked }}"
  register: _registry_access
  no_log: true
  failed_when: false

- name: Stop when the registry cannot be used
  ansible.builtin.fail:
    msg: "{{ _registry_access.error }}"
  when: _registry_access.error is defined
"""

RETURN = r"""
verified:
  description: With O(verify_only) - whether it logged in (false - it only reached the registry).
  returned: with verify_only
  type: bool
error:
  description: Why the registry cannot be used (names the hub and the registry, never a secret).
  returned: on failure
  type: str
ansible_facts:
  description: C(registry_definition), the definition with the password.
  returned: success
  type: dict
"""
