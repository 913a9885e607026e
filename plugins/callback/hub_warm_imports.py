"""Callback ``hub_warm_imports``: import, once in the controller, what the hub plugins use.

Ansible runs every task of every host in a process forked from the controller. Whatever
the controller has imported before the fork is there for free; whatever it has not is
imported again by every task (the Kubernetes client's kubeconfig loader alone takes ~0.5 s of CPU). This
callback prints nothing: when loaded (before the first fork) it imports the Kubernetes
client and YAML libraries and the project's module_utils that the action plugins use.
"""

from __future__ import annotations

DOCUMENTATION = """
name: hub_warm_imports
type: aggregate
short_description: Import the hub plugins' libraries once, before Ansible forks its workers
description:
  - Imports the Kubernetes client, YAML and the project's module_utils in the controller
    process, so the worker processes Ansible forks for each task inherit them instead of
    importing them again. Prints nothing.
requirements:
  - enabled in callbacks_enabled
"""

import importlib

from ansible.plugins.callback import CallbackBase

LIBRARIES = ("yaml", "urllib3", "ansible.module_utils.basic", "kubernetes.config", "kubernetes.client.api_client",
             "kubernetes.client.rest")
PROJECT = ("plugin_utils.module_logic_action", "plugin_utils.hub_model", "plugin_utils.hub_values",
           "plugin_utils.hub_render", "plugin_utils.hub_rollout", "plugin_utils.helm_records", "plugin_utils.hub_helm",
           "plugin_utils.hub_health", "plugin_utils.hub_lock", "plugin_utils.hub_objects", "plugin_utils.kube_api",
           "module_utils.sops_files", "module_utils.registry_check", "module_utils.registry_login",
           "module_utils.htpasswd_user", "module_utils.sops_leak_guard", "module_utils.sops_preflight")


def warm() -> list[str]:
    """Import what the plugins need; the names that could not be imported (left to the plugins to report)."""
    missing = []
    for name in (*LIBRARIES, *(f"ansible_collections.imagebuilding.hubs.plugins.{module}" for module in PROJECT)):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "hub_warm_imports"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.missing = warm()
