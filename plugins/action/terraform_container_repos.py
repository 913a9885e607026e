"""Action plugin ``terraform_container_repos``: the module of this name, run in the task's worker process
(``plugin_utils/controller_module.py``); plugins/modules/terraform_container_repos.py is its implementation."""

from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.controller_module import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    pass
