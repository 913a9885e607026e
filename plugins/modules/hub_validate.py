#!/usr/bin/python
"""Documentation of the hub_validate action plugin (plugins/action/hub_validate.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_validate
short_description: Check every selected hub in one task and report every problem, changing nothing
description:
  - Runs once on the controller (action plugin, C(run_once)), in C(playbooks/validate.yml). For each host of
    O(hosts) it reads the host's variables from C(hostvars), templated in that host's context with the registry
    and secrets roles' defaults and vars, and runs the checks of the validate play of C(playbooks/hub.yml)
    with the same code - the problems the fleet inventory plugin found in the hub's entry (C(fleet_problems)),
    names shared with another selected hub (C(imagebuilding.hubs.hub_duplicates)), the hub model
    (M(imagebuilding.hubs.hub_model)), the roles' argument specs, the registry settings
    (M(imagebuilding.hubs.registry_check), with the registry role's own arguments), the secrets role's
    inputs and leak guard (M(imagebuilding.hubs.sops_leak_guard)), the charts and the final values of every
    release and companion release (M(imagebuilding.hubs.hub_preflight)).
  - A check is left out only when one it depends on failed (the charts need the hub model; the final values,
    the companion releases' too, need the hub model and, for a hub that builds images, the registry settings);
    the result says so per hub, and nothing is decrypted for values left unchecked. Every other check runs, so
    one run lists every problem of every hub.
  - Changes nothing and needs no encrypt rights, no cluster and no registry. The hub's sops-encrypted
    C(hub_values_files) and its secret values file are decrypted in memory, each file once however many hubs
    list it, several sops processes at once. A file none of whose keys is available here (C(SOPS_AGE_KEY_FILE),
    cloud KMS credentials) is not a problem of the hub (unless O(require_decrypt)); the hub is reported with
    it under C(not_decryptable) and its values are checked without that file's content. A damaged file is a
    problem.
  - Not checked here, as only a rollout needs them - that sops can encrypt the hub's file (the
    M(imagebuilding.hubs.sops_preflight) probe), a login to the registry, the hub's cluster (the rollout state,
    the upgrade gate).
  - The directories the leak guard reads and the charts' schemas are read once per run.
version_added: "1.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  hosts:
    description: The hosts (hubs) to check, e.g. C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  report:
    description:
      - A JSON file to write the report to (per hub its status, problems with the check, variable, file and
        message, the files not decryptable here and the checks left out; never a value). Empty - no file.
    type: path
  require_decrypt:
    description: Count a file that cannot be decrypted here as a problem of the hub.
    type: bool
    default: false
  workers:
    description: sops processes at once; 0 - the number of CPUs (at least 2).
    type: int
    default: 0
  helm:
    description: The helm executable that pulls an upstream chart not in the chart cache yet.
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
  - The checks are in C(plugins/plugin_utils/hub_validation.py).
  - The task itself does not fail for a hub's problems; C(playbooks/validate.yml) shows RV(summary) and fails
    when RV(failed_hubs) is not empty.
"""

EXAMPLES = r"""
- name: Check every selected hub
  hub_validate:
    hosts: "{{ ansible_play_hosts_all }}"
    report: "{{ playbook_dir }}/../reports/validate.json"
  run_once: true
  register: _hub_validation
"""

RETURN = r"""
summary:
  description: "One line per hub (C(<host>: passed), or its problems, one per line), then the totals."
  returned: always
  type: list
  elements: str
failed_hubs:
  description: The hosts with problems.
  returned: always
  type: list
  elements: str
hubs:
  description:
    - Per host, C(status) (passed or problems), C(problems) (each with C(check), C(variable), C(file),
      C(message)), C(not_decryptable) (files), C(not_checked) (checks left out and why) and C(warnings).
  returned: always
  type: dict
totals:
  description: The number of hubs, of those passed, with problems, and with files not decryptable here.
  returned: always
  type: dict
seconds:
  description: How long the checks took.
  returned: always
  type: float
report:
  description: The JSON report's path ('' without one).
  returned: always
  type: str
"""
