"""Action plugin ``hub_health``: every Deployment and DaemonSet of a namespace rolls out in time.

Polls the namespace's Deployments and DaemonSets until each has observed its latest
generation and has all its replicas updated and available (DaemonSets: scheduled, updated
and ready on every node), or the timeout passes. On failure (or with ``diagnose: true`` after a
failed helm run, when helm's rollback may already have removed the pods) it reports the
pods that are not ready with their conditions, and the namespace's recent warning events:
an unschedulable pod is named with ``Unschedulable`` and the scheduler's reason
(``plugin_utils/hub_health.py``).
"""

from __future__ import annotations

import time
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_health import diagnosis, pending_workloads, seconds
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(("namespace", "timeout", "diagnose", "interval", "hub", *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp, task_vars
        args = dict(self._task.args)
        namespace, hub = args["namespace"], args.get("hub") or args["namespace"]
        try:
            client = Kube.from_args(args)
            return {**result, **self._check(client, args, namespace, hub)}
        except KubeConfigError as error:
            return {**result, "failed": True, "msg": f"hub {hub}: {error}"}
        except (KubeError, HTTPError) as error:
            return {**result, "failed": True, "msg": f"hub {hub}: namespace {namespace} could not be read: {error}"}

    def _check(self, client: Kube, args: dict[str, Any], namespace: str, hub: str) -> dict[str, Any]:
        if args.get("diagnose"):
            # After a failed helm run: no waiting, what is not ready and the recent warnings.
            return {"changed": False, **diagnosis(client, namespace, hub, pending_workloads(client, namespace))}
        deadline = time.monotonic() + seconds(args.get("timeout", "5m"))
        while True:
            pending = pending_workloads(client, namespace)
            if not pending:
                return {"changed": False, "msg": f"hub {hub}: every Deployment and DaemonSet is rolled out"}
            if time.monotonic() >= deadline:
                break
            time.sleep(float(args.get("interval", 2)))
        return {"failed": True, "pending": pending, **diagnosis(client, namespace, hub, pending)}
