#!/usr/bin/python
"""Ansible module: check that sops can encrypt (and decrypt) one hub's secret values file."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sops_preflight
short_description: Check that sops has a creation rule and keys for a secret values file
description:
  - Encrypts a fixed dummy document with C(sops encrypt --filename-override O(path)), so sops
    picks the creation rule that would apply to O(path) and fetches its keys (age recipients,
    cloud KMS). The output is thrown away. This fails when no C(.sops.yaml) is found, no
    creation rule matches, or a key cannot be reached.
  - When O(path) exists, decrypts it into memory and throws the result away, to prove that a
    decryption key is available. Decrypted content is never returned, logged or written.
  - sops runs with C(SOPS_DISABLE_VERSION_CHECK=1), in the directory of O(path) (or its
    nearest existing parent), so it finds C(.sops.yaml) the same way C(community.sops) does.
version_added: "0.1.0"
author:
  - imagebuilding-hubs contributors
extends_documentation_fragment:
  - imagebuilding.hubs.hub_sops
options:
  path:
    description: The secret values file (it need not exist yet).
    type: path
    required: true
  hub:
    description: Name of the hub, used in failure messages.
    type: str
  config_path:
    description: The sops configuration file; when not set, sops searches upwards for C(.sops.yaml).
    type: path
  check_decrypt:
    description: Also decrypt an existing O(path) to prove a key is available.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Check that sops can encrypt and decrypt the hub's secret values
  sops_preflight:
    path: "{{ inventory_dir }}/secrets/enc-hub1.secret.values.yaml"
    hub: hub1
"""

RETURN = r"""
config_path:
  description: The sops configuration file sops uses for O(path) (given, or found searching upwards).
  returned: always
  type: str
  sample: /srv/inventory/.sops.yaml
exists:
  description: Whether O(path) exists.
  returned: always
  type: bool
decryptable:
  description: Whether O(path) could be decrypted (false when it does not exist or was not checked).
  returned: always
  type: bool
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    decrypt_failure,
    find_sops_config,
    nearest_existing_dir,
)

_PROBE = b"imagebuilding_hubs_probe: not a secret\n"


class Sops:
    """Runs sops through the module, with the options of the check."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        binary = module.params["sops_binary"] or module.get_bin_path("sops", required=True)
        self.command = [binary]
        if module.params["config_path"]:
            self.command += ["--config", module.params["config_path"]]
        self.env = {"SOPS_DISABLE_VERSION_CHECK": "1"}
        if module.params["age_keyfile"]:
            self.env["SOPS_AGE_KEY_FILE"] = module.params["age_keyfile"]

    def run(self, args: list[str], cwd: str, data: bytes | None = None) -> tuple[int, str]:
        """Run sops; return its exit code and stderr. stdout is discarded unread."""
        rc, _stdout, stderr = self.module.run_command(
            self.command + args,
            cwd=cwd,
            data=data,
            binary_data=True,
            encoding=None,
            environ_update=self.env,
        )
        return rc, to_text(stderr, errors="surrogate_or_replace").strip()


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


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "hub": {"type": "str"},
            "sops_binary": {"type": "path"},
            "config_path": {"type": "path"},
            "age_keyfile": {"type": "path"},
            "check_decrypt": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    path = str(Path(module.params["path"]).absolute())
    who = f"hub {module.params['hub']}: " if module.params["hub"] else ""
    cwd = nearest_existing_dir(path)
    config = module.params["config_path"] or find_sops_config(cwd)
    sops = Sops(module)
    result = {"changed": False, "config_path": config, "exists": Path(path).exists(), "decryptable": False}

    rc, err = probe_encrypt(sops, path, cwd)
    if rc != 0:
        module.fail_json(msg=f"{who}{encrypt_failure(path, config, cwd)} sops said: {err}", **result)
    if result["exists"] and module.params["check_decrypt"]:
        rc, err = probe_decrypt(sops, path, cwd)
        if rc != 0:
            module.fail_json(msg=f"{who}{decrypt_failure(path, err)}", **result)
        result["decryptable"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
