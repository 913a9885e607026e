"""Filters of the hub roles: merge secret values into a release's values, in memory.

``hub_release_values``, ``hub_missing_secret_keys`` and ``hub_redact_secrets`` wrap ``module_utils/hub_values.py``
so the logic is tested once. Use them only in tasks with ``no_log: true``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ansible.module_utils

_MODULE_UTILS = str(Path(__file__).resolve().parent.parent / "module_utils")
if _MODULE_UTILS not in ansible.module_utils.__path__:
    # The project's module_utils, importable as they are for modules.
    ansible.module_utils.__path__.append(_MODULE_UTILS)

from ansible.module_utils.hub_values import missing_secret_keys, redact, release_values  # noqa: E402


def hub_release_values(rendered: Mapping[str, Any], secret_values: Mapping[str, Any] | None, release_key: str) -> dict:
    """The release's rendered values with the secret file's section (and the binder token) on top."""
    return release_values(rendered, secret_values or {}, release_key)


def hub_missing_secret_keys(secret_values: Mapping[str, Any] | None, keys: list[str]) -> list[str]:
    """Dotted keys absent or empty in the decrypted secret values (names only)."""
    return missing_secret_keys(secret_values or {}, list(keys))


def hub_redact_secrets(text: object, secret_values: Mapping[str, Any] | None) -> str:
    """``text`` with every secret value (plain or base64) replaced by ********."""
    return redact(str(text), secret_values or {})


class FilterModule:
    def filters(self) -> dict[str, Callable[..., object]]:
        return {
            "hub_release_values": hub_release_values,
            "hub_missing_secret_keys": hub_missing_secret_keys,
            "hub_redact_secrets": hub_redact_secrets,
        }
