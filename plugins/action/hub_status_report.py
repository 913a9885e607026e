"""Action plugin ``hub_status_report``: the fleet's version map from every hub's rows
(``hub_status``): a table to show and a JSON file (``plugin_utils/hub_status.py``).

The file is this command's output, like the rollout report: writing it changes nothing the
toolkit manages, so the task reports ``changed: false``.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import fleet_summary, status_table


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(("rows", "path"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp, task_vars
        rows = self._task.args.get("rows") or []
        if not isinstance(rows, list) or not all(isinstance(row, dict) and "hub" in row for row in rows):
            return {**result, "failed": True, "msg": "rows: expected the hub_status rows of the hubs (a list)"}
        rows = sorted(rows, key=lambda row: (str(row["cluster"]), str(row["hub"])))
        summary = fleet_summary(rows)
        report = {"generated_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "summary": summary, "releases": rows}
        target = Path(str(self._task.args.get("path") or "reports/status.json")).expanduser()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as error:
            return {**result, "failed": True, "msg": f"the version map could not be written to {target}: {error}"}
        table = status_table(rows)
        return {**result, "changed": False, "path": str(target), "summary": summary, "table": table.splitlines(),
                "msg": f"{summary['hubs']} hub(s), {summary['releases']} release(s), {summary['drifting']} differing "
                       f"from the inventory; written to {target}"}
