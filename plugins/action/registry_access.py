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
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils import htpasswd_user
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import ModuleFailure
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import SopsDecryptError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.registry_access import (
    VARIABLES,
    RegistryAccessError,
    call,
    error_message,
    given_password,
    kept_password,
    login,
    verify,
)

PASSWORD_CHARS = string.ascii_letters + string.digits


def new_password(length: int) -> str:
    return "".join(secrets.choice(PASSWORD_CHARS) for _ in range(length))


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(("checked", "verify_only", "verified"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        checked = self._templar.template(self._task.args.get("checked"))
        var = {name: self._templar.template(task_vars.get(name)) for name in VARIABLES}
        hub = str(task_vars.get("inventory_hostname"))
        check_mode = bool(self._task.check_mode)
        if boolean(self._task.args.get("verify_only") or False, strict=False):
            try:
                return {**result, "changed": False, "verified": verify(checked, var, hub, check_mode)}
            except (RegistryAccessError, SopsDecryptError, yaml.YAMLError) as error:
                return {**result, "changed": False, "failed": True, "msg": error_message(error, var, hub)}
        if not self._task.no_log:
            return {**result, "failed": True, "msg": "registry_access: the task needs no_log: true (its result holds "
                    "the registry password)"}
        try:
            definition, changed = self._access(checked, var, hub)
        except (RegistryAccessError, SopsDecryptError, yaml.YAMLError) as error:
            return {**result, "changed": False, "error": error_message(error, var, hub)}
        return {**result, "changed": changed, "ansible_facts": {"registry_definition": definition}}

    @staticmethod
    def _password(checked: dict[str, Any], var: dict[str, Any]) -> str:
        source = checked.get("password_source")
        if source == "given":
            return given_password(var)
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
        check_mode = bool(self._task.check_mode)
        htpasswd_changed = False
        if checked.get("htpasswd_managed"):
            try:
                outcome = call(htpasswd_user.LOGIC, {
                    "path": var["registry_htpasswd_file"], "username": definition["username"], "password": password,
                }, check_mode)
            except ModuleFailure as failure:
                raise RegistryAccessError(f"hub '{hub}': {var['registry_htpasswd_file']}: {failure.msg}") from None
            htpasswd_changed = bool(outcome.get("changed"))
        if not password and not check_mode:
            raise RegistryAccessError(f"hub '{hub}': no password for registry {definition['url']} "
                                      f"(user '{definition['username']}')")
        verified = boolean(self._task.args.get("verified") or False, strict=False)  # same password, logged in
        if (boolean(var["registry_verify"], strict=False) and password and not (verified and not htpasswd_changed)
                and not (check_mode and htpasswd_changed)):
            login(definition, password, var, hub, check_mode)
        return {**definition, "password": password}, htpasswd_changed
