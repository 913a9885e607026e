#!/usr/bin/python
"""Ansible module: check that sops can encrypt (and decrypt) one hub's secret values file."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sops_preflight
short_description: Check that sops has a creation rule and keys for a secret values file
description:
  - Encrypts a fixed dummy document with C(sops encrypt --filename-override O(path)), so sops
    picks the creation rule that would apply to O(path) and fetches its keys (age recipients,
    cloud KMS). The output is thrown away. This fails when no C(.sops.yaml) is found, no
    creation rule matches, or a key cannot be reached.
  - When O(path) exists, decrypts it into memory and throws the result away, to prove that a
    decryption key is available. Decrypted content is never returned, logged or written.
  - sops runs with C(SOPS_DISABLE_VERSION_CHECK=1), in the directory of O(path) (or its
    nearest existing parent), so it finds C(.sops.yaml) the same way C(community.sops) does.
version_added: "0.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_sops
  - ansible.builtin.action_common_attributes
options:
  path:
    description: The secret values file (it need not exist yet).
    type: path
    required: true
  hub:
    description: Name of the hub, used in failure messages.
    type: str
  config_path:
    description: The sops configuration file; when not set, sops searches upwards for C(.sops.yaml).
    type: path
  check_decrypt:
    description: Also decrypt an existing O(path) to prove a key is available.
    type: bool
    default: true
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
- name: Check that sops can encrypt and decrypt the hub's secret values
  sops_preflight:
    path: "{{ inventory_dir }}/secrets/enc-hub1.secret.values.yaml"
    hub: hub1
"""

RETURN = r"""
config_path:
  description: The sops configuration file sops uses for O(path) (given, or found searching upwards).
  returned: always
  type: str
  sample: /srv/inventory/.sops.yaml
exists:
  description: Whether O(path) exists.
  returned: always
  type: bool
decryptable:
  description: Whether O(path) could be decrypted (false when it does not exist or was not checked).
  returned: always
  type: bool
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_preflight import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
