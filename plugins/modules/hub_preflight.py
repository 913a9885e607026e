#!/usr/bin/python
"""Documentation of the hub_preflight action plugin (plugins/action/hub_preflight.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_preflight
short_description: Every check of one hub before its rollout changes anything
description:
  - Runs on the controller (action plugin), once per hub in the validate play of C(playbooks/hub.yml).
  - Reads the hub's variables as the roles would see them (the registry and secrets roles'
    defaults and vars under and over them) and runs the checks M(imagebuilding.hubs.hub_validate)
    runs for every hub of C(playbooks/validate.yml), with the same code - the problems of the
    hub's entry in the fleet's files (C(fleet_problems)), the hub model (the checks and messages of
    M(imagebuilding.hubs.hub_model)), the hub's values against every role's argument specs, the
    registry settings (M(imagebuilding.hubs.registry_check)), the secrets role's inputs and the
    sops leak guard, each release's chart and the final values of every release and companion
    release.
  - Each release's chart is resolved - an upstream chart (chart repository or C(oci://)) at its
    pinned version is pulled once into the chart cache (C($IBH_CACHE/charts), else
    C(~/.cache/imagebuilding-hubs/charts)); a version that does not exist or a repository that
    does not answer fails naming the C(*_chart_version) variable.
  - The hub's sops-encrypted C(hub_values_files) and its secret values file (when it exists) are
    decrypted in memory, with C(secrets_extra_values) on top, and the final values of every
    release are checked - who may log in, BinderHub's C(auth_enabled), C(enable_api_only_mode) and
    C(use_registry), the image prefix and the build pods' credentials against the hub's registry,
    Kubernetes quantities, node pool selectors, the image pull secret, and every key and type
    against the chart's C(values.schema.json). Each problem names the hub, the file that set the
    value and the key path, never a value. A secret a person must add (the OAuth client secret,
    a shared password) missing from the secret values file is a problem.
  - Then what only a rollout needs - every encrypted file decrypts here; sops has a creation rule
    and keys for the hub's secret values file (M(imagebuilding.hubs.sops_preflight)'s probe); a login
    to the registry with the password it has, or, where the rollout makes or sets the password, a
    TLS-verified answer of the registry.
  - Every problem of the hub is in one failure. Changes nothing; runs in check mode too.
version_added: "1.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  problems:
    description:
      - Problems of the hub another task found, reported with the hub's own (C(playbooks/hub.yml)
        passes the comparison's - a name another selected hub uses, a cluster connection that cannot be used).
    type: list
    elements: str
    default: []
  helm:
    description: The helm executable that pulls upstream charts.
    type: str
    default: helm
attributes:
  check_mode:
    support: full
  action:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - The checks are in C(plugins/plugin_utils/hub_validation.py), the hub's inputs are read by
    C(plugins/plugin_utils/hub_inputs.py), the rules in C(plugins/plugin_utils/release_rules.py).
  - No secret is an argument; C(secrets_extra_values) and the registry's password are read from the
    hub's variables and files and never returned.
"""

EXAMPLES = r"""
- name: Check the hub - its entry, variables, registry, secrets, charts and final values
  imagebuilding.hubs.hub_preflight:
  register: _hub_preflight

- name: Set up the hub's registry with what the check found
  ansible.builtin.import_role:
    name: imagebuilding.hubs.registry
    rolespec_validate: false
  vars:
    registry_checked: "{{ _hub_preflight.registry }}"
    registry_verified: "{{ _hub_preflight.registry_verified }}"
"""

RETURN = r"""
hub:
  description: The hub's name.
  returned: always
  type: str
image_building:
  description: Whether the hub builds images (then it has a registry and a BinderHub).
  returned: success
  type: bool
registry:
  description:
    - What the check of the registry settings found (M(imagebuilding.hubs.registry_check)'s result,
      no password), the registry role's C(registry_checked); empty for a hub that builds no images.
  returned: success
  type: dict
registry_verified:
  description: The check logged in to the registry with the password it has (the registry role's C(registry_verified)).
  returned: success
  type: bool
adoption:
  description: The adoption report of a hub whose values were written for an umbrella chart (empty otherwise).
  returned: success
  type: list
  elements: str
msg:
  description:
    - On failure, every problem found, a line each, naming the hub and, where there is one, the
      variable and the file.
  returned: failure
  type: str
"""
