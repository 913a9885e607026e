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
import re
from pathlib import Path

from ansible.plugins.callback import CallbackBase

LIBRARIES = ("yaml", "urllib3", "ansible.module_utils.basic", "kubernetes.config", "kubernetes.client.api_client",
             "kubernetes.client.rest")
PLUGINS = Path(__file__).resolve().parent.parent
# The project modules the action and filter plugins import, read from their import lines.
PROJECT_IMPORT = re.compile(r"^from (ansible_collections\.imagebuilding\.hubs\.plugins\.\w+_utils\.[a-z_.]+) import",
                            re.MULTILINE)


def project_modules() -> list[str]:
    found: set[str] = set()
    for kind in ("action", "filter"):
        for path in (PLUGINS / kind).glob("*.py"):
            found.update(PROJECT_IMPORT.findall(path.read_text(encoding="utf-8")))
    return sorted(found)


def warm() -> list[str]:
    """Import what the plugins need; the names that could not be imported (left to the plugins to report)."""
    missing = []
    for name in (*LIBRARIES, *project_modules()):
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
