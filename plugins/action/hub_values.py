"""Action plugin ``hub_values``: render one hub's helm values per release on the controller.

Builds the validated hub model (as ``hub_model`` does) and renders, from it and the
non-secret fields of the registry role's ``registry_definition``, the values of each
release the hub deploys, with the hub's extra values files layered on top. The registry
password is never read into the result; the roles merge secret values afterwards.

sops-encrypted entries of ``hub_values_files`` are left out of ``values`` (they are listed
in ``encrypted_values_files``). With ``decrypt: true`` - allowed only on a task with
``no_log: true`` - they are decrypted in memory (``sops --decrypt`` on stdout, with the
controller's environment, e.g. ``SOPS_AGE_KEY_FILE``) and layered in their listed order;
their decrypted contents are returned as ``secret_values`` so that the roles can redact
them from helm's output and diffs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ansible.module_utils
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    # The project's module_utils, importable as they are for modules.
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.hub_model import HubModelError, build_model, collect_variables, decrypt_values_files
from ansible.module_utils.hub_values import nfs_objects, registry_view, render_values, required_secret_keys
from ansible.module_utils.sops_files import sops_decrypt

CHARTS_DIR = str(_PLUGINS.parent / "charts")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("registry", "decrypt"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        decrypt = boolean(self._task.args.get("decrypt", False), strict=True)
        if decrypt and not self._task.no_log:
            result.update(failed=True, msg="hub_values: decrypt: true needs no_log: true on the task (the result "
                          "holds decrypted secret values)")
            return result
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
        encrypted = [f.path for f in model.values_files if f.encrypted]
        secret_values: list[dict[str, Any]] = []
        if decrypt and encrypted:
            try:
                model = decrypt_values_files(model, sops_decrypt)
            except HubModelError as error:
                # Reported by the role (this task's output is hidden): names the hub and the files only.
                result.update(failed=True, msg=str(error), errors=error.errors, hub=error.hub,
                              decrypt_error=str(error))
                return result
            secret_values = [f.content for f in model.values_files if f.encrypted]
        result.update(
            changed=False,
            values=render_values(model, registry),
            encrypted_values_files=encrypted,
            releases={key: dict(release.__dict__) for key, release in model.releases.items()},
            objects=nfs_objects(model),
            namespace=model.hub.namespace,
            required_secret_keys=required_secret_keys(model, registry),
        )
        if decrypt:
            result["secret_values"] = secret_values
        return result
