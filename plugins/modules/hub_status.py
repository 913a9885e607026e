#!/usr/bin/python
"""Documentation of the hub_status action plugin (plugins/action/hub_status.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_status
short_description: Read what a hub runs next to what its inventory pins (its rows of the fleet's version map)
description:
  - Runs on the controller (action plugin) and changes nothing.
  - Builds the hub's model from its inventory variables (release names, pinned chart versions),
    reads helm's release records in the hub's namespace and returns one row per release - the
    inventory's releases and any other release helm keeps in that namespace - with the pinned
    and the deployed chart version, the deployed app version, revision, when it was deployed
    and C(drift), why the row differs from the inventory (empty when it does not).
  - Never fails for one hub. An invalid inventory or a cluster that cannot be read gives a row
    saying so.
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
- name: Read what the hub runs next to what its inventory pins
  imagebuilding.hubs.hub_status:
"""

RETURN = r"""
rows:
  description:
    - One row per release, with the keys hub, cluster, namespace, release, chart,
      pinned_chart_version, pinned_app_version (when the chart is on the controller),
      chart_version, app_version, revision, status (of the latest revision), deployed_at,
      age_seconds and drift.
    - Also set as the fact C(hub_status_rows).
  returned: always
  type: list
  elements: dict
"""
