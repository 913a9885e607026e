"""Secret values kept out of what is shown: helm's errors and diffs with every secret value, plain or base64, replaced.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

REDACTED = "********"
# Keys of the secret values file whose values are not secret (they also name things the
# diff must show, e.g. a username that is also the namespace).
NOT_SECRET_KEYS = frozenset(("username", "registry", "server", "url", "email", "create", "mountPath"))


def _secret_strings(value: object) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key not in NOT_SECRET_KEYS:
                yield from _secret_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_strings(item)
    elif isinstance(value, str) and len(value) >= 4:
        yield value


def redact(text: str, secret_values: Mapping[str, Any]) -> str:
    """``text`` (e.g. helm's error) with every secret value, plain or base64, replaced."""
    needles: set[str] = set()
    for secret in _secret_strings(secret_values or {}):
        needles.add(secret)
        needles.add(base64.b64encode(secret.encode()).decode())
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, REDACTED)
    return text
