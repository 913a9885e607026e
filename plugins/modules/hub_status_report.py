#!/usr/bin/python
"""Documentation of the hub_status_report action plugin (plugins/action/hub_status_report.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_status_report
short_description: Write the fleet's version map as JSON and return it as a table
description:
  - Runs on the controller (action plugin). Sorts the rows of every hub (M(imagebuilding.hubs.hub_status)) by
    cluster and hub, writes them with a summary (hubs, releases, releases differing from the
    inventory, each chart's versions in use) to O(path), and returns an aligned table.
  - The file is the command's output; the task reports C(changed=false).
version_added: "1.1.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  rows:
    description: The C(hub_status_rows) of the hubs.
    type: list
    elements: dict
    required: true
  path:
    description: Where the JSON version map is written.
    type: path
    default: reports/status.json
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
- name: Write the fleet's version map
  imagebuilding.hubs.hub_status_report:
    rows: "{{ ansible_play_hosts_all | map('extract', hostvars, 'hub_status_rows') | flatten }}"
    path: reports/status.json
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
table:
  description: The version map as lines of an aligned table.
  returned: success
  type: list
  elements: str
summary:
  description: Hubs, releases, releases differing from the inventory, and each chart's versions in use.
  returned: success
  type: dict
path:
  description: The JSON file written.
  returned: success
  type: str
"""
