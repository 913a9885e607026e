"""The logic of the module ``registry_check`` (validate a hub's registry settings, derive
its definition), as plain functions: ``LOGIC.run(params, context)``, run by the module and by
its action plugin. The rules themselves are in ``registry_rules``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import (
    RegistrySettings,
    build_definition,
    check_settings,
    default_quay_robot,
    default_repository_name,
    ignored_variables_warning,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "type": {"type": "str", "required": True, "choices": ["gcp", "quay", "generic"]},
    "hub": {"type": "str", "required": True},
    "label": {"type": "str", "default": ""},
    "cluster": {"type": "str", "default": ""},
    "name": {"type": "str", "default": ""},
    "image_prefix": {"type": "str", "default": ""},
    "host": {"type": "str", "default": ""},
    "url": {"type": "str", "default": ""},
    "namespace": {"type": "str", "default": ""},
    "username": {"type": "str", "default": ""},
    "password_given": {"type": "bool", "default": False, "no_log": False},
    "gcp_project": {"type": "str", "default": ""},
    "gcp_region": {"type": "str", "default": ""},
    "quay_org": {"type": "str", "default": ""},
    "quay_robot": {"type": "str", "default": ""},
    "quay_host": {"type": "str", "default": "quay.io"},
    "quay_api_url": {"type": "str", "default": ""},
    "quay_robot_token_given": {"type": "bool", "default": False, "no_log": False},
    "quay_api_token_given": {"type": "bool", "default": False, "no_log": False},
    "ca_file": {"type": "str", "default": ""},
    "pull_secret_required": {"type": "bool"},
    "htpasswd_file": {"type": "str", "default": ""},
    "secrets_file": {"type": "str", "default": ""},
    "terraform_vars_file": {"type": "str", "default": ""},
    "terraform_dir": {"type": "str", "default": ""},
    "terraform_state_file": {"type": "str", "default": ""},
    "terraform_apply": {"type": "bool", "default": False},
    "rotate": {"type": "bool", "default": False},
}


def settings_from(params: dict[str, Any]) -> RegistrySettings:
    robot = params["quay_robot"] or (default_quay_robot(params["cluster"], params["hub"]) if params["cluster"] else "")
    return RegistrySettings(
        type=params["type"],
        hub=params["hub"],
        cluster=params["cluster"],
        name=params["name"] or default_repository_name(params["hub"]),
        image_prefix=params["image_prefix"],
        host=params["host"].strip(),
        url=params["url"].rstrip("/"),
        namespace=params["namespace"] or (f"{params['cluster']}-{params['hub']}" if params["cluster"] else ""),
        username=params["username"] or (params["hub"] if params["htpasswd_file"] else ""),
        gcp_project=params["gcp_project"],
        gcp_region=params["gcp_region"],
        quay_org=params["quay_org"],
        quay_robot=robot,
        quay_host=params["quay_host"],
        quay_api_url=params["quay_api_url"],
        ca_file=str(Path(params["ca_file"]).resolve()) if params["ca_file"] else "",
        pull_secret_required=params["pull_secret_required"],
    )


def check_files(params: dict[str, Any]) -> list[str]:
    errors = []
    if params["ca_file"] and not Path(params["ca_file"]).is_file():
        errors.append(f"registry_ca_file '{params['ca_file']}' does not exist")
    if params["htpasswd_file"]:
        if params["type"] != "generic":
            errors.append(
                "registry_htpasswd_file is only for generic registries "
                "(a self-hosted registry whose htpasswd file the role manages)"
            )
        elif not Path(params["htpasswd_file"]).absolute().parent.is_dir():
            errors.append(f"the directory of registry_htpasswd_file '{params['htpasswd_file']}' does not exist")
    return errors


def gcp_source(params: dict[str, Any], secrets_exist: bool) -> tuple[str, list[str]]:
    errors = []
    if not params["password_given"]:
        if not params["terraform_vars_file"]:
            errors.append("registry_terraform_vars_file is required for gcp: the cluster's .tfvars file with container_repos")
        elif not Path(params["terraform_vars_file"]).is_file():
            errors.append(f"registry_terraform_vars_file '{params['terraform_vars_file']}' does not exist")
    if params["terraform_apply"] and not params["terraform_dir"]:
        errors.append("registry_terraform_apply needs registry_terraform_dir, the cluster's terraform directory")
    if params["terraform_dir"] and not Path(params["terraform_dir"]).is_dir():
        errors.append(f"registry_terraform_dir '{params['terraform_dir']}' does not exist")
    if params["password_given"]:
        return "given", errors
    if params["terraform_state_file"] or params["terraform_dir"]:
        return "terraform", errors
    if secrets_exist:
        return "secrets_file", errors
    errors.append(
        "registry_terraform_state_file or registry_terraform_dir is required for gcp to read the "
        f"registry_sa_keys output (or registry_password; no current password in '{params['secrets_file']}')"
    )
    return "", errors


def quay_source(params: dict[str, Any], secrets_exist: bool) -> tuple[str, list[str]]:
    if params["quay_robot_token_given"]:
        return "given", []
    if params["quay_api_token_given"]:
        return "quay_api", []
    if secrets_exist:
        return "secrets_file", []
    return "", [
        "registry_quay_robot_token or registry_quay_api_token is required for quay "
        f"(no current robot token in '{params['secrets_file']}')"
    ]


def generic_source(params: dict[str, Any], secrets_exist: bool) -> tuple[str, list[str]]:
    if params["password_given"]:
        return "given", []
    if params["htpasswd_file"]:
        return "htpasswd", []
    if secrets_exist:
        return "secrets_file", []
    return "", [
        "registry_password is required for a generic registry (or registry_htpasswd_file for a self-hosted registry "
        f"whose users the role manages); there is no current password in '{params['secrets_file']}'"
    ]


def rotation_warnings(params: dict[str, Any], source: str) -> list[str]:
    if not params["rotate"]:
        return []
    if params["type"] == "gcp":
        return [
            "registry_rotate: Artifact Registry keys are terraform resources; "
            "replace the key with terraform (terraform apply -replace=...)"
        ]
    if source == "given":
        return ["registry_rotate: the credentials are given in inventory; rotate them at the registry and update the inventory"]
    if source == "secrets_file":
        return ["registry_rotate: no way to make new credentials (no API token or htpasswd file); the current ones stay"]
    return []


# Options that carry a registry variable of one registry type: option -> (variable, role default).
# An option at its default was not given for the hub (the role passes every variable).
TYPED_OPTIONS: dict[str, tuple[str, object]] = {
    "name": ("registry_name", None),  # defaults to the hub name (registry_rules.default_repository_name)
    "host": ("registry_host", ""),
    "url": ("registry_url", ""),
    "namespace": ("registry_namespace", ""),
    "username": ("registry_username", ""),
    "password_given": ("registry_password", False),
    "htpasswd_file": ("registry_htpasswd_file", ""),
    "gcp_project": ("registry_gcp_project", ""),
    "gcp_region": ("registry_gcp_region", ""),
    "terraform_vars_file": ("registry_terraform_vars_file", ""),
    "terraform_dir": ("registry_terraform_dir", ""),
    "terraform_state_file": ("registry_terraform_state_file", ""),
    "terraform_apply": ("registry_terraform_apply", False),
    "quay_org": ("registry_quay_org", ""),
    "quay_robot": ("registry_quay_robot", ""),
    "quay_host": ("registry_quay_host", "quay.io"),
    "quay_api_url": ("registry_quay_api_url", "https://quay.io"),
    "quay_robot_token_given": ("registry_quay_robot_token", False),
    "quay_api_token_given": ("registry_quay_api_token", False),
}


def given_variables(params: dict[str, Any]) -> list[str]:
    """The registry variables given for the hub: options away from the role's default."""
    given = []
    for option, (variable, default) in TYPED_OPTIONS.items():
        value = params.get(option)
        if value not in (None, "", False) and value != (params["hub"] if default is None else default):
            given.append(variable)
    return given


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Check the settings (changes nothing: the same in check mode); the definition without the password."""
    hub = params["label"] or params["hub"]
    settings = settings_from(params)
    secrets_exist = bool(params["secrets_file"]) and Path(params["secrets_file"]).is_file()
    errors = check_settings(settings) + check_files(params)
    if settings.type == "generic" and not settings.username:
        errors.append(
            "registry_username is required for a generic registry (it defaults to the hub name only with registry_htpasswd_file)"
        )
    source_of = {"gcp": gcp_source, "quay": quay_source, "generic": generic_source}[settings.type]
    source, source_errors = source_of(params, secrets_exist)
    errors += source_errors
    if errors:
        raise ModuleFailure(f"hub '{hub}': invalid registry settings ({settings.type}): " + "; ".join(errors),
                            errors=errors)
    for warning in rotation_warnings(params, source):
        context.warn(f"hub '{hub}': {warning}")
    ignored = ignored_variables_warning(hub, settings.type, given_variables(params))
    if ignored:
        context.warn(ignored)
    return {
        "changed": False,
        "definition": build_definition(settings),
        "password_source": source,
        "htpasswd_managed": bool(params["htpasswd_file"]),
        "secrets_file_exists": secrets_exist,
        "quay_robot": settings.quay_robot,
        "name": settings.name,
    }


LOGIC = ModuleLogic(name="registry_check", argument_spec=ARGUMENT_SPEC, run=run)
