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

import os
from pathlib import Path
from typing import Any

import ansible.module_utils
import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    # The project's module_utils, importable as they are for modules.
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.hub_model import HubModelError, build_model, collect_variables, decrypt_values_files
from ansible.module_utils.hub_values import (
    BINDER_TOKEN_KEY,
    missing_secret_keys,
    nfs_objects,
    registry_view,
    release_values,
    render_values,
    required_secret_keys,
)
from ansible.module_utils.sops_files import SopsDecryptError, is_sops_encrypted, sops_decrypt

CHARTS_DIR = str(_PLUGINS.parent / "charts")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("registry", "decrypt", "secrets_file", "releases", "sops_binary", "age_keyfile"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        decrypt = boolean(self._task.args.get("decrypt", False), strict=True)
        if (decrypt or self._task.args.get("secrets_file")) and not self._task.no_log:
            result.update(failed=True, msg="hub_values: decrypt: true (or secrets_file) needs no_log: true on the "
                          "task (the result holds decrypted secret values)")
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
        if self._task.args.get("secrets_file"):
            self._final_values(result, model.hub.name, secret_values)
        return result

    def _sops_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self._task.args.get("age_keyfile"):
            env["SOPS_AGE_KEY_FILE"] = str(self._task.args["age_keyfile"])
        return env

    def _final_values(self, result: dict[str, Any], hub: str, values_files_secrets: list[dict[str, Any]]) -> None:
        """Each release's final values: rendered values, then the hub's secret values file on top.

        Fails (``error``: names the hub, the file and missing keys, never a value) when the file
        is missing, not sops-encrypted, cannot be decrypted or lacks a key the releases need.
        """
        path = str(self._task.args["secrets_file"])
        releases = [str(r) for r in self._task.args.get("releases") or result["values"]]
        try:
            secrets = self._decrypt_secrets_file(hub, path)
        except ValueError as error:
            result.update(failed=True, msg=str(error), error=str(error))
            return
        wanted = [key for key in result["required_secret_keys"]
                  if key.split(".", 1)[0] in releases or (key == BINDER_TOKEN_KEY and "binderhub-service" in releases)]
        missing = missing_secret_keys(secrets, wanted)
        if missing:
            error = (f"hub {hub}: {path} lacks {', '.join(missing)}; expected the secrets role to write them "
                     f"(or scripts/hub-secrets set {hub} <key>)")
            result.update(failed=True, msg=error, error=error)
            return
        result["release_values"] = {release: release_values(result["values"][release], secrets, release)
                                    for release in releases if release in result["values"]}
        result["secret_values"] = {"secrets_file": secrets, "values_files": values_files_secrets}

    def _decrypt_secrets_file(self, hub: str, path: str) -> dict[str, Any]:
        if not Path(path).is_file():
            raise ValueError(f"hub {hub}: {path} is missing: run playbooks/seal.yml first")
        if not is_sops_encrypted(path):
            raise ValueError(f"hub {hub}: {path} is not sops-encrypted: a secret values file must never be plain "
                             "text (encrypt it with sops, or delete it and run playbooks/seal.yml)")
        try:
            text = sops_decrypt(path, binary=str(self._task.args.get("sops_binary") or "sops"), env=self._sops_env())
            content = yaml.safe_load(text) or {}
        except (SopsDecryptError, yaml.YAMLError) as error:  # messages name the file, never its content
            raise ValueError(f"hub {hub}: {error.__class__.__name__}: " + (
                str(error) if isinstance(error, SopsDecryptError) else f"{path} decrypts to unreadable YAML")) from None
        if not isinstance(content, dict):
            raise ValueError(f"hub {hub}: {path} decrypts to a {type(content).__name__}, expected a mapping")
        return content
