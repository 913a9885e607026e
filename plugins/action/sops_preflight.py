"""Action plugin ``sops_preflight``: the module of this name, run in the task's worker process
(``module_utils/controller_module.py``); plugins/modules/sops_preflight.py is its implementation."""

from __future__ import annotations

from pathlib import Path

import ansible.module_utils

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.controller_module import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    pass
