"""The registry password a hub already has and a login with it, as plain functions: the registry
role's ``registry_access`` action (its rollout step and its ``verify_only`` check) and the validate
play's ``hub_preflight`` (the same check, one task for every check of a hub) call them.

``variables`` are the registry role's variables of the hub, templated (``VARIABLES``). No function
returns or raises a secret in its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.imagebuilding.hubs.plugins.module_utils import registry_login
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import ModuleFailure, ModuleLogic, RunContext
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_client import RegistryLoginError, reach
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    SopsDecryptError,
    sops_decrypt,
    sops_environment,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.module_logic_action import call_logic, logic_params

PASSWORD_PATH = ("binderhub-service", "buildPodsRegistryCredentials", "password")
# The variables the registry's password and login read (the registry role's, the secrets role's sops options).
VARIABLES = ("registry_type", "registry_password", "registry_quay_robot_token", "registry_secrets_file",
             "registry_rotate", "registry_password_length", "registry_htpasswd_file", "registry_ca_file",
             "registry_validate_certs", "registry_verify", "registry_verify_push", "_registry_robot", "_registry_keys",
             "secrets_sops_binary", "secrets_sops_age_keyfile")


class RegistryAccessError(Exception):
    """Why the registry cannot be used; never holds a secret."""


def kept_password(secrets_file: str, variables: Mapping[str, Any]) -> str:
    """The registry password the hub's secret values file keeps ('' when none), decrypted with
    the secrets role's sops options (``secrets_sops_binary``, ``secrets_sops_age_keyfile``)."""
    content: Any = yaml.safe_load(sops_decrypt(secrets_file, binary=str(variables.get("secrets_sops_binary") or "sops"),
                                               env=sops_environment(variables.get("secrets_sops_age_keyfile")))) or {}
    for key in PASSWORD_PATH:
        content = content.get(key) if isinstance(content, dict) else None
    return content if isinstance(content, str) else ""


def given_password(variables: Mapping[str, Any]) -> str:
    """The password the inventory gives (the quay robot's token for quay)."""
    name = "registry_quay_robot_token" if variables["registry_type"] == "quay" else "registry_password"
    return str(variables[name] or "")


def error_message(error: Exception, variables: Mapping[str, Any], hub: str) -> str:
    """The message of a failure to use the registry (``RegistryAccessError``, or the kept password unreadable)."""
    if isinstance(error, RegistryAccessError):
        return str(error)
    return (f"hub '{hub}': the registry password kept in {variables['registry_secrets_file']} cannot be read: "
            f"{error if isinstance(error, SopsDecryptError) else 'unreadable YAML'}")


def call(logic: ModuleLogic, args: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    """The result of a module's logic with ``args``; a failure's message without the values of the
    module's ``no_log`` options."""
    params = logic_params(logic, args)
    try:
        return call_logic(logic, params, RunContext(check_mode=check_mode))
    except ModuleFailure as failure:
        raise ModuleFailure(remove_values(failure.msg, logic.secret_values(params))) from None


def login(definition: Mapping[str, Any], password: str, variables: Mapping[str, Any], hub: str,
          check_mode: bool) -> None:
    """Log in to the registry as the build pods would (module ``registry_login``'s logic)."""
    args = {"url": definition["url"], "username": definition["username"], "password": password,
            "image_prefix": definition["image_prefix"], "validate_certs": variables["registry_validate_certs"],
            "check_push": variables["registry_verify_push"], "hub": hub}
    if variables["registry_ca_file"]:
        args["ca_file"] = variables["registry_ca_file"]
    try:
        call(registry_login.LOGIC, args, check_mode)
    except ModuleFailure as failure:
        raise RegistryAccessError(failure.msg) from None


def verify(checked: Mapping[str, Any], variables: Mapping[str, Any], hub: str, check_mode: bool) -> bool:
    """Log in with the password the registry has already (given, or kept in the secret values file
    and not rotated), else - where the rollout makes or sets it - reach the registry over verified
    TLS; True when logged in. ``checked`` is ``registry_check``'s result. Changes nothing."""
    if not boolean(variables["registry_verify"], strict=False):
        return False
    definition = checked["definition"]
    rotate = boolean(variables["registry_rotate"] or False, strict=False)
    source = checked.get("password_source")
    if source == "given":
        password = given_password(variables)
    elif source == "secrets_file" and checked.get("secrets_file_exists") and not rotate:
        password = kept_password(str(variables["registry_secrets_file"]), variables)
    else:  # the rollout makes or sets it: the htpasswd entry it manages, a quay robot, a terraform key
        password = ""
    if password:
        login(definition, password, variables, hub, check_mode)
        return True
    try:
        reach(definition["url"], ca_file=variables["registry_ca_file"] or None,
              validate_certs=boolean(variables["registry_validate_certs"], strict=False))
    except RegistryLoginError as error:
        raise RegistryAccessError(f"hub '{hub}': registry {definition['url']} cannot be reached: {error.message}") \
            from None
    return False
