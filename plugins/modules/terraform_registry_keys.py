#!/usr/bin/python
"""Ansible module terraform_registry_keys: one repository's registry key from terraform outputs."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: terraform_registry_keys
short_description: Read one repository's service-account key from the terraform output registry_sa_keys
description:
  - The cluster's terraform exposes the Artifact Registry push keys as the sensitive output
    O(output) (default C(registry_sa_keys)), a map from C(container_repos) entry to the
    service-account key JSON. This module returns the key of O(name).
  - Reads either a local state file in terraform's state format (version 4, value under
    C(outputs.<output>.value)) given as O(state_file), or runs C(terraform output -json <output>)
    in O(project_path) (remote backends work this way).
  - A key may be the JSON document itself, a JSON object, or base64 of the JSON document;
    it is returned as the JSON text, the password of the C(_json_key) registry user.
  - Read only; runs in check mode too. Run it with C(no_log).
version_added: "1.0.0"
author: imagebuilding-hubs
options:
  name:
    description: The C(container_repos) entry whose key is wanted.
    type: str
    required: true
  output:
    description: Name of the terraform output.
    type: str
    default: registry_sa_keys
  state_file:
    description: Local terraform state file (C(terraform.tfstate)) to read the output from.
    type: path
  project_path:
    description: Terraform working directory to run C(terraform output) in.
    type: path
  binary:
    description: Terraform executable used with O(project_path).
    type: str
    default: terraform
  missing_ok:
    description:
      - Return RV(found=false) instead of failing when the output or the name is missing
        (for example in check mode before C(terraform apply) created the key).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Read the hub's Artifact Registry key from the terraform state
  terraform_registry_keys:
    state_file: "{{ inventory_dir }}/terraform/terraform.tfstate"
    name: research
  register: keys
  no_log: true
"""

RETURN = r"""
key:
  description: The service-account key JSON (the registry password).
  type: str
  returned: found
found:
  description: Whether the key of O(name) exists.
  type: bool
  returned: always
names:
  description: Names that have a key in the output.
  type: list
  elements: str
  returned: always
"""

import base64
import json
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


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


def output_from_terraform(module: AnsibleModule, project_path: str, binary: str, output: str) -> object:
    executable = binary if Path(binary).is_absolute() else module.get_bin_path(binary)
    if not executable or not Path(executable).exists():
        raise KeysError(
            f"terraform ('{binary}') is not installed: set registry_terraform_state_file to read a local state file instead"
        )
    rc, out, err = module.run_command([executable, "output", "-no-color", "-json", output], cwd=project_path)
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


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "output": {"type": "str", "default": "registry_sa_keys"},
            "state_file": {"type": "path"},
            "project_path": {"type": "path"},
            "binary": {"type": "str", "default": "terraform"},
            "missing_ok": {"type": "bool", "default": False},
        },
        mutually_exclusive=[("state_file", "project_path")],
        required_one_of=[("state_file", "project_path")],
        supports_check_mode=True,
    )
    params = module.params
    name, output = params["name"], params["output"]
    source = params["state_file"] or params["project_path"]
    try:
        if params["state_file"]:
            value = output_from_state(params["state_file"], output)
        else:
            value = output_from_terraform(module, params["project_path"], params["binary"], output)
        key, names = (None, []) if value is None else select_key(value, output, name)
    except KeysError as exc:
        module.fail_json(msg=str(exc), found=False, names=[])
    if key is None:
        if value is None:
            what = f"output '{output}' not found in {source}"
        else:
            what = f"output '{output}' in {source} has no key for '{name}' (it has: {', '.join(names) or 'none'})"
        msg = (
            f"{what}: run terraform apply for the cluster (registry_terraform_apply: true does it) "
            f"so that '{name}' gets its registry and key"
        )
        if not params["missing_ok"]:
            module.fail_json(msg=msg, found=False, names=names)
        module.exit_json(changed=False, found=False, names=names, msg=msg)
    module.exit_json(changed=False, found=True, key=key, names=names)


if __name__ == "__main__":
    main()
