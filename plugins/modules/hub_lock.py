#!/usr/bin/python
"""Documentation of the hub_lock action plugin (plugins/action/hub_lock.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_lock
short_description: Take or give back a hub's rollout lock (a Lease in the hub's namespace)
description:
  - Runs on the controller (action plugin). O(state=acquired) creates the hub's namespace when
    missing and the Lease C(imagebuilding-hubs-rollout) held by this run
    (C(<controller host>:<ansible-playbook pid>)); a Lease held by another live rollout fails
    the task naming the holder, and nothing else is changed.
  - A stale Lease (expired, or its holder was a process on this host that is gone) is taken over;
    C(took_over) says why (also as a warning, shown at every verbosity), and the releases a killed
    run left pending may then be cleared.
  - The namespace records its owner, annotations C(imagebuilding-hubs/hub) and
    C(imagebuilding-hubs/cluster); O(state=acquired) for another hub or cluster fails before
    anything changes. A namespace without an owner is claimed.
  - O(state=released) deletes the Lease when this run holds it.
  - C(changed) is true when the namespace is created or claimed, or the Lease is created, taken
    over or deleted (RV(namespace_change), RV(lease)). Check mode writes nothing and reports what
    a real run would do.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
  - ansible.builtin.action_common_attributes
options:
  state:
    description: Take or give back the lock.
    type: str
    choices: [acquired, released]
    required: true
  namespace:
    description: The hub's namespace.
    type: str
    required: true
  hub:
    description: The hub's name, for messages and as the namespace's owner.
    type: str
  cluster:
    description: The hub's cluster (cluster_name), recorded with the namespace's owner.
    type: str
  duration:
    description: Seconds after which a lock not given back counts as stale.
    type: int
    default: 1800
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
- name: Take the hub's rollout lock
  imagebuilding.hubs.hub_lock:
    state: acquired
    namespace: research
    hub: research
  register: _hub_lock
"""

RETURN = r"""
lease:
  description:
    - What was (in check mode - would be) done with the Lease - C(created), C(taken over) (a stale one),
      C(held) (by this run already), C(deleted), C(absent), C(held by another run).
  returned: success
  type: str
namespace_change:
  description: C(created) or C(claimed) when the namespace was (would be) created or given its owner, else empty.
  returned: when acquired
  type: str
holder:
  description: The lock's holder identity.
  returned: when acquired
  type: str
took_over:
  description: Why a stale lock was taken over ('' when it was free).
  returned: when acquired
  type: str
"""
