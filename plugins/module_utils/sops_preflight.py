"""The logic of the module ``sops_preflight`` (check that sops can encrypt, and decrypt, one
hub's secret values file), as plain functions: ``LOGIC.run(params, context)``, run by the
module and by its action plugin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
    run_program,
)
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    decrypt_failure,
    find_sops_config,
    nearest_existing_dir,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "hub": {"type": "str"},
    "sops_binary": {"type": "path"},
    "config_path": {"type": "path"},
    "age_keyfile": {"type": "path"},
    "check_decrypt": {"type": "bool", "default": True},
}

_PROBE = b"imagebuilding_hubs_probe: not a secret\n"


class Sops:
    """Runs sops with the options of the check."""

    def __init__(self, params: dict[str, Any]) -> None:
        binary = params["sops_binary"] or shutil.which("sops")
        if not binary:
            raise ModuleFailure(f'Failed to find required executable "sops" in paths: {os.environ.get("PATH", "")}')
        self.command = [binary]
        if params["config_path"]:
            self.command += ["--config", params["config_path"]]
        self.env = {"SOPS_DISABLE_VERSION_CHECK": "1"}
        if params["age_keyfile"]:
            self.env["SOPS_AGE_KEY_FILE"] = params["age_keyfile"]

    def run(self, args: list[str], cwd: str, data: bytes | None = None) -> tuple[int, str]:
        """Run sops; return its exit code and stderr. stdout is discarded unread."""
        rc, _stdout, stderr = run_program(self.command + args, cwd=cwd, data=data, env=self.env)
        return rc, stderr.strip()


def probe_encrypt(sops: Sops, path: str, cwd: str) -> tuple[int, str]:
    args = ["encrypt", "--input-type", "yaml", "--output-type", "yaml", "--filename-override", path, "/dev/stdin"]
    return sops.run(args, cwd, data=_PROBE)


def encrypt_failure(path: str, config: str | None, cwd: str) -> str:
    if not config:
        return (
            f"sops cannot encrypt {path}: no .sops.yaml found (searched upwards from {cwd}). "
            "Create one with a creation_rules entry whose path_regex matches this file."
        )
    return (
        f"sops cannot encrypt {path}: no creation rule in {config} matches it, or the rule's keys "
        "cannot be reached. Add a creation_rules entry whose path_regex matches this file, with keys you can use."
    )


def probe_decrypt(sops: Sops, path: str, cwd: str) -> tuple[int, str]:
    return sops.run(["decrypt", path], cwd)


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """Probe sops (changes nothing: the same in check mode); where its configuration is."""
    del context
    path = str(Path(params["path"]).absolute())
    who = f"hub {params['hub']}: " if params["hub"] else ""
    cwd = nearest_existing_dir(path)
    config = params["config_path"] or find_sops_config(cwd)
    sops = Sops(params)
    result = {"changed": False, "config_path": config, "exists": Path(path).exists(), "decryptable": False}

    rc, err = probe_encrypt(sops, path, cwd)
    if rc != 0:
        raise ModuleFailure(f"{who}{encrypt_failure(path, config, cwd)} sops said: {err}", **result)
    if result["exists"] and params["check_decrypt"]:
        rc, err = probe_decrypt(sops, path, cwd)
        if rc != 0:
            raise ModuleFailure(f"{who}{decrypt_failure(path, err)}", **result)
        result["decryptable"] = True
    return result


LOGIC = ModuleLogic(name="sops_preflight", argument_spec=ARGUMENT_SPEC, run=run)
