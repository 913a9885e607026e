"""The logic of the module ``terraform_container_repos`` (a name in a terraform list variable
file), as plain functions: ``LOGIC.run(params, context)``, run by the module and by its action plugin."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.imagebuilding.hubs.plugins.module_utils.hcl_list_edit import HclEditError, ensure_in_list
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)

try:
    import hcl2
except ImportError:  # pragma: no cover - reported by run()
    hcl2 = None

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "name": {"type": "str", "required": True},
    "variable": {"type": "str", "default": "container_repos"},
    "create": {"type": "bool", "default": True},
    "backup": {"type": "bool", "default": False},
}


def parse(text: str, what: str) -> dict[str, Any]:
    """Top-level values of an HCL document, strings unquoted and comments dropped."""
    options = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True)
    try:
        return hcl2.loads(text, serialization_options=options)
    except Exception as exc:  # python-hcl2 raises lark errors of many kinds
        raise HclEditError(f"{what} is not valid HCL: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def verify(before: str, after: str, variable: str, name: str) -> list[str]:
    """Parse both texts and check that only the list gained ``name``; return the new list."""
    old, new = parse(before, "the file"), parse(after, "the edited file")
    old_list = old.get(variable, [])
    new_list = new.get(variable)
    if not isinstance(old_list, list):
        raise HclEditError(f"'{variable}' is not a list")
    if new_list != [*old_list, name]:
        raise HclEditError(f"refusing to write: the edit would make '{variable}' {new_list!r} instead of {[*old_list, name]!r}")
    others_old = {key: value for key, value in old.items() if key != variable}
    others_new = {key: value for key, value in new.items() if key != variable}
    if others_old != others_new:
        raise HclEditError("refusing to write: the edit would change other values of the file")
    return new_list


def write_atomically(path: str, text: str) -> None:
    target = Path(path).absolute()
    fd, name = tempfile.mkstemp(prefix=".tfvars-", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        tmp.chmod(target.stat().st_mode & 0o7777 if target.exists() else 0o644)
        tmp.replace(target)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise


def backup_copy(path: str) -> str:
    """A copy of ``path`` beside it, named ``<path>.<pid>.<date>@<time>~``; the copy's path."""
    backup = f"{path}.{os.getpid()}.{time.strftime('%Y-%m-%d@%H:%M:%S')}~"
    shutil.copy2(path, backup)
    return backup


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Add ``name`` to the list (unless in check mode); the edit and the list afterwards."""
    if hcl2 is None:
        raise ModuleFailure(missing_required_lib("python-hcl2"))
    path, name, variable = params["path"], params["name"], params["variable"]
    if not Path(path).is_file():
        raise ModuleFailure(f"terraform variables file {path} does not exist")
    with open(path, encoding="utf-8", newline="") as handle:
        before = handle.read()
    try:
        after, action = ensure_in_list(before, variable, name, create=params["create"])
        repos = verify(before, after, variable, name) if action != "unchanged" else parse(before, "the file").get(variable, [])
    except HclEditError as error:
        raise ModuleFailure(f"cannot add '{name}' to {variable} in {path}: {error}") from None
    result: dict[str, Any] = {"changed": action != "unchanged", "edit": action, "repos": repos}
    if context.diff and result["changed"]:
        result["diff"] = {"before_header": path, "after_header": path, "before": before, "after": after}
    if result["changed"] and not context.check_mode:
        if params["backup"]:
            result["backup_file"] = backup_copy(path)
        write_atomically(path, after)
    return result


LOGIC = ModuleLogic(name="terraform_container_repos", argument_spec=ARGUMENT_SPEC, run=run)
