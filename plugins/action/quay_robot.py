"""Action plugin ``quay_robot``: the module of this name, run in the task's worker process
(``plugin_utils/controller_module.py``); plugins/modules/quay_robot.py is its implementation."""

from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.controller_module import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    pass
