#!/usr/bin/python
"""Documentation of the hub_preflight action plugin (plugins/action/hub_preflight.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_preflight
short_description: Check a hub's charts and the final values of its releases before a rollout changes anything
description:
  - Runs on the controller (action plugin), in the validate play of C(playbooks/hub.yml).
  - Builds the hub model from the hub's variables (the checks and messages of M(imagebuilding.hubs.hub_model)).
  - Resolves each release's chart - an upstream chart (chart repository or C(oci://)) at its
    pinned version is pulled once into the chart cache (C($IBH_CACHE/charts), else
    C(~/.cache/imagebuilding-hubs/charts)); a version that does not exist or a repository that
    does not answer fails naming the C(*_chart_version) variable. A chart directory's version
    is checked against the pin by the model.
  - Decrypts the hub's sops-encrypted C(hub_values_files) and its secret values file (when it
    exists) in memory, with C(secrets_extra_values) on top, and checks the final values of every
    release - who may log in (open access without C(jupyterhub_open_access_opt_in), a test
    authenticator where C(cluster_local) is not true without C(jupyterhub_test_authenticator_opt_in),
    shared passwords JupyterHub would refuse), BinderHub's C(auth_enabled),
    C(enable_api_only_mode) and C(use_registry), the image prefix and the build pods'
    credentials against the hub's registry, Kubernetes quantities, node pool selectors, the
    image pull secret, and every key and type against the chart's C(values.schema.json).
    Each problem names the hub, the file that set the value and the key path, never a value.
  - Fails when the secret values file lacks a secret a person must add (the OAuth client
    secret, a shared password); the keys the secrets role writes itself are not required yet.
  - Changes nothing; runs in check mode too.
version_added: "1.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  registry:
    description: The non-secret registry definition of the hub (C(definition) of M(imagebuilding.hubs.registry_check)).
    type: dict
    required: true
  secrets_file:
    description: The hub's sops-encrypted secret values file (may not exist yet).
    type: path
    required: true
  tokens:
    description: The secrets role's C(secrets_generated_tokens) (their keys are written by the rollout).
    type: list
    elements: dict
    default: []
  sops_binary:
    description: The sops executable.
    type: str
    default: sops
  age_keyfile:
    description: The age key file sops decrypts with (C(SOPS_AGE_KEY_FILE)).
    type: path
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
  - The rules are in C(plugins/plugin_utils/release_rules.py), the chart cache in
    C(plugins/plugin_utils/chart_cache.py).
  - C(secrets_extra_values) is read from the hub's variables, never passed as an argument.
"""

EXAMPLES = r"""
- name: Check the hub's charts and the final values of its releases
  hub_preflight:
    registry: "{{ _registry_checked.definition }}"
    secrets_file: "{{ inventory_dir }}/secrets/enc-{{ inventory_hostname }}.secret.values.yaml"
"""

RETURN = r"""
hub:
  description: The hub's name.
  returned: success
  type: str
charts:
  description: Where each release's chart is, per release key (an upstream chart's cache directory).
  returned: success
  type: dict
errors:
  description: Every problem found, one message each, naming the hub, the file and the key path.
  returned: failure
  type: list
  elements: str
"""
