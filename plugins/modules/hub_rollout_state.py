#!/usr/bin/python
"""Documentation of the hub_rollout_state action plugin (plugins/action/hub_rollout_state.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_rollout_state
short_description: Skip a hub unchanged since its last rollout; record a hub's rollout state
description:
  - Runs on the controller (action plugin). A hub's rollout state is a digest of all its
    inputs (its C(hub_*), C(cluster_*), C(registry_*), C(secrets_*), C(jupyterhub_*) and
    C(binderhub_service_*) variables, its own files, its line of the registry's htpasswd
    file and the toolkit's code) and the revisions of its releases, kept in the Secret
    C(imagebuilding-hubs-rollout-state) of the hub's namespace.
  - O(state=compared) sets the fact C(hub_rollout_unchanged) to true when the inputs digest
    and the deployed revisions are the recorded ones, no release is pending and every
    Deployment and DaemonSet has rolled out; then the fact C(hub_rollout_releases) holds
    the report's rows. It runs the sops leak guard over the hub's guard paths first and fails
    naming any secret-named file without sops metadata. Check mode, C(hub_force),
    C(registry_rotate), C(secrets_rotate_tokens) and C(secrets_force_reencrypt) never skip.
  - O(state=recorded) writes the record after a complete rollout, from the inputs and the
    fact C(hub_rollout_releases) of this run, when there is none or it says something else
    (then C(changed)). Check mode records nothing and reports whether a real run would.
version_added: "0.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
  - ansible.builtin.action_common_attributes
options:
  state:
    description:
      - Compare with the record, or write it.
      - C(inputs) only lists the files the hub's rollout depends on (C(files) - those of its
        digest, the inventory source that lists it, its C(cluster.yaml) and cluster credentials
        file of a fleet, the sops configuration of its secrets) and the chart directories and
        inventory variable files and directories of the hub and its groups (C(directories)), for
        C(playbooks/affected.yml).
    type: str
    choices: [compared, recorded, inputs]
    required: true
  namespace:
    description: The hub's namespace.
    type: str
    required: true
  hub:
    description: The hub's name, for messages and the report.
    type: str
  cluster:
    description: The hub's cluster, for the report.
    type: str
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
- name: Compare the hub with the state its last rollout recorded
  imagebuilding.hubs.hub_rollout_state:
    state: compared
    namespace: research
"""

RETURN = r"""
unchanged:
  description: Whether the hub is skipped (state=compared).
  returned: when compared
  type: bool
reason:
  description: Why the hub is rolled out ('' when skipped).
  returned: when compared
  type: str
files:
  description: The files the hub's rollout depends on (absolute paths).
  returned: when state=inputs
  type: list
  elements: str
directories:
  description: The chart directories the hub deploys from and its inventory variable files and directories.
  returned: when state=inputs
  type: list
  elements: str
"""
