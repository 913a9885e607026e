"""Action plugin ``hub_values``: render one hub's helm values per release on the controller.

Builds the validated hub model (as ``hub_model`` does) and renders, from it and the
non-secret fields of the registry role's ``registry_definition``, the values of each
release the hub deploys, with the hub's extra values files layered on top. The registry
password is never read into the result; the roles merge secret values afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ansible.module_utils
from ansible.plugins.action import ActionBase

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    # The project's module_utils, importable as they are for modules.
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.hub_model import HubModelError, build_model, collect_variables
from ansible.module_utils.hub_values import nfs_objects, registry_view, render_values, required_secret_keys

CHARTS_DIR = str(_PLUGINS.parent / "charts")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("registry",))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        variables = collect_variables(task_vars, self._templar.template)
        base_dir = str(task_vars.get("inventory_dir") or Path.cwd())
        try:
            model = build_model(variables, base_dir=base_dir, charts_dir=CHARTS_DIR)
        except HubModelError as error:
            result.update(failed=True, msg=str(error), errors=error.errors, hub=error.hub)
            return result
        definition = self._task.args.get("registry")
        if definition is None:
            definition = self._templar.template(task_vars.get("registry_definition"))
        if not isinstance(definition, dict):
            result.update(failed=True, msg=f"hub {model.hub.name!r}: registry_definition: is missing; expected "
                          "the fact the registry role sets for the hub")
            return result
        try:
            registry = registry_view(definition, model.hub.name)
        except ValueError as error:
            result.update(failed=True, msg=str(error))
            return result
        result.update(
            changed=False,
            values=render_values(model, registry),
            releases={key: dict(release.__dict__) for key, release in model.releases.items()},
            objects=nfs_objects(model),
            namespace=model.hub.namespace,
            required_secret_keys=required_secret_keys(model, registry),
        )
        return result
