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
  - O(state=compared) compares every hub of O(hosts) in one task (run it once, with
    C(run_once) and C(delegate_facts) to C(localhost)) and sets the fact C(hub_rollout_compared),
    host -> C({hub, namespace, cluster, unchanged, skipped, reason}). A hub is C(unchanged) when its
    inputs digest and its deployed revisions are the recorded ones, no release is pending and every
    Deployment and DaemonSet has rolled out; then its C(releases) are the report's rows. C(skipped)
    is C(unchanged), or of another batch (C(hub_upgrade_batch)) than the run upgrades
    (C(hub_upgrade_run_batch)). A hub whose C(hub_name) or namespace another of O(hosts) uses has
    C(problems) naming both. Check mode, C(hub_force), C(registry_rotate), C(secrets_rotate_tokens),
    C(secrets_force_reencrypt), the smoke check (C(hub_smoke)), a secret-named file without sops
    metadata under the hub's leak guard paths, a problem of its fleet entry (C(fleet_problems)) and
    a cluster that cannot be read never count as unchanged.
  - Each hub of O(hosts) is read with its own variables (C(hostvars)), its namespace is
    C(hub_namespace) (default C(hub_name), else the host's name), and its cluster is reached with
    its C(cluster_kubeconfig) and C(cluster_kube_context); the other connection options apply to every hub.
    A hub whose connection cannot be used has C(problems), the messages naming it, for the playbook to stop it.
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
  hosts:
    description:
      - O(state=compared) - the hubs to compare (inventory host names); the task's host when omitted.
    type: list
    elements: str
  namespace:
    description: The hub's namespace (O(state=recorded)).
    type: str
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
- name: Compare every selected hub with the state its last rollout recorded
  imagebuilding.hubs.hub_rollout_state:
    state: compared
    hosts: "{{ ansible_play_hosts }}"
  run_once: true
  delegate_to: localhost
  delegate_facts: true

- name: Skip the hub, unchanged since its last rollout
  ansible.builtin.meta: end_host
  when: hostvars['localhost']['hub_rollout_compared'][inventory_hostname]['skipped'] | default(false)

- name: Record the hub's rollout state, for the next run to compare with
  imagebuilding.hubs.hub_rollout_state:
    state: recorded
    namespace: research
"""

RETURN = r"""
unchanged:
  description: The hosts whose hubs are unchanged since their last rollout (state=compared).
  returned: when compared
  type: list
  elements: str
skipped_hubs:
  description: The hosts skipped, unchanged or of another batch (state=compared).
  returned: when compared
  type: list
  elements: str
hubs:
  description: A line per hub - unchanged and skipped, or why it is skipped or rolled out (state=compared).
  returned: when compared
  type: list
  elements: str
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
