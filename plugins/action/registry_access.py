"""Action plugin ``registry_access``: the hub's registry password, its htpasswd entry, a login
check, and the fact ``registry_definition`` - the second half of the registry role, in one task.

After the role's type tasks (quay robot, terraform key), in the task's worker process:

1. The password, by ``password_source`` of the validated settings (``registry_definition``
   module, registered as ``checked``): given in the inventory (``registry_password``, or
   ``registry_quay_robot_token`` for quay), kept in the hub's secret values file (decrypted in
   memory with sops), got by the type tasks (the quay robot's token ``_registry_robot``, the
   terraform key ``_registry_keys``), or, for a generic
   registry whose htpasswd file the role manages, the kept one - a new one when there is none
   or with ``registry_rotate``.
2. With a managed htpasswd file, the hub's user set in it (the logic of module ``htpasswd_user``, called here).
3. Unless ``registry_verify`` is false, a login as the build pods would (the logic of module
   ``registry_login``, called here); in check mode not when the htpasswd entry would change.
4. ``registry_definition``: the checked definition with the password, as a fact.

With ``verify_only: true`` (the role's validate entry point, before anything changes) it
changes nothing and returns no password: it logs in with the password the registry already
has where something else manages it (given, or kept in the secret values file and not
rotated), or, where the rollout makes or sets it (the htpasswd entry of a managed htpasswd
file, which it also repairs; a quay robot; a terraform key), checks that the registry answers
over verified TLS. ``verified: true`` in its result lets the rollout's own step skip
logging in again with that same password.

The result holds the password (the fact): the task has ``no_log: true`` and
``failed_when: false``, and the role's next task reports ``error`` (which never holds a
secret) when there is one.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

import yaml
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils import htpasswd_user, registry_login
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import ModuleFailure, ModuleLogic, RunContext
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_client import RegistryLoginError, reach
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    SopsDecryptError,
    sops_decrypt,
    sops_environment,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.module_logic_action import call_logic, logic_params

PASSWORD_PATH = ("binderhub-service", "buildPodsRegistryCredentials", "password")
PASSWORD_CHARS = string.ascii_letters + string.digits


def kept_password(secrets_file: str, var: dict[str, Any]) -> str:
    """The registry password the hub's secret values file keeps ('' when none), decrypted with
    the secrets role's sops options (``secrets_sops_binary``, ``secrets_sops_age_keyfile``)."""
    content: Any = yaml.safe_load(sops_decrypt(secrets_file, binary=str(var.get("secrets_sops_binary") or "sops"),
                                               env=sops_environment(var.get("secrets_sops_age_keyfile")))) or {}
    for key in PASSWORD_PATH:
        content = content.get(key) if isinstance(content, dict) else None
    return content if isinstance(content, str) else ""


def new_password(length: int) -> str:
    return "".join(secrets.choice(PASSWORD_CHARS) for _ in range(length))


class RegistryAccessError(Exception):
    """Why the registry cannot be used; never holds a secret."""


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(("checked", "verify_only", "verified"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        checked = self._templar.template(self._task.args.get("checked"))
        var = self._variables(task_vars)
        hub = str(task_vars.get("inventory_hostname"))
        if boolean(self._task.args.get("verify_only") or False, strict=False):
            try:
                return {**result, "changed": False, "verified": self._verify(checked, var, hub)}
            except (RegistryAccessError, SopsDecryptError, yaml.YAMLError) as error:
                return {**result, "changed": False, "failed": True, "msg": self._error(error, var, hub)}
        if not self._task.no_log:
            return {**result, "failed": True, "msg": "registry_access: the task needs no_log: true (its result holds "
                    "the registry password)"}
        try:
            definition, changed = self._access(checked, var, hub)
        except (RegistryAccessError, SopsDecryptError, yaml.YAMLError) as error:
            return {**result, "changed": False, "error": self._error(error, var, hub)}
        return {**result, "changed": changed, "ansible_facts": {"registry_definition": definition}}

    @staticmethod
    def _error(error: Exception, var: dict[str, Any], hub: str) -> str:
        if isinstance(error, RegistryAccessError):
            return str(error)
        return (f"hub '{hub}': the registry password kept in {var['registry_secrets_file']} cannot be read: "
                f"{error if isinstance(error, SopsDecryptError) else 'unreadable YAML'}")

    def _verify(self, checked: dict[str, Any], var: dict[str, Any], hub: str) -> bool:
        """Log in with the password the registry has already, else reach it; True when logged in."""
        if not boolean(var["registry_verify"], strict=False):
            return False
        definition = checked["definition"]
        rotate = boolean(var["registry_rotate"] or False, strict=False)
        source = checked.get("password_source")
        if source == "given":
            password = self._password(checked, var)
        elif source == "secrets_file" and checked.get("secrets_file_exists") and not rotate:
            password = kept_password(str(var["registry_secrets_file"]), var)
        else:  # the rollout makes or sets it: the htpasswd entry it manages, a quay robot, a terraform key
            password = ""
        if password:
            self._login(definition, password, var, hub)
            return True
        try:
            reach(definition["url"], ca_file=var["registry_ca_file"] or None,
                  validate_certs=boolean(var["registry_validate_certs"], strict=False))
        except RegistryLoginError as error:
            raise RegistryAccessError(f"hub '{hub}': registry {definition['url']} cannot be reached: {error.message}") \
                from None
        return False

    def _variables(self, task_vars: dict[str, Any]) -> dict[str, Any]:
        names = ("registry_type", "registry_password", "registry_quay_robot_token", "registry_secrets_file",
                 "registry_rotate", "registry_password_length", "registry_htpasswd_file", "registry_ca_file",
                 "registry_validate_certs", "registry_verify", "registry_verify_push", "_registry_robot", "_registry_keys",
                 "secrets_sops_binary", "secrets_sops_age_keyfile")
        return {name: self._templar.template(task_vars.get(name)) for name in names}

    def _password(self, checked: dict[str, Any], var: dict[str, Any]) -> str:
        source = checked.get("password_source")
        if source == "given":
            return str((var["registry_quay_robot_token"] if var["registry_type"] == "quay" else var["registry_password"]) or "")
        kept = kept_password(str(var["registry_secrets_file"]), var) if (
            source in ("secrets_file", "htpasswd") and checked.get("secrets_file_exists")) else ""
        if source == "htpasswd":
            rotate = boolean(var["registry_rotate"] or False, strict=False)
            return new_password(int(var["registry_password_length"] or 32)) if rotate or not kept else kept
        if source == "secrets_file":
            return kept
        found = var["_registry_robot"] if source == "quay_api" else var["_registry_keys"] if source == "terraform" else {}
        return str((found or {}).get("token" if source == "quay_api" else "key") or "")  # the type's tasks got it

    def _access(self, checked: dict[str, Any], var: dict[str, Any], hub: str) -> tuple[dict[str, Any], bool]:
        definition = dict(checked["definition"])
        password = self._password(checked, var)
        htpasswd_changed = False
        if checked.get("htpasswd_managed"):
            try:
                outcome = self._call(htpasswd_user.LOGIC, {
                    "path": var["registry_htpasswd_file"], "username": definition["username"], "password": password,
                })
            except ModuleFailure as failure:
                raise RegistryAccessError(f"hub '{hub}': {var['registry_htpasswd_file']}: {failure.msg}") from None
            htpasswd_changed = bool(outcome.get("changed"))
        if not password and not self._task.check_mode:
            raise RegistryAccessError(f"hub '{hub}': no password for registry {definition['url']} "
                                      f"(user '{definition['username']}')")
        verified = boolean(self._task.args.get("verified") or False, strict=False)  # same password, logged in
        if (boolean(var["registry_verify"], strict=False) and password and not (verified and not htpasswd_changed)
                and not (self._task.check_mode and htpasswd_changed)):
            self._login(definition, password, var, hub)
        return {**definition, "password": password}, htpasswd_changed

    def _login(self, definition: dict[str, Any], password: str, var: dict[str, Any], hub: str) -> None:
        args = {"url": definition["url"], "username": definition["username"], "password": password,
                "image_prefix": definition["image_prefix"], "validate_certs": var["registry_validate_certs"],
                "check_push": var["registry_verify_push"], "hub": hub}
        if var["registry_ca_file"]:
            args["ca_file"] = var["registry_ca_file"]
        try:
            self._call(registry_login.LOGIC, args)
        except ModuleFailure as failure:
            raise RegistryAccessError(failure.msg) from None

    def _call(self, logic: ModuleLogic, args: dict[str, Any]) -> dict[str, Any]:
        """The result of the module's logic with ``args`` in this task's check mode; a failure's
        message without the values of the module's ``no_log`` options."""
        params = logic_params(logic, args)
        try:
            return call_logic(logic, params, RunContext(check_mode=bool(self._task.check_mode)))
        except ModuleFailure as failure:
            raise ModuleFailure(remove_values(failure.msg, logic.secret_values(params))) from None
