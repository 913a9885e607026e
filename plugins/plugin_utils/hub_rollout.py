"""Desired-state digests of helm releases and the rollout records the report reads.

A release's desired state is its chart (name, version, and for a chart directory a digest
of its files) plus a digest of its rendered values, secret values included. Only the
sha256 of it is ever stored or printed (an annotation on helm's release Secret).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

DIGEST_ANNOTATION = "imagebuilding-hubs/desired-state"


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


def decode_release(secret_data: str) -> dict[str, Any]:
    """The release record helm keeps in a Secret's ``release`` key (base64, base64, gzip, JSON)."""
    raw = base64.b64decode(base64.b64decode(secret_data))
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def settles(secret: dict[str, Any] | None) -> bool:
    """Whether a just-installed release (its helm Secret) renders differently on its next upgrade:
    its chart reads the cluster with ``lookup`` (on the install the objects it looks for did not
    exist yet: z2jh generates its secrets and puts checksums of them on its pods), or its record
    holds install-time hooks that later renders leave out (z2jh's image pre-puller)."""
    data = ((secret or {}).get("data") or {}).get("release")
    if not data:
        return False
    release = decode_release(data)
    if release.get("hooks"):
        return True
    templates = (release.get("chart") or {}).get("templates") or []
    return any(b"lookup " in base64.b64decode(template.get("data") or "") for template in templates)


def release_summary(secret: dict[str, Any] | None) -> dict[str, Any]:
    """Revision, chart version and recorded digest of a deployed release Secret (None: not installed)."""
    if not secret:
        return {"revision": 0, "chart": "", "chart_version": "", "digest": ""}
    metadata = secret.get("metadata") or {}
    chart: dict[str, Any] = {}
    data = (secret.get("data") or {}).get("release")
    if data:
        chart = (decode_release(data).get("chart") or {}).get("metadata") or {}
    return {
        "revision": int((metadata.get("labels") or {}).get("version", 0)),
        "chart": chart.get("name", ""),
        "chart_version": chart.get("version", ""),
        "digest": (metadata.get("annotations") or {}).get(DIGEST_ANNOTATION, ""),
    }


def rollout_status(revision_before: int, revision_after: int, failed: bool) -> str:
    if failed:
        return "failed"
    return "changed" if revision_after != revision_before else "unchanged"
