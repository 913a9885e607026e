"""What helm's release Secrets say: the one reader of their labels and records.

helm keeps every revision of a release as a Secret labelled ``owner=helm``, ``name=<release>``,
``version=<revision>`` and ``status=<status>``; its ``release`` key holds the release record
(base64 of base64 of gzip of JSON). The toolkit adds one annotation, the desired-state digest
of the deployed revision (``DIGEST_ANNOTATION``, see ``hub_rollout``).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DIGEST_ANNOTATION = "imagebuilding-hubs/desired-state"
PENDING_STATUSES = ("pending-install", "pending-upgrade", "pending-rollback")


@dataclass(frozen=True)
class Revision:
    """The labels of one helm release Secret."""

    release: str
    version: int
    status: str


def revision(secret: Mapping[str, Any]) -> Revision:
    """A release Secret's labels (a full Secret or only its metadata)."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return Revision(str(labels.get("name", "")), int(labels.get("version", 0)), str(labels.get("status", "")))


def decode_release(secret_data: str) -> dict[str, Any]:
    """The release record helm keeps in a Secret's ``release`` key (base64, base64, gzip, JSON)."""
    raw = base64.b64decode(base64.b64decode(secret_data))
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def release_record(secret: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Secret's release record, or {} when it has none (a metadata-only listing)."""
    data = ((secret or {}).get("data") or {}).get("release")
    return decode_release(data) if data else {}


def release_summary(secret: dict[str, Any] | None) -> dict[str, Any]:
    """Revision, chart version and recorded digest of a deployed release Secret (None: not installed)."""
    if not secret:
        return {"revision": 0, "chart": "", "chart_version": "", "app_version": "", "digest": ""}
    chart = (release_record(secret).get("chart") or {}).get("metadata") or {}
    return {
        "revision": revision(secret).version,
        "chart": chart.get("name", ""),
        "chart_version": chart.get("version", ""),
        "app_version": str(chart.get("appVersion", "")),
        "digest": ((secret.get("metadata") or {}).get("annotations") or {}).get(DIGEST_ANNOTATION, ""),
    }


def settles(secret: dict[str, Any] | None, seeded: bool = False) -> bool:
    """Whether a just-installed release (its helm Secret) renders differently on its next upgrade:
    its chart reads the cluster with ``lookup`` (on the install the objects it looks for did not
    exist yet: z2jh generates its secrets and puts checksums of them on its pods), unless what it
    looks for was ``seeded`` before the install (``chart_seeds``). Hooks that later renders leave
    out (z2jh's image pre-puller) need no settling: the toolkit's diff does not compare hooks."""
    record = release_record(secret)
    if not record or seeded:
        return False
    templates = (record.get("chart") or {}).get("templates") or []
    return any(b"lookup " in base64.b64decode(template.get("data") or "") for template in templates)


@dataclass
class ReleaseState:
    """What helm's Secrets say about one release."""

    latest_revision: int = 0
    latest_status: str = ""
    latest_secret: str = ""
    deployed: dict[str, Any] | None = None  # the deployed revision's Secret

    @property
    def summary(self) -> dict[str, Any]:
        return release_summary(self.deployed)

    @property
    def pending(self) -> bool:
        return self.latest_status in PENDING_STATUSES

    @property
    def deployed_revision(self) -> int:
        return revision(self.deployed).version if self.deployed else 0


def release_state(secrets: Iterable[dict[str, Any]]) -> ReleaseState:
    """One release's state from its helm Secrets (any order)."""
    state = ReleaseState()
    for secret in secrets:
        labels = revision(secret)
        if labels.version > state.latest_revision:
            state.latest_revision, state.latest_status = labels.version, labels.status
            state.latest_secret = str(secret["metadata"]["name"])
        if labels.status == "deployed" and labels.version > state.deployed_revision:
            state.deployed = secret
    return state


def release_states(secrets: Iterable[dict[str, Any]]) -> dict[str, ReleaseState]:
    """Each release's state from the helm Secrets of a namespace (any releases, any order)."""
    by_release: dict[str, list[dict[str, Any]]] = {}
    for secret in secrets:
        by_release.setdefault(revision(secret).release, []).append(secret)
    return {name: release_state(items) for name, items in by_release.items()}


def deployed_revisions(secrets: Iterable[dict[str, Any]]) -> tuple[dict[str, int], list[str]]:
    """From the metadata of helm's release Secrets: each release's deployed revision, and the
    releases whose latest revision is pending (an interrupted or running helm) or failed (an
    upgrade made by hand that failed: what runs is not what was deployed)."""
    states = release_states(secrets)
    deployed = {name: state.deployed_revision for name, state in states.items() if state.deployed}
    pending = sorted(name for name, state in states.items() if state.pending or state.latest_status == "failed")
    return deployed, pending
