"""Desired-state digests of helm releases and the rollout status the report reads.

A release's desired state is its chart (name, version, and for a chart directory a digest
of its files) plus a digest of its rendered values, secret values included. Only the
sha256 of it is ever stored or printed (``helm_records.DIGEST_ANNOTATION`` on helm's release Secret).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def chart_files_digest(chart_ref: str) -> str:
    """sha256 of a chart directory's files (names and contents); empty for a remote chart."""
    root = Path(chart_ref).expanduser()
    if not root.is_dir():
        return ""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def desired_state_digest(chart_ref: str, chart_version: str, values: object) -> str:
    """sha256 of chart and values, values serialised canonically (sorted keys)."""
    document = {
        "chart_ref": chart_ref,
        "chart_version": chart_version or "",
        "chart_files": chart_files_digest(chart_ref),
        "values": values,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def rollout_status(revision_before: int, revision_after: int, failed: bool) -> str:
    if failed:
        return "failed"
    return "changed" if revision_after != revision_before else "unchanged"
