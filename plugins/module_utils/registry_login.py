"""The logic of the module ``registry_login`` (log in to an OCI registry as the build pods
would), as plain functions: ``LOGIC.run(params, context)``, run by the module and by its
action plugin (and by ``registry_access``)."""

from __future__ import annotations

from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_client import RegistryLoginError, login
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import repository_for_check

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "url": {"type": "str", "required": True},
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
    "image_prefix": {"type": "str", "required": True},
    "ca_file": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
    "check_push": {"type": "bool", "default": False},
    "hub": {"type": "str", "default": ""},
    "timeout": {"type": "float", "default": 20.0},
}

KIND_TITLES = {
    "credentials": "wrong credentials",
    "forbidden": "not allowed",
    "unknown_host": "unknown host",
    "unreachable": "registry unreachable",
    "tls": "TLS error",
    "protocol": "unexpected registry answer",
}


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Log in (changes nothing, so check mode runs it too); the scheme and the repository checked."""
    repository = repository_for_check(params["image_prefix"])
    who = f"hub '{params['hub']}': " if params["hub"] else ""
    try:
        result = login(
            params["url"],
            params["username"],
            params["password"],
            repository,
            ca_file=params["ca_file"],
            validate_certs=params["validate_certs"],
            timeout=params["timeout"],
            push=params["check_push"],
        )
    except RegistryLoginError as error:
        raise ModuleFailure(
            f"{who}login to registry {params['url']} as '{params['username']}' failed, "
            f"{KIND_TITLES.get(error.kind, error.kind)}: {error.message}",
            kind=error.kind,
            repository=repository,
        ) from None
    for warning in result.warnings:
        context.warn(f"{who}{warning}")
    return {"changed": False, "scheme": result.scheme, "repository": repository, "push_checked": result.push_checked}


LOGIC = ModuleLogic(name="registry_login", argument_spec=ARGUMENT_SPEC, run=run)
