#!/usr/bin/python
"""Documentation of the hub_release action plugin (plugins/action/hub_release.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_release
short_description: Render and deploy a hub's helm releases in one task, with a no-op fast path and a rollout record
description:
  - Runs on the controller (action plugin). Renders the hub's values like M(imagebuilding.hubs.hub_values) - the
    validated hub model, its sops-encrypted values files and its secret values file (O(secrets_file))
    decrypted in this task's process only, the keys the releases need checked - so that no
    decrypted value is ever in a task's arguments, result or a registered variable.
  - With O(apply_objects), applies the hub's own objects first (the NFS home share's volume and
    claim) by server-side apply.
  - Then, for each of O(releases) the hub deploys, in order (a failure stops the rest), reads the
    release's helm Secrets once; skips helm when the desired-state digest recorded on the deployed
    revision equals the digest of the chart and values about to be deployed; otherwise runs
    C(helm upgrade --install) with the values on stdin. A deployed release with no digest recorded
    (adopted, or a revision made by hand) is compared with C(helm diff) first and only gets the digest
    recorded when its manifests would not change.
  - After helm, waits (looking every 0.25 s; helm's C(--wait) looks every 2 s) until the release's
    Deployments, DaemonSets and StatefulSets are rolled out, its claims bound and its load balancers
    have an address. A failed upgrade, or one not ready within O(timeout), is rolled back to the revision
    deployed before it (uninstalled when it was the first install), as C(helm --atomic) does, and the
    task fails naming the pods that are not ready and why (events).
  - A release left C(pending-*) by an interrupted run is rolled back to its deployed revision
    (uninstalled when nothing was deployed) when O(recover_pending) is true (the run holds the
    hub's rollout lock, see M(imagebuilding.hubs.hub_lock)); otherwise the task fails with the command that clears it.
  - Check mode runs C(helm diff) only (and a server-side dry run of the objects). Diff mode returns
    the diffs with every secret value redacted.
  - Appends each release's outcome (hub, cluster, release, chart version, revisions, status,
    duration) to the host fact C(hub_rollout_releases) for the C(hub_rollout_report) callback.
  - With O(companions), deploys the hub's companion releases (C(hub_companion_releases)) of that order
    instead, the same way, one after another; their values are their inline values and values files
    (sops-encrypted ones decrypted in this task's process), checked against the charts' schemas; a
    companion with C(wait) false counts as rolled out once helm has applied it, one with a C(timeout) of
    its own takes it instead of O(timeout). helm labels their release records
    C(imagebuilding-hubs/companion-of=<hub>); a release labelled as another hub's companion is never
    upgraded (the task fails naming that hub).
  - The task that deploys the C(jupyterhub) release warns about each release deployed for the hub that it
    no longer has - a release of a chart the toolkit deploys in the hub's namespace, a companion release
    that C(hub_companion_releases) no longer lists (found by helm's label in every namespace; where Secrets
    cannot be listed across namespaces, in those of the hub's releases, its companions and its last
    recorded rollout). They keep running; the warning names the C(helm uninstall) that removes them.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
  - imagebuilding.hubs.hub_sops
  - ansible.builtin.action_common_attributes
options:
  releases:
    description:
      - The releases to deploy, in order, by key (C(jupyterhub), C(dask-gateway), C(binderhub-service)); those
        the hub does not deploy (C(dask-gateway) unless C(hub_dask_gateway_enabled)) are passed over.
      - Required unless O(companions) is given.
    type: list
    elements: str
  companions:
    description:
      - Deploy the hub's companion releases whose C(order) is this (C(before) or C(after) the hub's own
        releases) instead of O(releases); nothing when the hub has none.
    type: str
    choices: [before, after]
  registry:
    description:
      - The hub's registry without its password (C(type), C(host), C(url), C(image_prefix),
        C(username), C(pull_secret_required)) - the filter C(imagebuilding.hubs.registry_view) of the
        registry role's C(registry_definition). Required with O(releases) for a hub that builds images.
    type: dict
  secrets_file:
    description: The hub's sops-encrypted secret values file, merged over each release's values. Required with O(releases).
    type: path
  apply_objects:
    description: Apply the hub's own objects (the NFS home share's volume and claim) before the releases.
    type: bool
    default: false
  timeout:
    description: How long each release may take to become ready (also helm's C(--timeout), for hooks).
    type: str
    default: 5m0s
  force:
    description: Run helm even when the recorded desired state is unchanged.
    type: bool
    default: false
  recover_pending:
    description: Clear a release left pending by an interrupted run (only when this run holds the hub's lock).
    type: bool
    default: false
  take_over:
    description:
      - Upgrade in place a deployed release of another chart under the jupyterhub release's name (the
        incumbent's umbrella release), instead of refusing it; the hub's C(hub_takeover_release), with
        M(imagebuilding.hubs.hub_takeover) marking what must be kept first. In check mode a release not
        installed yet is diffed without the cluster (C(helm diff --disable-validation)), since the
        release taken over may still own objects of its name.
    type: bool
    default: false
  hub:
    description: The hub's name, for messages and the record.
    type: str
  cluster:
    description: The hub's cluster, for the record.
    type: str
  helm:
    description: helm executable; C(helm) from C(PATH) when omitted.
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
requirements:
  - helm and the helm-diff plugin on the controller, the kubernetes Python client
"""

EXAMPLES = r"""
- name: Deploy the hub's jupyterhub and dask-gateway releases with its secret values
  imagebuilding.hubs.hub_release:
    releases: [jupyterhub, dask-gateway]
    apply_objects: true
    secrets_file: "{{ inventory_dir }}/secrets/enc-research.secret.values.yaml"
    timeout: 5m0s
    hub: research
    cluster: local

- name: Deploy the hub's companion releases that come before its own (an NFS home server)
  imagebuilding.hubs.hub_release:
    companions: before
    timeout: 10m0s
    hub: research
    cluster: local
"""

RETURN = r"""
ansible_facts:
  description: C(hub_rollout_releases), with a record per release deployed (or failed) by this task.
  returned: always
  type: dict
objects:
  description: The hub's objects (kind/name) that were created or changed.
  returned: with O(apply_objects), when some changed
  type: list
  elements: str
recovered:
  description: What was done to clear a release left pending.
  returned: when a pending release was cleared
  type: list
  elements: str
diff:
  description: Per release that changes, the helm-diff output (C(prepared)), secret values redacted; per object, before and after.
  returned: in diff mode, when something changes
  type: list
  elements: dict
"""
