#!/usr/bin/python
"""Ansible module htpasswd_user: one bcrypt entry of an htpasswd file."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: htpasswd_user
short_description: Manage one user's bcrypt entry in an htpasswd file
description:
  - Adds, updates or removes the C(user:hash) line of one user in an htpasswd file such as the
    one an OCI distribution registry authenticates against (C(auth.htpasswd.path)).
  - Idempotent, an existing bcrypt hash that already matches O(password) is kept as it is.
    A hash in another format, or one that does not match, is replaced by a new bcrypt hash.
  - Other lines keep their content and order. The file is replaced atomically (a new file
    renamed over the old one), so its modification time changes and the distribution
    registry re-reads it.
  - Read, change and write happen under an exclusive lock (C(flock) on C(.<file name>.lock) in
    the same directory), so hubs that run in parallel and share one htpasswd file lose no
    update.
  - Uses the C(bcrypt) Python package. Supports check mode and diff mode (the diff lists user
    names, never hashes).
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
requirements:
  - bcrypt
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description: The htpasswd file.
    type: path
    required: true
  username:
    description: User name (no C(:)).
    type: str
    required: true
  password:
    description: Password of O(username), at most 72 bytes (bcrypt's limit). Required when O(state=present).
    type: str
  state:
    description: Whether the user's entry should exist.
    type: str
    choices: [present, absent]
    default: present
  create:
    description: Create the file when it does not exist.
    type: bool
    default: true
  mode:
    description: Permissions of a newly created file, an octal number or string such as C(0600).
    type: raw
    default: "0600"
  cost:
    description:
      - bcrypt cost factor of new hashes.
      - The default, 5, is that of C(htpasswd -B). The registry checks the hash on every request (a
        build pod's push makes many), about 70 ms of CPU each at cost 10 and 2 ms at 5 (measured);
        the passwords the registry role generates are random (32 letters and digits, about 190
        bits), which a higher cost does not make harder to guess. Raise it for passwords people choose.
    type: int
    default: 5
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
- name: Give the hub's build pods a registry user
  htpasswd_user:
    path: /srv/registry/htpasswd
    username: research
    password: "{{ generated_password }}"
  no_log: true

- name: Remove a hub's registry user
  htpasswd_user:
    path: /srv/registry/htpasswd
    username: research
    state: absent
"""

RETURN = r"""
entry:
  description: What happened to the user's entry.
  type: str
  returned: always
  sample: added
  choices: [added, updated, removed, unchanged]
users:
  description: User names in the file afterwards, in file order.
  type: list
  elements: str
  returned: always
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.htpasswd_user import LOGIC
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
