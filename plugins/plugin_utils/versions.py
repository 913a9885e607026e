"""Comparing the version strings of charts and apps (``4.3.5``, ``5.4.6``, ``2026.3.0``,
``0.1.0-0.dev.git.336.hca79dc0``): numbers compare as numbers, words as words, part by part."""

from __future__ import annotations

import re

PART = re.compile(r"\d+|[A-Za-z]+")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key: each numeric part before each word part at the same place (``1.0`` < ``1.0.dev``
    is not promised; release versions compare as people expect)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in PART.findall(version.lstrip("v")))


def goes_back(before: str, after: str) -> bool:
    """Whether moving from ``before`` to ``after`` is a downgrade (False when either is unknown)."""
    return bool(before and after) and version_key(after) < version_key(before)
