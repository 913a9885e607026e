"""Callback ``hub_rollout_report``: one table of the run's releases, and reports/rollout.json.

The hub roles' ``hub_release_state`` tasks (mode ``record``) append each release's outcome
to the host fact ``hub_rollout_releases``; this callback collects those facts from the task
results, adds hubs that failed before recording anything (with their error's first line),
and at the end of a ``playbooks/hub.yml`` run prints one table — hub, cluster, release,
chart version, revision before -> after, status, duration — and writes it as JSON.
No values, only what the records hold (the helm tasks are ``no_log``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ansible.executor.stats import AggregateStats
from ansible.executor.task_result import TaskResult
from ansible.inventory.host import Host
from ansible.playbook import Playbook
from ansible.playbook.play import Play
from ansible.playbook.task import Task
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: hub_rollout_report
type: aggregate
short_description: Per-release rollout table and reports/rollout.json for playbooks/hub.yml
description:
  - Prints, at the end of a run of playbooks/hub.yml, one row per release (hub, cluster,
    release, chart version, revision before and after, changed/unchanged/failed, duration)
    and writes the same rows to reports/rollout.json beside the playbooks directory.
requirements:
  - enabled in callbacks_enabled
options:
  report_path:
    description: Where the JSON report is written; default reports/rollout.json of the project.
    env:
      - name: HUB_ROLLOUT_REPORT
    ini:
      - section: hub_rollout_report
        key: report_path
"""

COLUMNS = ("hub", "cluster", "release", "chart version", "revision", "status", "duration")
PLAYBOOKS = ("hub.yml",)
DEPLOY_PLAY = "Deploy the hubs"


def table(rows: list[dict[str, Any]]) -> str:
    """The report as an aligned text table."""
    cells = [COLUMNS] + [(r["hub"], r["cluster"], r["release"], r["chart_version"] or "-",
                          f"{r['revision_before']} -> {r['revision_after']}", r["status"], f"{r['duration']:.1f}s")
                         for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in cells)


def failed_hub_row(hub: str, cluster: str, error: str, duration: float) -> dict[str, Any]:
    return {"hub": hub, "cluster": cluster, "release": "-", "namespace": "", "chart": "", "chart_version": "",
            "revision_before": 0, "revision_after": 0, "status": "failed", "duration": round(duration, 1),
            "error": error}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "hub_rollout_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._active = False
        self._playbook_dir = Path.cwd()
        self._releases: dict[str, list[dict[str, Any]]] = {}
        self._errors: dict[str, str] = {}
        self._clusters: dict[str, str] = {}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def v2_playbook_on_start(self, playbook: Playbook) -> None:
        path = Path(playbook._file_name).resolve()
        self._active = path.name in PLAYBOOKS
        self._playbook_dir = path.parent

    def v2_playbook_on_play_start(self, play: Play) -> None:
        # Playbooks that import hub.yml (site.yml, rotate.yml, molecule's converge) report too.
        self._active = self._active or play.get_name().startswith(DEPLOY_PLAY)
        if not self._active:
            return
        manager = play.get_variable_manager()
        for host in manager._inventory.get_hosts(play.hosts):
            if host.name not in self._clusters:
                cluster = manager.get_vars(play=play, host=host, include_hostvars=False).get("cluster_name", "")
                self._clusters[host.name] = str(cluster)

    def v2_runner_on_start(self, host: Host, task: Task) -> None:
        self._first.setdefault(host.get_name(), time.time())

    def _finished(self, result: TaskResult) -> None:
        name = result._host.get_name()
        self._last[name] = time.time()
        releases = (result._result.get("ansible_facts") or {}).get("hub_rollout_releases")
        if isinstance(releases, list):
            self._releases[name] = releases

    def v2_runner_on_ok(self, result: TaskResult) -> None:
        self._finished(result)

    def v2_runner_on_skipped(self, result: TaskResult) -> None:
        self._finished(result)

    def v2_runner_on_failed(self, result: TaskResult, ignore_errors: bool = False) -> None:
        self._finished(result)
        if not ignore_errors:
            message = str(result._result.get("msg") or "failed").strip()
            self._errors[result._host.get_name()] = message.splitlines()[0][:300] if message else "failed"

    def v2_runner_on_unreachable(self, result: TaskResult) -> None:
        self._finished(result)
        self._errors[result._host.get_name()] = "unreachable"

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for hub in sorted(set(self._first) | set(self._releases)):
            duration = self._last.get(hub, time.time()) - self._first.get(hub, time.time())
            recorded = self._releases.get(hub, [])
            rows += recorded
            if hub in self._errors and not any(r["status"] == "failed" for r in recorded):
                rows.append(failed_hub_row(hub, self._clusters.get(hub, ""), self._errors[hub], duration))
            elif hub in self._errors:
                for row in recorded:
                    if row["status"] == "failed":
                        row.setdefault("error", self._errors[hub])
        return rows

    def report_path(self) -> Path:
        configured = os.environ.get("HUB_ROLLOUT_REPORT")
        return Path(configured) if configured else self._playbook_dir.parent / "reports" / "rollout.json"

    def v2_playbook_on_stats(self, stats: AggregateStats) -> None:
        if not self._active:
            return
        rows = self.rows()
        self._display.banner("HUB ROLLOUT REPORT")
        self._display.display(table(rows) if rows else "no hub was deployed")
        summary = {status: sum(1 for r in rows if r["status"] == status)
                   for status in ("changed", "unchanged", "failed", "would change")}
        path = self.report_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                    "summary": summary, "releases": rows}, indent=2) + "\n")
        self._display.display(f"report: {path}")
