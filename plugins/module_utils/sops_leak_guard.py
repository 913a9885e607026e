"""The logic of the module ``sops_leak_guard`` (fail when a file named like a secret values file
is not sops-encrypted), as a plain function: ``LOGIC.run(params, context)``, run by the module
and by its action plugin."""

from __future__ import annotations

from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import find_leaks, leak_message

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "paths": {"type": "list", "elements": "path", "required": True},
    "marker": {"type": "str", "default": "secret"},
    "hub": {"type": "str"},
}


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Only reads files: the same in check mode. Fails naming the leaked files, never their content."""
    del context
    checked, leaks = find_leaks(params["paths"], params["marker"])
    if leaks:
        raise ModuleFailure(leak_message(params["hub"], leaks), checked=checked, leaks=leaks)
    return {"changed": False, "checked": checked, "leaks": leaks}


LOGIC = ModuleLogic(name="sops_leak_guard", argument_spec=ARGUMENT_SPEC, run=run)
