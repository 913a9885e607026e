"""The logic of the module ``terraform_registry_keys`` (one repository's registry key from
terraform outputs), as plain functions: ``LOGIC.run(params, context)``, run by the module and
by its action plugin."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
    run_program,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "output": {"type": "str", "default": "registry_sa_keys"},
    "state_file": {"type": "path"},
    "project_path": {"type": "path"},
    "binary": {"type": "str", "default": "terraform"},
    "missing_ok": {"type": "bool", "default": False},
}


class KeysError(Exception):
    pass


def output_from_state(path: str, output: str) -> object:
    """Value of an output in a version 4 terraform state file (None when absent)."""
    if not Path(path).is_file():
        raise KeysError(f"terraform state file {path} does not exist")
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except ValueError as exc:
        raise KeysError(f"{path} is not a terraform state file (invalid JSON: {exc})") from None
    if not isinstance(state, dict) or "version" not in state:
        raise KeysError(f"{path} is not a terraform state file (no 'version')")
    if state["version"] != 4:
        raise KeysError(f"{path} has state format version {state['version']}; only version 4 (terraform >= 0.12) is supported")
    entry = (state.get("outputs") or {}).get(output)
    if entry is None:
        return None
    if not isinstance(entry, dict) or "value" not in entry:
        raise KeysError(f"output '{output}' in {path} has no value")
    return entry["value"]


def output_from_terraform(project_path: str, binary: str, output: str) -> object:
    executable = shutil.which(binary)
    if not executable:
        raise KeysError(
            f"terraform ('{binary}') is not installed: set registry_terraform_state_file to read a local state file instead"
        )
    rc, out, err = run_program([executable, "output", "-no-color", "-json", output], cwd=project_path)
    if rc != 0:
        if "not found" in err or "No outputs found" in err or "not found" in out:
            return None
        raise KeysError(f"terraform output -json {output} in {project_path} failed (rc={rc}): {err.strip()[:500]}")
    try:
        return json.loads(out)
    except ValueError:
        raise KeysError(f"terraform output -json {output} printed no JSON") from None


def decode_key(raw: object, name: str) -> str:
    """The service-account key as JSON text."""
    if isinstance(raw, dict):
        return json.dumps(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise KeysError(f"the key of '{name}' is empty or not a string")
    text = raw.strip()
    if not text.startswith("{"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8").strip()
        except ValueError:
            raise KeysError(f"the key of '{name}' is neither JSON nor base64-encoded JSON") from None
    try:
        document = json.loads(text)
    except ValueError:
        raise KeysError(f"the key of '{name}' is not valid JSON") from None
    if not isinstance(document, dict):
        raise KeysError(f"the key of '{name}' is not a JSON object")
    return text


def select_key(value: object, output: str, name: str) -> tuple[str | None, list[str]]:
    if not isinstance(value, dict):
        raise KeysError(f"output '{output}' is not a map of repository name to key")
    names = sorted(value)
    if name not in value:
        return None, names
    return decode_key(value[name], name), names


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Read the key (read only: the same in check mode)."""
    del context
    name, output = params["name"], params["output"]
    source = params["state_file"] or params["project_path"]
    try:
        if params["state_file"]:
            value = output_from_state(params["state_file"], output)
        else:
            value = output_from_terraform(params["project_path"], params["binary"], output)
        key, names = (None, []) if value is None else select_key(value, output, name)
    except KeysError as error:
        raise ModuleFailure(str(error), found=False, names=[]) from None
    if key is not None:
        return {"changed": False, "found": True, "key": key, "names": names}
    if value is None:
        what = f"output '{output}' not found in {source}"
    else:
        what = f"output '{output}' in {source} has no key for '{name}' (it has: {', '.join(names) or 'none'})"
    msg = (
        f"{what}: run terraform apply for the cluster (registry_terraform_apply: true does it) "
        f"so that '{name}' gets its registry and key"
    )
    if not params["missing_ok"]:
        raise ModuleFailure(msg, found=False, names=names)
    return {"changed": False, "found": False, "names": names, "msg": msg}


LOGIC = ModuleLogic(name="terraform_registry_keys", argument_spec=ARGUMENT_SPEC, run=run,
                    mutually_exclusive=[("state_file", "project_path")],
                    required_one_of=[("state_file", "project_path")])
