#!/usr/bin/python
"""Documentation of the hub_upgrade_gate action plugin (plugins/action/hub_upgrade_gate.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_upgrade_gate
short_description: Hold a hub whose upgrade batch may not move to its pinned chart version yet
description:
  - Runs on the controller (action plugin), reads the clusters and changes nothing.
  - Batches are inventory data - each hub's C(hub_upgrade_batch) names its batch and
    C(hub_upgrade_batches) lists the batches in upgrade order.
  - A hub moves a release when helm has it deployed at another chart version than the
    inventory now pins (a first install is not a move). A hub of the first batch, outside the
    batches, or moving nothing passes; so does a move back to an older version (the way out of
    a bad upgrade is never held).
  - Otherwise every hub of the batch before (from the whole inventory, whatever the run's
    limit) must have the release of each moved chart deployed at the new version, without a
    revision at another version in between for at least C(hub_upgrade_soak) (e.g. C(24h), C(2d)),
    and its Deployments and DaemonSets rolled out; where a smoke check was run on it
    (M(imagebuilding.hubs.hub_smoke) keeps its last outcome), the last one must have passed after
    it moved. If one is not ready the task fails, naming each
    such hub and since when it runs the version.
  - The hub's companion releases (C(hub_companion_releases)) move the same way, in their own
    namespaces too. For a companion chart only the hubs of the batch before that run a release of
    it count; when none does, nothing can have soaked on it, and its move is not held (a warning
    says so).
version_added: "1.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
  - ansible.builtin.action_common_attributes
options: {}
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
# group_vars/all.yml: hub_upgrade_batches: [canary, early, late]; hub_upgrade_soak: 24h
# group_vars/batch_early.yml: hub_upgrade_batch: early; jupyterhub_chart_version: 4.4.0
- name: Hold the hub until the batch before it has soaked on the version it moves to
  imagebuilding.hubs.hub_upgrade_gate:
"""

RETURN = r"""
moves:
  description: Chart -> the version the hub's deployed release moves to.
  returned: when the gate was checked and passed
  type: dict
not_ready:
  description: One line per hub of the batch before that is not ready, and why.
  returned: when the gate holds the hub
  type: list
  elements: str
"""
