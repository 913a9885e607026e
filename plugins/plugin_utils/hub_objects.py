"""Server-side apply of plain Kubernetes objects (controller side, ``kube_api``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path

FIELD_MANAGER = "imagebuilding-hubs"
APPLY = "application/apply-patch+yaml"  # JSON is YAML
# kind -> (group/version, plural, namespaced); the kinds the hub roles apply themselves.
KINDS = {
    "PersistentVolume": ("v1", "persistentvolumes", False),
    "PersistentVolumeClaim": ("v1", "persistentvolumeclaims", True),
    "ConfigMap": ("v1", "configmaps", True),
}


@dataclass
class Applied:
    label: str
    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]


def resource(body: dict[str, Any]) -> tuple[str, str]:
    """(the object's path, kind/name) for a kind of KINDS; ValueError otherwise."""
    kind, metadata = body.get("kind"), body.get("metadata") or {}
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one hub_objects applies ({', '.join(KINDS)})")
    group_version, plural, namespaced = KINDS[kind]
    if body.get("apiVersion") != group_version:
        raise ValueError(f"{kind} must have apiVersion {group_version}")
    namespace = str(metadata.get("namespace") or "") if namespaced else ""
    if namespaced and not namespace:
        raise ValueError(f"{kind} {metadata.get('name')} needs metadata.namespace")
    return path(group_version, plural, namespace, str(metadata["name"])), f"{kind}/{metadata['name']}"


def applied_fields(found: dict[str, Any] | None, body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a stored object that ``body`` sets (for the diff)."""
    if not found:
        return {}
    return {key: found.get(key) for key in body if key not in ("apiVersion", "kind")}


def apply_object(kube: Kube, body: dict[str, Any], dry_run: bool = False) -> Applied:
    """Apply ``body``; changed when created or its resourceVersion moved (a dry run compares the answer)."""
    where, label = resource(body)
    before = kube.get_or_none(where)
    query = {"fieldManager": FIELD_MANAGER, "force": "true", **({"dryRun": "All"} if dry_run else {})}
    after = kube.request("PATCH", where, query=query, body=body, content_type=APPLY)
    if before is None:
        changed = True
    elif dry_run:
        changed = applied_fields(before, body) != applied_fields(after, body)
    else:
        changed = before["metadata"].get("resourceVersion") != after["metadata"].get("resourceVersion")
    return Applied(label, changed, applied_fields(before, body), applied_fields(after, body))


def forget_stale_claim(kube: Kube, body: dict[str, Any], dry_run: bool = False) -> bool:
    """A PersistentVolume kept (``Retain``) after its claim was deleted - with the hub's namespace,
    made again since - still names the deleted claim's uid, so the new claim of the same name
    stays Pending for ever. Forget that uid (the share and its data are untouched) so that the
    claim the volume is reserved for binds again. True when the volume had such a uid (a dry
    run changes nothing)."""
    if body.get("kind") != "PersistentVolume":
        return False
    reserved = (body.get("spec") or {}).get("claimRef") or {}
    where, _ = resource(body)
    found = kube.get_or_none(where)
    uid = ((found or {}).get("spec") or {}).get("claimRef", {}).get("uid")
    if not uid or not reserved.get("name") or not reserved.get("namespace"):
        return False
    claim = kube.get_or_none(path("v1", "persistentvolumeclaims", str(reserved["namespace"]), str(reserved["name"])))
    if claim is not None and claim["metadata"].get("uid") == uid:
        return False
    if not dry_run:
        kube.merge_patch(where, {"spec": {"claimRef": {"uid": None, "resourceVersion": None}}})
    return True


def apply_objects(kube: Kube, bodies: list[dict[str, Any]], dry_run: bool = False) -> list[Applied]:
    """Apply ``bodies`` in order; a volume that still names a deleted claim forgets it first."""
    applied = []
    for body in bodies:
        forgot = forget_stale_claim(kube, body, dry_run)
        outcome = apply_object(kube, body, dry_run)
        if forgot:
            outcome.changed = True
            outcome.label += " (the uid of its deleted claim forgotten)"
        applied.append(outcome)
    return applied
