"""Action plugin ``hub_validate``: every check of every selected hub in one task, every problem reported.

Runs once (``run_once: true`` in ``playbooks/validate.yml``) on the controller. Each host of
``hosts`` is read as the roles would see it (``plugin_utils/hub_inputs.py``) and checked by
``plugin_utils/hub_validation.py``.

Changes nothing: no file is written (but the optional JSON ``report``), nothing is encrypted, no
cluster or registry is contacted. The result holds, per host, its status and problem messages;
no decrypted value is in it or in any message.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.filter.hub_duplicates import hub_duplicates
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_inputs import HostView, InputsReader
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_preflight import helm_resolver
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_validation import (
    report_document,
    summary_lines,
    validate_hubs,
)

ARGS = ("hosts", "report", "require_decrypt", "workers", "helm")


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._templar.template(self._task.args.get(key)) for key in ARGS}
        hosts = [str(host) for host in args["hosts"] or []]
        started = time.monotonic()
        reader = InputsReader(self._loader, self._templar, task_vars["hostvars"])
        contexts = {host: reader.context(host) for host in hosts}
        # reads each host's variables in its context (below)
        duplicates = hub_duplicates(hosts, {host: HostView(context) for host, context in contexts.items()})
        inputs = [reader.inputs(contexts[host], duplicates) for host in hosts]
        reports = validate_hubs(inputs, helm_resolver(str(args["helm"] or "helm")), workers=int(args["workers"] or 0),
                                require_decrypt=boolean(args["require_decrypt"] or False, strict=False))
        reports.sort(key=lambda report: report.host)
        document = report_document(reports, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        document["seconds"] = round(time.monotonic() - started, 2)
        if args["report"]:
            path = Path(str(args["report"])).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            document["report"] = str(path)
        failed = [report.host for report in reports if report.problems]
        return {**result, "changed": False, "summary": summary_lines(reports), "failed_hubs": failed,
                "hubs": {report.host: report.to_dict() for report in reports},
                "totals": document["summary"], "seconds": document["seconds"], "report": document.get("report", "")}
