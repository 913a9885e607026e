#!/usr/bin/python
"""Documentation of the hub_release action plugin (plugins/action/hub_release.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_release
short_description: Deploy one helm release of a hub in one task, with a no-op fast path and a rollout record
description:
  - Runs on the controller (action plugin). Reads the release's helm Secrets once; skips helm
    when the desired-state digest recorded on the deployed revision equals the digest of the
    chart and values about to be deployed; otherwise compares with C(helm diff) (a release
    whose manifests would not change only gets the digest recorded) and runs
    C(helm upgrade --install --atomic --wait) with the values on stdin.
  - A release left C(pending-*) by an interrupted run is rolled back to its deployed revision
    (uninstalled when nothing was deployed) when O(recover_pending) is true (the run holds the
    hub's rollout lock, see M(hub_lock)); otherwise the task fails with the command that clears it.
  - Check mode runs C(helm diff) only. Diff mode returns the diff with every secret value redacted.
  - Appends the outcome (hub, cluster, release, chart version, revisions, status, duration) to
    the host fact C(hub_rollout_releases) for the C(hub_rollout_report) callback.
  - Values are named by variable; no secret value is in the task's arguments or its result.
version_added: "1.0.0"
author: imagebuilding-hubs
options:
  release:
    description:
      - The release as rendered by M(hub_values).
      - C(name), C(namespace), C(chart_ref), C(chart_version), C(chart_repo_url).
    type: dict
    required: true
  values_var:
    description: Name of the variable holding the release's final values; a dotted path reaches into a mapping.
    type: str
    required: true
  secret_values_var:
    description: Name of the variable (dotted path allowed) holding every secret value, for redaction.
    type: str
  timeout:
    description: helm's C(--timeout) for the upgrade.
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
  kubeconfig:
    description: Kubeconfig file; the environment's default when omitted.
    type: path
  kube_context:
    description: Context in the kubeconfig.
    type: str
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
requirements:
  - helm and the helm-diff plugin on the controller, the kubernetes Python client
"""

EXAMPLES = r"""
- name: Deploy the jupyterhub release
  hub_release:
    release: "{{ _jupyterhub_rendered.releases['jupyterhub'] }}"
    values_var: _jupyterhub_rendered.release_values.jupyterhub
    secret_values_var: _jupyterhub_rendered.secret_values
    timeout: 5m0s
    hub: research
    cluster: local
"""

RETURN = r"""
rollout:
  description: The release's record (also appended to the host fact C(hub_rollout_releases)).
  returned: always
  type: dict
recovered:
  description: What was done to clear a release left pending.
  returned: when a pending release was cleared
  type: list
  elements: str
diff:
  description: The helm-diff output (C(prepared)), secret values redacted.
  returned: in diff mode, when the release changes
  type: dict
"""

if __name__ == "__main__":  # pragma: no cover - the action plugin runs instead
    raise SystemExit("hub_release is an action plugin: run it as an Ansible task")
