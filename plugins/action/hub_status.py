"""Action plugin ``hub_status``: one hub's rows of the fleet's version map (read-only).

Builds the hub's model from its inventory variables (the pinned chart versions and release
names, its companion releases), reads helm's release records in the hub's namespace (and of its
companion releases in theirs) and returns, per release, what is
pinned, what is deployed (chart and app version, revision, when) and the drift between them
(``plugin_utils/hub_status.py``). It never fails for one hub: an invalid inventory or a cluster
that cannot be read is a row that says so, so that the map shows the whole fleet in one run.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model, collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import (
    pinned_companions,
    pinned_releases,
    pinned_versions,
    read_elsewhere,
    read_releases,
    status_rows,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS


def problem_row(hub: str, cluster: str, namespace: str, problem: str) -> dict[str, Any]:
    return {"hub": hub, "cluster": cluster, "namespace": namespace, "release": "-", "chart": "",
            "pinned_chart_version": "", "pinned_app_version": "", "chart_version": "", "app_version": "",
            "revision": 0, "status": "", "deployed_at": "", "age_seconds": None, "drift": problem}


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(KUBE_ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        variables = collect_variables(task_vars, self._templar.template)
        hub = str(variables.get("hub_name") or task_vars.get("inventory_hostname"))
        cluster = str(variables.get("cluster_name") or "")
        try:
            model = build_model(variables, base_dir=str(task_vars.get("inventory_dir") or Path.cwd()))
        except HubModelError as error:
            rows = [problem_row(hub, cluster, "", f"inventory invalid: {error.errors[0] if error.errors else error}")]
            return {**result, "changed": False, "rows": rows, "ansible_facts": {"hub_status_rows": rows}}
        namespace = model.hub.namespace
        pins = pinned_releases(model, pinned_versions(variables)) + pinned_companions(model)
        try:
            kube = Kube.from_args(self._task.args)
            deployed = {**read_releases(kube, namespace), **read_elsewhere(kube, pins, namespace)}
        except KubeConfigError as error:
            rows = [problem_row(hub, cluster, namespace, f"cluster unreachable: {error}")]
        except (KubeError, HTTPError, OSError) as error:
            rows = [problem_row(hub, cluster, namespace, f"namespace could not be read: {error}")]
        else:
            rows = status_rows(hub, cluster or model.cluster.name, namespace, pins, deployed,
                               datetime.datetime.now(datetime.UTC))
        drifting = [row["release"] for row in rows if row["drift"]]
        message = f"hub {hub}: " + (f"differs from its inventory: {', '.join(drifting)}" if drifting
                                     else "as its inventory pins")
        return {**result, "changed": False, "msg": message, "rows": rows, "ansible_facts": {"hub_status_rows": rows}}
