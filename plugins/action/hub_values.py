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

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, render_model, with_secret_values


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(("registry", "decrypt", "secrets_file", "releases", "sops_binary", "age_keyfile"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = self._task.args
        decrypt = boolean(args.get("decrypt", False), strict=True)
        if (decrypt or args.get("secrets_file")) and not self._task.no_log:
            result.update(failed=True, msg="hub_values: decrypt: true (or secrets_file) needs no_log: true on the "
                          "task (the result holds decrypted secret values)")
            return result
        definition = args.get("registry")
        if definition is None:
            definition = self._templar.template(task_vars.get("registry_definition"))
        try:
            rendering = render_model(collect_variables(task_vars, self._templar.template), definition,
                                     base_dir=str(task_vars.get("inventory_dir") or Path.cwd()),
                                     decrypt=decrypt, sops_binary=str(args.get("sops_binary") or "sops"),
                                     env=sops_environment(args.get("age_keyfile")))
            rendered = rendering.result()
            if args.get("secrets_file"):
                rendered = with_secret_values(rendering, str(args["secrets_file"]), args.get("releases"),
                                              sops_binary=str(args.get("sops_binary") or "sops"),
                                              env=sops_environment(args.get("age_keyfile")))
        except RenderError as error:
            # error/decrypt_error: reported by the role (this task's output is hidden); names the hub and files only
            result.update(failed=True, msg=str(error), error=str(error), **error.details)
            return result
        del rendered["hub"]
        return {**result, "changed": False, **rendered}
