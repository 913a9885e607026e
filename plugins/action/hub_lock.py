"""Action plugin ``hub_lock``: take (``state: acquired``) or give back (``state: released``) a hub's
rollout lock, a Lease in the hub's namespace (``plugin_utils/hub_lock.py``).

Taking it creates the namespace when missing (labelled as managed by the toolkit, annotated with
its hub and cluster) and the Lease; a Lease held by another live rollout fails the task with the
holder and since when. A namespace that belongs to another hub (its annotations) is refused before
anything changes, whatever ``-l`` selected; one that belongs to no hub yet is claimed.
A stale Lease (expired, or its holder was a process on this host that is gone) is taken
over and ``took_over`` says why, so the releases that run left pending may be cleared.
Giving it back deletes the Lease when this run holds it.

``changed`` is true when the namespace is created or claimed, or the Lease is created, taken
over or deleted; ``namespace_change`` and ``lease`` say which. Check mode writes nothing and
reports what a real run would do.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_lock import (
    LEASE_NAME,
    Holder,
    holder_identity,
    lease_body,
    now,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError, path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS

ARGS = ("state", "namespace", "hub", "cluster", "duration")
MANAGED = {"app.kubernetes.io/managed-by": "imagebuilding-hubs"}
OWNER_HUB = "imagebuilding-hubs/hub"
OWNER_CLUSTER = "imagebuilding-hubs/cluster"
LEASES = "coordination.k8s.io/v1"


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset((*ARGS, *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp, task_vars
        args = {key: self._task.args.get(key) for key in ARGS}
        namespace, hub = str(args["namespace"]), str(args["hub"] or args["namespace"])
        try:
            kube = Kube.from_args(self._task.args)
        except KubeConfigError as error:
            return {**result, "failed": True, "msg": f"hub {hub}: {error}"}
        try:
            if args["state"] == "released":
                return {**result, **self._release(kube, namespace)}
            owner = {OWNER_HUB: hub, OWNER_CLUSTER: str(args["cluster"] or "")}
            return {**result, **self._acquire(kube, namespace, hub, owner, int(args["duration"] or 1800))}
        except KubeError as error:
            return {**result, "failed": True,
                    "msg": f"hub {hub}: the rollout lock in namespace {namespace} could not be read or written: "
                           f"{error.status} {error.reason}"}
        except HTTPError as error:  # the API server cannot be reached
            return {**result, "failed": True,
                    "msg": f"hub {hub}: the cluster's API server cannot be reached to take the rollout lock "
                           f"({kube.access.describe()}): {error}"}

    def _claim_namespace(self, kube: Kube, namespace: str, hub: str, owner: dict[str, str]) -> dict[str, Any]:
        """Create the namespace, or claim one that has no owner yet: what was (or, in check mode, would
        be) done, as ``namespace_change`` ('' when the namespace is this hub's already)."""
        found = kube.get_or_none(path("v1", "namespaces", name=namespace))
        if found is None:
            if not self._task.check_mode:
                kube.ensure_namespace(namespace, MANAGED, owner)
            return {"namespace_change": "created"}
        annotations = found["metadata"].get("annotations") or {}
        if annotations.get(OWNER_HUB) and {key: annotations.get(key, "") for key in owner} != owner:
            return {"failed": True,
                    "msg": f"hub {hub}: namespace {namespace} belongs to hub {annotations[OWNER_HUB]!r} of cluster "
                           f"{annotations.get(OWNER_CLUSTER, '')!r} (its {OWNER_HUB} annotation); nothing was "
                           "changed. Give this hub a namespace of its own (hub_namespace)"}
        if annotations.get(OWNER_HUB):
            return {"namespace_change": ""}
        if not self._task.check_mode:
            kube.merge_patch(path("v1", "namespaces", name=namespace), {"metadata": {"annotations": owner}})
        return {"namespace_change": "claimed"}

    def _acquire(self, kube: Kube, namespace: str, hub: str, owner: dict[str, str], duration: int) -> dict[str, Any]:
        """``changed`` when the namespace or the Lease is (in check mode: would be) written."""
        identity, at = holder_identity(), now()
        claimed = self._claim_namespace(kube, namespace, hub, owner)
        if claimed.get("failed"):
            return claimed
        current = None if claimed["namespace_change"] == "created" else \
            kube.get_or_none(path(LEASES, "leases", namespace, LEASE_NAME))
        took_over = ""
        if current is not None:
            holder = Holder.from_lease(current)
            if holder.identity == identity:
                return {"changed": bool(claimed["namespace_change"]), **claimed, "holder": identity, "lease": "held",
                        "took_over": ""}
            took_over = holder.stale_reason(at)
            if not took_over:
                return {"failed": True, "holder": holder.identity,
                        "msg": f"hub {hub}: another rollout of this hub is under way (lock {namespace}/{LEASE_NAME} "
                               f"held by {holder.identity} since {holder.renewed:%Y-%m-%d %H:%M:%S} UTC, for "
                               f"{holder.duration} s); nothing was changed. Wait for it, or, if that run is gone, "
                               f"delete the lock: kubectl -n {namespace} delete lease {LEASE_NAME}"}
        outcome = {"changed": True, **claimed, "holder": identity, "took_over": took_over,
                   "lease": "created" if current is None else "taken over"}
        if self._task.check_mode:
            return outcome
        if current is None:
            kube.create(path(LEASES, "leases", namespace), lease_body(identity, duration, at))
        else:  # replace with the version read: a concurrent taker makes one of the two fail (409)
            version = current["metadata"]["resourceVersion"]
            kube.replace(path(LEASES, "leases", namespace, LEASE_NAME), lease_body(identity, duration, at, version))
        if took_over:  # shown at every verbosity: a run interrupted earlier left its lock (and maybe pending releases)
            outcome["warnings"] = [f"hub {hub}: took over the rollout lock because {took_over}; releases that run "
                                   "left pending will be cleared"]
        return outcome

    def _release(self, kube: Kube, namespace: str) -> dict[str, Any]:
        """``changed`` when the Lease this run holds is (in check mode: would be) deleted."""
        current = kube.get_or_none(path(LEASES, "leases", namespace, LEASE_NAME)) if namespace else None
        if current is None:
            return {"changed": False, "lease": "absent"}
        if Holder.from_lease(current).identity != holder_identity():
            return {"changed": False, "lease": "held by another run"}
        if not self._task.check_mode:
            kube.delete(path(LEASES, "leases", namespace, LEASE_NAME))
        return {"changed": True, "lease": "deleted"}
