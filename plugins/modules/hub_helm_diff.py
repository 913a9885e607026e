#!/usr/bin/python
"""Documentation of the hub_helm_diff action plugin (plugins/action/hub_helm_diff.py does the work)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hub_helm_diff
short_description: Show what a helm upgrade of a hub's release would change, with secrets masked
description:
  - Runs on the controller (action plugin). Runs C(helm diff upgrade --allow-unreleased
    --detailed-exitcode) from the helm-diff plugin with the release's values on stdin and
    returns the diff, so C(--diff) runs (and C(--check --diff)) show what would change
    while the deploying task itself keeps C(no_log).
  - The values are passed by variable name (O(values_var)), so no secret value appears in
    the task's arguments. helm-diff masks the content of Secret objects; every value of
    O(secret_values_var) (plain or base64) is also replaced by C(********) in the output
    and in error messages.
  - Reports changed when the release would change. Changes nothing; runs in check mode too.
version_added: "1.0.0"
author: imagebuilding-hubs
options:
  name:
    description: Release name.
    type: str
    required: true
  namespace:
    description: Release namespace.
    type: str
    required: true
  chart_ref:
    description: Chart name (with O(chart_repo_url)), chart directory or C(oci://) reference.
    type: str
    required: true
  chart_version:
    description: Chart version; omit for a chart directory.
    type: str
  chart_repo_url:
    description: Chart repository URL.
    type: str
  values_var:
    description: Name of the variable holding the release's final values.
    type: str
    required: true
  secret_values_var:
    description: Name of the variable holding the decrypted secret values, for redaction.
    type: str
  kubeconfig:
    description: Kubeconfig file; the environment's default when omitted.
    type: path
  kube_context:
    description: Context in the kubeconfig.
    type: str
  binary_path:
    description: helm executable; C(helm) from C(PATH) when omitted.
    type: path
  context_lines:
    description: Lines of context around each change.
    type: int
    default: 3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - helm and the helm-diff plugin on the controller
"""

EXAMPLES = r"""
- name: Show what would change in the jupyterhub release
  hub_helm_diff:
    name: jupyterhub
    namespace: research
    chart_ref: jupyterhub
    chart_version: 4.4.0
    chart_repo_url: https://hub.jupyter.org/helm-chart/
    values_var: _jupyterhub_values
    secret_values_var: _jupyterhub_secrets
  when: ansible_diff_mode
"""

RETURN = r"""
diff:
  description: The helm-diff output (C(prepared)) when the release would change.
  returned: when the release would change
  type: dict
"""

if __name__ == "__main__":  # pragma: no cover - the action plugin runs instead
    raise SystemExit("hub_helm_diff is an action plugin: run it as an Ansible task")
