"""Action plugin ``hub_objects``: apply a hub's plain Kubernetes objects (server-side apply).

The objects the charts do not make (an NFS home share's PersistentVolume and claim) are
applied with the field manager ``imagebuilding-hubs``: one request each, ``changed`` when the
object was created or its stored version moved. Check mode applies as a dry run
(``dryRun=All``), so it says the truth about what would change; ``--diff`` shows the fields
applied before and after.
"""

from __future__ import annotations

from typing import Any

import yaml
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_objects import apply_object
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, KubeConfigError, KubeError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from urllib3.exceptions import HTTPError


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(("objects", "hub", *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp, task_vars
        objects = self._task.args.get("objects") or []
        hub = self._task.args.get("hub") or ""
        if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
            return {**result, "failed": True, "msg": f"hub {hub}: hub_objects: objects must be a list of mappings"}
        applied, diffs = [], []
        try:
            kube = Kube.from_args(self._task.args)
        except KubeConfigError as error:
            return {**result, "failed": True, "msg": f"hub {hub}: {error}"}
        try:
            for body in objects:
                outcome = apply_object(kube, body, dry_run=self._task.check_mode)
                applied.append({"object": outcome.label, "changed": outcome.changed})
                if outcome.changed and self._task.diff:
                    diffs.append({"before_header": outcome.label, "after_header": outcome.label,
                                  "before": yaml.safe_dump(outcome.before), "after": yaml.safe_dump(outcome.after)})
        except (KubeError, ValueError) as error:
            return {**result, "failed": True, "applied": applied,
                    "msg": f"hub {hub}: could not apply {body.get('kind')}/{(body.get('metadata') or {}).get('name')}: "
                           f"{error}{': ' + error.body[:500] if isinstance(error, KubeError) else ''}"}
        except HTTPError as error:
            return {**result, "failed": True,
                    "msg": f"hub {hub}: the cluster's API server cannot be reached ({kube.access.describe()}): {error}"}
        changed = any(item["changed"] for item in applied)
        return {**result, "changed": changed, "applied": applied, **({"diff": diffs} if diffs else {})}
