"""helm on the controller for one release: commands (values always on stdin) and what to do
with a release left pending. What helm's release Secrets say is read by ``helm_records``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import DIGEST_ANNOTATION, ReleaseState
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import KubeAccess
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import helm_environment as kube_helm_environment

# helm diff --detailed-exitcode: 0 no change, 2 changes, anything else an error.
DIFF_NO_CHANGE, DIFF_CHANGES = 0, 2


@dataclass(frozen=True)
class ReleaseRef:
    name: str
    namespace: str
    chart_ref: str
    chart_version: str = ""
    chart_repo_url: str = ""
    kube_context: str = ""

    @classmethod
    def from_mapping(cls, release: dict[str, Any], kube_context: str = "") -> ReleaseRef:
        return cls(str(release["name"]), str(release["namespace"]), str(release["chart_ref"]),
                   str(release.get("chart_version") or ""), str(release.get("chart_repo_url") or ""),
                   kube_context or "")


def _common(ref: ReleaseRef) -> list[str]:
    args = ["--namespace", ref.namespace]
    if ref.chart_version:
        args += ["--version", ref.chart_version]
    if ref.chart_repo_url:
        args += ["--repo", ref.chart_repo_url]
    if ref.kube_context:
        args += ["--kube-context", ref.kube_context]
    return args


def upgrade_command(ref: ReleaseRef, timeout: str, helm: str = "helm", labels: Mapping[str, str] | None = None) -> list[str]:
    """Install or upgrade, without helm's --wait: hub_release waits for the release's objects
    itself and rolls a failed upgrade back (``undo_command``), as --atomic would. helm's
    --wait polls every 2 s, so it costs at least 2 s per release even when the pods are ready
    in a fraction of that.

    ``--disable-openapi-validation``: on an API server that supports server-side field
    validation (every Kubernetes since 1.27) helm's client-side "OpenAPI validation" validates
    nothing - kubectl's validator only fetches the OpenAPI documents to learn that the server
    supports it - and helm sends no fieldValidation parameter either way, so the server
    treats unknown fields the same (its default, Warn). The flag only saves that fetch: about
    0.7 CPU-s for a jupyterhub upgrade (measured: 1.26 -> 0.55 CPU-s).

    ``labels`` go on helm's release records (``--labels``, helm 3.13+; merged with those of the
    revisions before)."""
    marks = ["--labels", ",".join(f"{key}={value}" for key, value in sorted(labels.items()))] if labels else []
    return [helm, "upgrade", "--install", ref.name, ref.chart_ref, *_common(ref), "--disable-openapi-validation",
            *marks, "--timeout", timeout, "--values", "-"]


def undo_command(ref: ReleaseRef, before: ReleaseState, timeout: str, helm: str = "helm") -> tuple[list[str], str]:
    """After a failed upgrade: back to the revision deployed before it, or uninstalled when it
    was the first install (what helm's --atomic does), and what that did."""
    deployed = before.summary["revision"]
    if deployed:
        return rollback_command(ref, deployed, timeout, helm), f"rolled back to revision {deployed}"
    return uninstall_command(ref, timeout, helm), "uninstalled (nothing was deployed before)"


def diff_command(ref: ReleaseRef, helm: str = "helm", context_lines: int = 3, validate: bool = True) -> list[str]:
    """helm diff of an upgrade; ``validate=False`` renders without the cluster (helm-diff's
    --disable-validation: no ownership check of objects another release still owns; run it with
    HELM_DIFF_USE_UPGRADE_DRY_RUN=false). Hooks are not compared (--no-hooks): they are one-off
    jobs of an install or upgrade, not what the release keeps running, and z2jh renders its image
    pre-puller's only when the images change, so every later render leaves them out."""
    return [helm, "diff", "upgrade", ref.name, ref.chart_ref, *_common(ref), "--allow-unreleased",
            "--detailed-exitcode", "--no-color", "--no-hooks", "--context", str(context_lines),
            *([] if validate else ["--disable-validation"]), "--values", "-"]


def dry_run_command(ref: ReleaseRef, helm: str = "helm") -> list[str]:
    """A server-side dry run of upgrading the release to ``ref``'s chart (lookups answered by the
    cluster): its output (-o json) is the release it would make, manifest included."""
    return [helm, "upgrade", ref.name, ref.chart_ref, *_common(ref), "--dry-run=server", "--disable-openapi-validation",
            "--output", "json", "--values", "-"]


def rollback_command(ref: ReleaseRef, revision: int, timeout: str, helm: str = "helm") -> list[str]:
    context = ["--kube-context", ref.kube_context] if ref.kube_context else []
    return [helm, "rollback", ref.name, str(revision), "--namespace", ref.namespace, *context, "--wait",
            "--timeout", timeout]


def uninstall_command(ref: ReleaseRef, timeout: str, helm: str = "helm") -> list[str]:
    context = ["--kube-context", ref.kube_context] if ref.kube_context else []
    return [helm, "uninstall", ref.name, "--namespace", ref.namespace, *context, "--wait", "--timeout", timeout]


def helm_environment(access: KubeAccess) -> dict[str, str]:
    """The controller's environment with the cluster access of the task (kube_auth.helm_environment:
    KUBECONFIG and its context, or the API server, token and CA); helm-diff compares with a
    server-side upgrade dry run (it sees the charts' lookups, e.g. generated keys kept in a Secret)."""
    environment = kube_helm_environment(access)
    environment["HELM_DIFF_USE_UPGRADE_DRY_RUN"] = "true"
    return environment


def run_helm(command: list[str], values_yaml: str | None, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, input=values_yaml, capture_output=True, text=True, env=environment, check=False)


def digest_patch(digest: str) -> dict[str, Any]:
    return {"metadata": {"annotations": {DIGEST_ANNOTATION: digest}}}


def pending_recovery(ref: ReleaseRef, state: ReleaseState, timeout: str, helm: str = "helm") -> tuple[list[str], str]:
    """The helm command that clears a release left pending by an interrupted run, and what it does."""
    deployed = state.summary["revision"]
    if deployed:
        return (rollback_command(ref, deployed, timeout, helm),
                f"rolled back to revision {deployed} (revision {state.latest_revision} was left {state.latest_status})")
    return (uninstall_command(ref, timeout, helm),
            f"uninstalled (revision {state.latest_revision} was left {state.latest_status}, nothing was deployed)")


def running_helm(ref: ReleaseRef, proc_root: str = "/proc") -> list[int]:
    """Processes on this host that run helm on the release (an interrupted ansible-playbook's
    workers start sessions of their own, so their helm may outlive it)."""
    found = []
    for entry in Path(proc_root).iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [word.decode(errors="replace") for word in argv if word]
        if (words and Path(words[0]).name == "helm" and ref.name in words
                and ref.namespace in words and any(w in words for w in ("upgrade", "install", "rollback", "uninstall"))):
            found.append(int(entry.name))
    return found


def clear_pending_hint(ref: ReleaseRef, state: ReleaseState) -> str:
    """How a person clears a pending release by hand."""
    deployed = state.summary["revision"]
    if deployed:
        return f"helm rollback {ref.name} {deployed} -n {ref.namespace}"
    return f"helm uninstall {ref.name} -n {ref.namespace}"
