"""Rollout health of a hub's namespace: Deployments and DaemonSets rolled out, pods that are
not ready and why, recent warning events (an unschedulable pod is named ``Unschedulable``)."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path

DURATION = re.compile(r"(\d+(?:\.\d+)?)(d|h|m|s)")
SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Events worth showing, and how a scheduling failure is called in a pod's conditions.
EVENT_LIMIT = 10
EVENT_REASONS = {"FailedScheduling": "Unschedulable"}


def seconds(duration: str | int | float) -> float:
    """5m0s, 90s, 1h, 2d or a number of seconds."""
    if isinstance(duration, int | float) or str(duration).replace(".", "", 1).isdigit():
        return float(duration)
    parts = DURATION.findall(str(duration))
    if not parts:
        raise ValueError(f"not a duration: {duration!r} (e.g. 5m0s)")
    return sum(float(number) * SECONDS[unit] for number, unit in parts)


def deployment_pending(item: dict[str, Any]) -> str:
    """Why a Deployment has not rolled out yet, or '' when it has."""
    spec, status = item.get("spec") or {}, item.get("status") or {}
    want = spec.get("replicas", 1)
    if (status.get("observedGeneration") or 0) < (item["metadata"].get("generation") or 0):
        return "new generation not observed yet"
    for field in ("updatedReplicas", "availableReplicas"):
        if (status.get(field) or 0) < want:
            return f"{status.get(field) or 0}/{want} {field}"
    # Pods of the revision before still running (as kubectl rollout status says): the old pod keeps a
    # rolling update available while the new one cannot start (unschedulable, say).
    old = (status.get("replicas") or 0) - (status.get("updatedReplicas") or 0)
    if old > 0:
        return f"{old} old replica(s) of the revision before still running"
    return ""


def daemonset_pending(item: dict[str, Any]) -> str:
    status = item.get("status") or {}
    want = status.get("desiredNumberScheduled") or 0
    if (status.get("observedGeneration") or 0) < (item["metadata"].get("generation") or 0):
        return "new generation not observed yet"
    for field in ("updatedNumberScheduled", "numberAvailable"):
        if (status.get(field) or 0) < want:
            return f"{status.get(field) or 0}/{want} {field}"
    return ""


def statefulset_pending(item: dict[str, Any]) -> str:
    spec, status = item.get("spec") or {}, item.get("status") or {}
    want = spec.get("replicas", 1)
    if (status.get("observedGeneration") or 0) < (item["metadata"].get("generation") or 0):
        return "new generation not observed yet"
    strategy = spec.get("updateStrategy") or {}
    fields = ["readyReplicas"] + (["updatedReplicas"] if strategy.get("type", "RollingUpdate") == "RollingUpdate" else [])
    partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
    for field in fields:
        need = want - partition if field == "updatedReplicas" else want
        if (status.get(field) or 0) < need:
            return f"{status.get(field) or 0}/{need} {field}"
    return ""


def claim_pending(item: dict[str, Any]) -> str:
    phase = (item.get("status") or {}).get("phase") or "Pending"
    return "" if phase == "Bound" else f"phase {phase}, not Bound"


def service_pending(item: dict[str, Any]) -> str:
    spec = item.get("spec") or {}
    if spec.get("type") != "LoadBalancer" or spec.get("externalIPs"):
        return ""
    ingress = ((item.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    return "" if ingress else "no load balancer address yet"


# What a release must have ready before its upgrade counts as rolled out: the objects helm's
# --wait waits for (workloads, claims, load balancers), found by helm's release annotation.
RELEASE_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_KINDS = {
    "deployment": ("apps/v1", "deployments", deployment_pending),
    "daemonset": ("apps/v1", "daemonsets", daemonset_pending),
    "statefulset": ("apps/v1", "statefulsets", statefulset_pending),
    "persistentvolumeclaim": ("v1", "persistentvolumeclaims", claim_pending),
    "service": ("v1", "services", service_pending),
}


def _pending_of_kind(kube: Kube, namespace: str, kind: str, release: str | None = None) -> list[str]:
    """The namespace's objects of ``kind`` (only ``release``'s, when given) not ready yet, with why."""
    group_version, plural, check = RELEASE_KINDS[kind]
    return [f"{kind} {item['metadata']['name']}: {why}" for item in kube.items(path(group_version, plural, namespace))
            if (release is None or (item["metadata"].get("annotations") or {}).get(RELEASE_ANNOTATION) == release)
            and (why := check(item))]


def release_pending(kube: Kube, namespace: str, release: str, kinds: tuple[str, ...] = tuple(RELEASE_KINDS)
                    ) -> dict[str, list[str]]:
    """The release's objects of ``kinds`` that are not ready yet, with why, per kind (kinds
    with nothing pending are left out: what is ready stays ready for this wait)."""
    return {kind: lines for kind in kinds if (lines := _pending_of_kind(kube, namespace, kind, release))}


def pod_problems(pod: dict[str, Any]) -> str:
    """'' for a ready pod; else its phase and every condition that is not True, with reasons."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
        return ""
    phase = (pod.get("status") or {}).get("phase", "Unknown")
    reasons = [f"{c['type']}={c['status']} {c.get('reason') or ''}: {c.get('message') or ''}".strip(": ")
               for c in conditions if c["status"] != "True"]
    return f"pod {pod['metadata']['name']} {phase}" + (f" ({'; '.join(reasons)})" if reasons else "")


def event_lines(events: list[dict[str, Any]]) -> list[str]:
    """The most recent warning events, newest last, scheduling failures named Unschedulable."""
    warnings = [e for e in events if e.get("type") == "Warning"]
    warnings.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or e["metadata"].get("creationTimestamp")))
    lines = []
    for event in warnings[-EVENT_LIMIT:]:
        target = event.get("involvedObject") or {}
        reason = event.get("reason") or ""
        label = f"{EVENT_REASONS[reason]} ({reason})" if reason in EVENT_REASONS else reason
        lines.append(f"{str(target.get('kind', '')).lower()} {target.get('name', '')}: {label}: "
                     f"{(event.get('message') or '').strip()}")
    return lines


def pending_workloads(kube: Kube, namespace: str) -> list[str]:
    """Deployments and DaemonSets of the namespace that have not rolled out, with why."""
    return [line for kind in ("deployment", "daemonset") for line in _pending_of_kind(kube, namespace, kind)]


def diagnosis(kube: Kube, namespace: str, hub: str, pending: list[str]) -> dict[str, Any]:
    """The namespace's pods that are not ready and its recent warning events, as one message."""
    not_ready = [problem for pod in kube.items(path("v1", "pods", namespace)) if (problem := pod_problems(pod))]
    events = event_lines(kube.items(path("v1", "events", namespace)))
    healthy = not (pending or not_ready)
    parts = [f"hub {hub}: namespace {namespace}" + ("" if healthy else " is not healthy")]
    parts += [f"not rolled out: {'; '.join(pending)}"] if pending else []
    parts += [f"pods not ready: {' | '.join(not_ready)}"] if not_ready else []
    parts += [f"recent warning events: {' | '.join(events)}"] if events else []
    return {"msg": ". ".join(parts), "pods_not_ready": not_ready, "events": events}
