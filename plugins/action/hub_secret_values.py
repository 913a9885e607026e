"""Action plugin ``hub_secret_values``: write or update one hub's sops-encrypted secret values file.

In one task, in the task's worker process: the file's current content decrypted in memory
(sops on stdout), the desired content computed (``plugin_utils/secret_values.py``: registry
credentials from ``secrets_registry``, generated tokens kept or created, the hub's
``secrets_extra_values`` on top), the keys that differ listed by name, and - only when some
differ, or with ``force`` - the desired content encrypted by sops (plaintext on stdin) and
written in place of the file (a temporary file beside it, renamed). An unchanged file is
left untouched to the byte.

The registry definition and the extra values are read from the host's variables by this
plugin, never passed as arguments: no secret value is in the task's arguments or its result,
so failures are shown as they are (no ``no_log`` needed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import (
    SopsDecryptError,
    SopsEncryptError,
    sops_decrypt,
    sops_encrypt,
    sops_environment,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import BINDER_TOKEN_KEY
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import plain
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import (
    SecretValuesError,
    changed_secret_keys,
    desired_secret_values,
)

ARGS = ("path", "hub", "tokens", "rotate", "force", "sops_binary", "age_keyfile", "config_path", "image_building")
FILE_MODE = 0o644  # encrypted: readable like the rest of the inventory
DIR_MODE = 0o755


class SecretValuesFile:
    """One hub's file and the sops settings to read and write it."""

    def __init__(self, path: str, args: dict[str, Any]) -> None:
        self.path = str(Path(path).absolute())
        self.binary = str(args.get("sops_binary") or "sops")
        self.config = str(args["config_path"]) if args.get("config_path") else None
        self.env = sops_environment(args.get("age_keyfile"))

    def current(self) -> dict[str, Any]:
        """The decrypted content ({} for a file not written yet); ValueError names the file only."""
        if not Path(self.path).exists():
            return {}
        try:
            content = yaml.safe_load(sops_decrypt(self.path, binary=self.binary, env=self.env))
        except yaml.YAMLError:
            raise ValueError(f"{self.path} decrypts to unreadable YAML") from None
        return content if content is not None else {}

    def write(self, content: dict[str, Any]) -> None:
        """Encrypt ``content`` and put it in place of the file (renamed over it: never half written)."""
        encrypted = sops_encrypt(yaml.safe_dump(content, sort_keys=False), self.path, binary=self.binary,
                                 config_path=self.config, env=self.env)
        directory = Path(self.path).parent
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(encrypted)
            Path(temporary).chmod(FILE_MODE)
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        hub = str(args.get("hub") or task_vars.get("inventory_hostname"))
        if not args.get("path"):
            return {**result, "failed": True, "msg": f"hub {hub}: hub_secret_values: path is required"}
        secrets_file = SecretValuesFile(str(args["path"]), args)
        try:
            outcome = self._update(secrets_file, args, task_vars)
        except (ValueError, SopsDecryptError, SopsEncryptError, OSError) as error:
            return {**result, "failed": True, "msg": f"hub {hub}: {error}"}
        name = Path(secrets_file.path).name
        written = "re-encrypted" if not outcome["changed_keys"] else f"keys written: {', '.join(outcome['changed_keys'])}"
        if self._task.check_mode:
            written = f"would be {written.replace('keys written', 'written, keys')}"
        return {**result, **outcome, "msg": f"hub {hub}: {name} {written}" if outcome["changed"] else
                f"hub {hub}: {name} unchanged", "ansible_facts": {"secrets_values_file": secrets_file.path}}

    @staticmethod
    def _tokens(args: dict[str, Any]) -> list[Any]:
        """The tokens to generate: without the binder service's for a hub that builds no images."""
        tokens = plain(args.get("tokens") or [])
        if boolean(args.get("image_building", True), strict=False):
            return tokens
        return [t for t in tokens if (t.get("path") if isinstance(t, dict) else t) != BINDER_TOKEN_KEY]

    def _update(self, secrets_file: SecretValuesFile, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        registry = plain(self._templar.template(task_vars.get("secrets_registry"))) or None
        if registry is not None and not (isinstance(registry, dict) and isinstance(registry.get("password", ""), str)):
            raise ValueError("secrets_registry must be a mapping with a string password (the registry role's "
                             "registry_definition)")
        current = secrets_file.current()
        try:
            desired = desired_secret_values(
                current, registry=registry,
                tokens=self._tokens(args), rotate=boolean(args.get("rotate") or False, strict=False),
                extra=plain(self._templar.template(task_vars.get("secrets_extra_values") or {})))
        except SecretValuesError as error:
            raise ValueError(str(error)) from None
        changed_keys = changed_secret_keys(current, desired)
        changed = bool(changed_keys) or boolean(args.get("force") or False, strict=False)
        if changed and not self._task.check_mode:
            secrets_file.write(desired)
        return {"changed": changed, "changed_keys": changed_keys}
