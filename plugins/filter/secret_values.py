"""Filters of the secrets role: where a hub's secret values file is and what it should hold
(``plugin_utils/secret_values.py``, which the ``hub_secret_values`` action uses too).

``hub_sealed_values_file`` is the file's path, ``<secrets_dir>/enc-<hub>.secret.values.yaml``.
``hub_sealed_values`` takes the decrypted current content and returns it with the
toolkit-managed keys set; every other key (what a person added) is kept. Generated
tokens are kept when present and only created when missing or when rotating.
``hub_sealed_values_changed`` lists, by dotted key name only, what differs between
two contents, so a run can say what it rewrites without showing any value.
``hub_sealed_values_problems`` lists what is wrong with the role's own inputs (the hub name,
the generated tokens) and ``hub_sealed_guard_paths`` what the leak guard checks; the
``hub_validate`` action applies the same rules.

The filters say "sealed", not "secret": their documentation files are named after them, and
the leak guard requires every file whose name says "secret" to be sops-encrypted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import (
    SecretValuesError,
    changed_secret_keys,
    desired_secret_values,
    input_problems,
    leak_guard_paths,
    secret_values_file,
)


def hub_sealed_values(current: object, registry: Mapping[str, Any] | None = None, tokens: Iterable[Any] = (),
                              rotate: bool = False, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    try:
        return desired_secret_values(current, registry, tokens, rotate, extra)
    except SecretValuesError as error:
        raise AnsibleFilterError(str(error)) from None


def hub_sealed_values_changed(current: object, desired: object) -> list[str]:
    return changed_secret_keys(current, desired)


def hub_sealed_values_file(secrets_dir: object, hub: object) -> str:
    return secret_values_file(str(secrets_dir), str(hub))


def hub_sealed_values_problems(hub: object, tokens: object, config_path: object = None) -> list[str]:
    return input_problems(str(hub), tokens, config_path)


def hub_sealed_guard_paths(secrets_dir: object, inventory_dir: object, values_files: object = None,
                           extra: object = None) -> list[str]:
    return leak_guard_paths(secrets_dir, inventory_dir, values_files, extra)


class FilterModule:
    """Filters of the secrets role."""

    def filters(self) -> dict[str, Any]:
        return {
            "hub_sealed_values": hub_sealed_values,
            "hub_sealed_values_changed": hub_sealed_values_changed,
            "hub_sealed_values_file": hub_sealed_values_file,
            "hub_sealed_values_problems": hub_sealed_values_problems,
            "hub_sealed_guard_paths": hub_sealed_guard_paths,
        }
