#!/usr/bin/python
"""Documentation of the hub_health action plugin (plugins/action/hub_health.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_health
short_description: Check that every Deployment and DaemonSet of a hub's namespace rolls out in time
description:
  - Runs on the controller (action plugin). Looks at the namespace's Deployments and DaemonSets
    every O(interval) seconds until each has observed its latest generation and has all its
    replicas updated and available (DaemonSets - scheduled, updated and available on every node),
    or O(timeout) passes.
  - On failure reports the pods that are not ready with their conditions (an unschedulable pod
    says C(Unschedulable) and the scheduler's reason) and the namespace's recent warning events.
  - With O(diagnose), does not wait and only reports what is not ready and the recent warnings.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
  - ansible.builtin.action_common_attributes
options:
  namespace:
    description: The hub's namespace.
    type: str
    required: true
  hub:
    description: The hub's name, for messages (default the namespace).
    type: str
  timeout:
    description: How long to wait, e.g. C(5m0s), C(90s) or a number of seconds.
    type: str
    default: 5m
  interval:
    description: Seconds between looks.
    type: float
    default: 2
  diagnose:
    description: Report what is not ready without waiting.
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
- name: Check that every Deployment and DaemonSet of the hub's namespace rolls out
  imagebuilding.hubs.hub_health:
    namespace: research
    hub: research
    timeout: 5m0s
"""

RETURN = r"""
pending:
  description: The Deployments and DaemonSets not rolled out at the timeout, with why.
  returned: on failure
  type: list
  elements: str
pods_not_ready:
  description: The namespace's pods that are not ready, with their phase and conditions.
  returned: on failure, or with O(diagnose)
  type: list
  elements: str
events:
  description: The namespace's most recent warning events.
  returned: on failure, or with O(diagnose)
  type: list
  elements: str
"""
