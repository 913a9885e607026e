#!/usr/bin/python
"""Documentation of the hub_objects action plugin (plugins/action/hub_objects.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_objects
short_description: Apply a hub's plain Kubernetes objects with server-side apply
description:
  - Runs on the controller (action plugin). Applies each object of O(objects) with the field
    manager C(imagebuilding-hubs) (server-side apply, conflicts forced), one request each.
  - The task is changed when an object was created or its stored version moved. Check mode
    applies as a dry run (C(dryRun=All)) and reports what would change; C(--diff) shows the
    applied fields before and after.
  - Kinds applied are PersistentVolume, PersistentVolumeClaim and ConfigMap (what the hub
    roles make themselves, such as an NFS home share); any other kind fails the task.
version_added: "0.1.0"
author:
  - imagebuilding-hubs contributors
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
options:
  objects:
    description: The objects, as full Kubernetes manifests.
    type: list
    elements: dict
    required: true
  hub:
    description: The hub's name, for messages.
    type: str
"""

EXAMPLES = r"""
- name: Apply the NFS home share's volume and claim
  imagebuilding.hubs.hub_objects:
    objects: "{{ rendered.objects }}"
    hub: research
"""

RETURN = r"""
applied:
  description: Each object (C(kind/name)) and whether it changed.
  returned: always
  type: list
  elements: dict
"""

if __name__ == "__main__":  # pragma: no cover - the action plugin runs instead
    raise SystemExit("hub_objects is an action plugin: run it as an Ansible task")
