"""Action plugin ``sops_leak_guard``: the module of this name, run in the task's worker process
(``plugin_utils/controller_module.py``); plugins/modules/sops_leak_guard.py is its implementation."""

from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.controller_module import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    pass
