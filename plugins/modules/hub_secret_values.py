#!/usr/bin/python
"""Documentation of the hub_secret_values action plugin (plugins/action/hub_secret_values.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_secret_values
short_description: Write or update one hub's sops-encrypted secret values file, in one task
description:
  - Runs on the controller (action plugin), in the task's worker process.
  - Decrypts the file's current content in memory (C(sops --decrypt), read from sops' stdout); a file
    not written yet counts as empty.
  - Computes the desired content like the C(hub_sealed_values) filter - the registry credentials of the
    host's C(registry_definition) fact, each token of O(tokens) kept or generated (all of them with
    O(rotate)), the host's C(secrets_extra_values) deep-merged last - and lists the keys that differ, by
    name only (C(hub_sealed_values_changed)).
  - Only when some key differs, or with O(force), encrypts the desired content with sops (plaintext on
    stdin, C(--filename-override) the file so its C(.sops.yaml) creation rule applies) and puts it in
    place of the file (a temporary file beside it, renamed; mode 0644). An unchanged file is left
    untouched to the byte.
  - The registry definition and the extra values are read from the host's variables, never passed
    as arguments; no secret value is in the task's arguments or its result. In check mode nothing is
    written and the result says whether the file would change.
  - Sets the fact C(secrets_values_file), the file's absolute path, for the hub roles.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_sops
  - ansible.builtin.action_common_attributes
options:
  path:
    description: The hub's secret values file (C(enc-<hub>.secret.values.yaml)).
    type: path
    required: true
  hub:
    description: The hub's name, for messages.
    type: str
  tokens:
    description: Generated tokens, as in C(secrets_generated_tokens) (a key path, or C(path) and C(length)).
    type: list
    elements: raw
    default: []
  image_building:
    description:
      - False for a hub that builds no images - the binder service's token
        (C(jupyterhub.hub.services.binder.apiToken)) of O(tokens) is then not generated.
    type: bool
    default: true
  rotate:
    description: Generate every token of O(tokens) again.
    type: bool
    default: false
  force:
    description: Re-encrypt even when no key changes (e.g. after the recipients in C(.sops.yaml) changed).
    type: bool
    default: false
  config_path:
    description: The sops configuration file; C(.sops.yaml) searched upwards from the file's directory when omitted.
    type: path
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
- name: Write the hub's secret values file
  hub_secret_values:
    path: "{{ inventory_dir }}/secrets/enc-research.secret.values.yaml"
    hub: research
    tokens:
      - path: jupyterhub.hub.services.binder.apiToken
        length: 64
"""

RETURN = r"""
changed_keys:
  description: The dotted names of the keys that were (or, in check mode, would be) added, changed or removed.
  returned: success
  type: list
  elements: str
msg:
  description: What was done to the file, naming keys only.
  returned: always
  type: str
"""
