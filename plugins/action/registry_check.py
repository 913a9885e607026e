"""Action plugin ``registry_check``: the logic of the module of this name
(plugins/module_utils/registry_check.py), called in the task's worker process
(``plugin_utils/module_logic_action.py``)."""

from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_check import LOGIC
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.module_logic_action import ModuleLogicAction


class ActionModule(ModuleLogicAction):
    LOGIC = LOGIC
