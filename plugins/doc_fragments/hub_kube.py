"""Options shared by the project's plugins that talk to the Kubernetes API server."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description: The kubeconfig file; E(KUBECONFIG), else C(~/.kube/config), when omitted.
    type: path
  kube_context:
    description: The context in the kubeconfig; its current context when omitted.
    type: str
"""
