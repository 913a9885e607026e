#!/usr/bin/python
"""Documentation of the hub_takeover action plugin (plugins/action/hub_takeover.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_takeover
short_description: Take a hub over from the incumbent's release of another chart under its jupyterhub release's name
description:
  - Runs on the controller (action plugin). The incumbent deploys a hub as one helm release, named after the hub, of
    an umbrella chart with z2jh as its subchart C(jupyterhub); the toolkit's jupyterhub release has the same name,
    so the takeover upgrades that release in place to the jupyterhub chart (M(imagebuilding.hubs.hub_release) with
    O(imagebuilding.hubs.hub_release#module:take_over)). README, Taking over from the incumbent's release, has the
    procedure.
  - O(state=checked) (the validate play) reads the helm records of the hub's namespace and fails the hub when a
    release under the name of one of its releases is of another chart, naming the release, its chart and the
    command that takes it over - unless it is the jupyterhub release's name and O(take_over) is true. Releases
    the toolkit deployed (a desired-state digest recorded) are not read further. A cluster that cannot be read is
    a warning.
  - O(state=prepared) (the deploy play, before the hub's releases) reads the release's manifest, renders the new
    one (a server-side C(helm upgrade --dry-run)), gives each object its fate (adopted, recreated by another of
    the hub's releases, deleted, kept) and refuses a takeover that would leave the hub database's claim behind.
    It marks claims, volumes, namespaces and CRDs that the new release will not have C(helm.sh/resource-policy=keep)
    (a claim of a subchart the hub deploys as another release also with that release's name, for it to adopt).
    Returns RV(pending) for the upgrade that follows. Check mode marks nothing.
  - O(state=finished) (after the hub's releases and the health check) deletes what the upgrade left of the old
    manifest, takes the keep mark off claims a release owns now, deletes the old chart's revision records (helm's
    release Secrets) and reports what became of each object. Nothing to finish is no change.
  - Users' home directories (KubeSpawner's claims) are in no release's manifest and are never touched.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - imagebuilding.hubs.hub_kube
  - imagebuilding.hubs.hub_sops
  - ansible.builtin.action_common_attributes
options:
  state:
    description: Which step (see the description).
    type: str
    choices: [checked, prepared, finished]
    required: true
  take_over:
    description: With O(state=checked), whether the hub opts in to taking over (its C(hub_takeover_release)).
    type: bool
    default: false
  registry:
    description:
      - With O(state=prepared), the hub's registry without its password (the filter
        C(imagebuilding.hubs.registry_view) of the registry role's C(registry_definition)); C({}) for a hub that
        builds no images.
    type: dict
  secrets_file:
    description: With O(state=prepared), the hub's sops-encrypted secret values file.
    type: path
  hub:
    description: The hub's name, for messages; C(hub_name) when omitted.
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
  - helm on the controller, the kubernetes Python client
"""

EXAMPLES = r"""
- name: Refuse a release of another chart under the hub's release names unless the hub opts in
  imagebuilding.hubs.hub_takeover:
    state: checked
    take_over: "{{ hub_takeover_release | default(false) }}"

- name: Plan the takeover and mark what must be kept
  imagebuilding.hubs.hub_takeover:
    state: prepared
    secrets_file: "{{ secrets_values_file }}"
    registry: {}
  register: takeover
"""

RETURN = r"""
pending:
  description: With O(state=prepared), whether a release is to be taken over (upgraded in place next).
  returned: with O(state=prepared)
  type: bool
release:
  description: The release taken over (its name stays).
  returned: when there is one
  type: str
chart_before:
  description: The chart and version it was.
  returned: when there is one
  type: str
plan:
  description: With O(state=prepared), object labels (kind and name) by fate - adopted, recreated, deleted, kept.
  returned: when a release is to be taken over
  type: dict
outcome:
  description: With O(state=finished), what became of each object, by fate.
  returned: when a takeover was finished
  type: dict
retired_revisions:
  description: The old chart's revision numbers whose records were deleted.
  returned: when a takeover was finished
  type: list
  elements: int
report:
  description: The plan or outcome as lines of text, a heading first.
  returned: when a release is (or was) taken over
  type: list
  elements: str
takeover:
  description: With O(state=checked), whether the hub's deploy will take a release over.
  returned: with O(state=checked)
  type: bool
"""
