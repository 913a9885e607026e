"""A hub's rollout state: what its last complete rollout was made from, kept in its namespace.

After a hub's rollout succeeds (every release deployed, the namespace healthy) the toolkit
records, in the Secret ``imagebuilding-hubs-rollout-state`` of the hub's namespace:

- the digest of every input of the rollout: the hub's variables (``hub_*``, ``cluster_*``,
  ``registry_*``, ``secrets_*``, ``jupyterhub_*``, ``binderhub_service_*``), the contents
  of its own files (its secret values file, values files, the registry's CA, terraform
  files and the hub's line of the registry's htpasswd file) and the toolkit's own code
  (roles, plugins, playbooks; not their documentation);
- the revision, chart, chart version and namespace of each release it deployed (its companion
  releases, ``hub_companion_releases``, too: their values files and chart directories are inputs).

The next run skips the hub (no validation, lock, registry, secrets or helm) when all of it
is the same: the same inputs digest, the same deployed revisions, nothing pending, and
every Deployment and DaemonSet rolled out. A Secret, not a ConfigMap, because the digest
covers secret values (as helm's own release Secrets do).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

STATE_SECRET = "imagebuilding-hubs-rollout-state"  # noqa: S105 - a Secret's name, not a password
INPUTS_ANNOTATION = "imagebuilding-hubs/inputs"
RELEASES_ANNOTATION = "imagebuilding-hubs/releases"
RECORDED_ANNOTATION = "imagebuilding-hubs/recorded"
PREFIXES = ("hub_", "cluster_", "registry_", "secrets_", "jupyterhub_", "binderhub_service_")
# Switches that ask for work whatever the state: with one of them on, the hub is never skipped.
RERUN_SWITCHES = ("hub_force", "registry_rotate", "secrets_rotate_tokens", "secrets_force_reencrypt")
# Facts the roles and the playbook set during a run (not inputs), and the switches above.
NOT_INPUTS = frozenset({*RERUN_SWITCHES, "registry_definition", "secrets_values_file", "hub_rollout_releases",
                        "hub_rollout_compared", "hub_rollout_plan", "hub_rollout_strict", "hub_status_rows",
                        "hub_validate_report", "hub_validate_require_decrypt",
                        # how the rollout takes the hub over, not what it deploys
                        "hub_takeover_release"})
CODE_DIRS = ("roles", "plugins", "playbooks")
SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".md"})  # compiled files and documentation change no rollout


def input_variables(task_vars: Mapping[str, Any]) -> list[str]:
    """The names of the hub's variables that are inputs of its rollout."""
    return sorted(name for name in task_vars if name.startswith(PREFIXES) and name not in NOT_INPUTS)


def rerun_switches(variables: Mapping[str, Any]) -> list[str]:
    """The switches that are on (any value that is not false, no, 0 or empty)."""
    return [name for name in RERUN_SWITCHES
            if str(variables.get(name, "")).strip().lower() not in ("", "false", "no", "0", "off", "none")]


def code_digest(root: Path, dirs: Iterable[str] = CODE_DIRS) -> str:
    """sha256 of the toolkit's files under ``dirs`` of ``root`` (names and contents)."""
    digest = hashlib.sha256()
    for directory in dirs:
        files = sorted(p for p in (root / directory).rglob("*")
                       if p.is_file() and not SKIPPED_PARTS.intersection(p.parts) and p.suffix not in SKIPPED_SUFFIXES)
        for path in files:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_digest(path: str) -> str:
    """sha256 of a file's contents; 'missing' when there is none, '' for no path."""
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).expanduser().read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def htpasswd_entry_digest(path: str, user: str) -> str:
    """sha256 of ``user``'s line of an htpasswd file (the file is shared by every hub of a registry)."""
    if not path or not user:
        return ""
    try:
        lines = Path(path).expanduser().read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "missing"
    entry = [line for line in lines if line.split(":", 1)[0] == user]
    return hashlib.sha256("\n".join(entry).encode()).hexdigest()


def inputs_digest(variables: Mapping[str, Any], files: Mapping[str, str], code: str) -> str:
    """One digest of everything a hub's rollout is made from (canonical JSON, sorted keys)."""
    document = {"variables": variables, "files": files, "code": code}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def recorded_releases(record: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The releases a state record lists: name -> {revision, chart, chart_version, namespace}."""
    annotations = ((record or {}).get("metadata") or {}).get("annotations") or {}
    try:
        releases = json.loads(annotations.get(RELEASES_ANNOTATION) or "{}")
    except ValueError:
        return {}
    return releases if isinstance(releases, dict) else {}


def releases_elsewhere(record: Mapping[str, Any] | None, namespace: str) -> dict[str, list[str]]:
    """The releases a state record lists outside the hub's ``namespace`` (companion releases of
    their own namespaces), per namespace: what the comparison reads there besides the hub's namespace."""
    found: dict[str, list[str]] = {}
    for name, release in sorted(recorded_releases(record).items()):
        where = str(release.get("namespace") or namespace)
        if where != namespace:
            found.setdefault(where, []).append(name)
    return found


def why_not_skipped(record: Mapping[str, Any] | None, digest: str, deployed: Mapping[str, int],
                    pending: list[str], not_rolled_out: list[str]) -> str:
    """Why the hub must be rolled out, or '' when it is exactly as its last rollout left it."""
    if record is None:
        return "no record of a complete rollout"
    annotations = (record.get("metadata") or {}).get("annotations") or {}
    if annotations.get(INPUTS_ANNOTATION) != digest:
        return "its inputs changed since the last rollout"
    if pending:
        return f"release(s) pending or failed: {', '.join(pending)}"
    releases = recorded_releases(record)
    recorded = {name: int(release.get("revision", 0)) for name, release in releases.items()}
    if recorded != dict(deployed):
        return f"the deployed revisions {dict(sorted(deployed.items()))} are not the recorded ones {recorded}"
    if not_rolled_out:
        return f"not rolled out: {'; '.join(not_rolled_out)}"
    return ""


def record_body(digest: str, releases: Mapping[str, Mapping[str, Any]], recorded_at: str,
                resource_version: str = "") -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": STATE_SECRET,
        "labels": {"app.kubernetes.io/managed-by": "imagebuilding-hubs"},
        "annotations": {INPUTS_ANNOTATION: digest, RELEASES_ANNOTATION: json.dumps(dict(releases), sort_keys=True),
                        RECORDED_ANNOTATION: recorded_at},
    }
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata}


def same_record(record: Mapping[str, Any], digest: str, releases: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a stored record already says ``digest`` and ``releases`` (its time apart)."""
    return (((record.get("metadata") or {}).get("annotations") or {}).get(INPUTS_ANNOTATION) == digest
            and recorded_releases(record) == json.loads(json.dumps(dict(releases))))


def unchanged_rows(hub: str, cluster: str, namespace: str, releases: Mapping[str, Mapping[str, Any]],
                   started: float) -> list[dict[str, Any]]:
    """The report's rows of a skipped hub: each recorded release, unchanged."""
    return [{"hub": hub, "cluster": cluster, "release": name, "namespace": release.get("namespace") or namespace,
             "chart": release.get("chart") or name, "chart_version": release.get("chart_version") or "",
             "revision_before": int(release.get("revision", 0)), "revision_after": int(release.get("revision", 0)),
             "status": "unchanged", "helm": [], "started": round(started, 3), "duration": 0.0}
            for name, release in sorted(releases.items())]
