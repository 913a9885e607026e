"""Action plugin ``hub_model``: validate one hub's inventory variables on the controller.

Collects the hub's ``hub_*``, ``cluster_*``, ``jupyterhub_*`` and ``binderhub_service_*``
variables, builds the validated model (``plugin_utils/hub_model.py``) and returns it, or
fails the task with every error, each naming the hub and the variable.

sops-encrypted entries of ``hub_values_files`` are not decrypted here: the model lists them
(``encrypted: true``) with empty content, so no secret value enters this task's result. The
roles decrypt them in memory at deploy time (``hub_values`` with ``decrypt: true``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model, collect_variables


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset()

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        variables = collect_variables(task_vars, self._templar.template)
        base_dir = str(task_vars.get("inventory_dir") or Path.cwd())
        try:
            model = build_model(variables, base_dir=base_dir)
        except HubModelError as error:
            result.update(failed=True, msg=str(error), errors=error.errors, hub=error.hub)
            return result
        result.update(changed=False, model=model.to_dict())
        return result
