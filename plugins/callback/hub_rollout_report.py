"""Callback ``hub_rollout_report``: one table of the run's releases, and reports/rollout.json.

The hub roles' ``hub_release`` tasks append each release's outcome to the host fact
``hub_rollout_releases`` (``hub_rollout_state``'s comparison of every hub, in the fact
``hub_rollout_compared``, the rows of the hubs it skips); this callback collects those facts
from the task results, adds hubs that failed before recording anything (with their error's first line), and at the end
of a ``playbooks/hub.yml`` run prints one table — hub, cluster, release, chart version,
revision before -> after, status, duration — and writes it as JSON. No values, only what
the records hold. While tasks run, it prints a ``[progress]`` line for those running long.

A hub's smoke check (the ``hub_smoke`` action: ``playbooks/hub.yml -e hub_smoke=true`` or
``playbooks/smoke.yml``) adds a row of its own: release ``smoke check``, status ``smoke passed``
or ``failed``, and a ``smoke`` field with the check's outcome (step and profile of a failure).
"""

from __future__ import annotations

DOCUMENTATION = """
name: hub_rollout_report
type: aggregate
short_description: Per-release rollout table and reports/rollout.json for playbooks/hub.yml
description:
  - Prints, at the end of a run of playbooks/hub.yml, one row per release (hub, cluster,
    release, chart version, revision before and after, changed/unchanged/failed, duration)
    and writes the same rows to reports/rollout.json beside the playbooks directory.
  - A hub's smoke check (playbooks/hub.yml with hub_smoke, or playbooks/smoke.yml) adds a row
    with release C(smoke check), status C(smoke passed) or C(failed) and a C(smoke) field.
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
  progress_interval:
    description:
      - Seconds between progress lines for tasks still running (helm waiting for a release,
        the health check); 0 turns them off.
    type: float
    default: 30
    env:
      - name: HUB_ROLLOUT_PROGRESS_INTERVAL
    ini:
      - section: hub_rollout_report
        key: progress_interval
"""

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible import context
from ansible.errors import AnsibleError
from ansible.executor.stats import AggregateStats
from ansible.executor.task_result import TaskResult
from ansible.inventory.host import Host
from ansible.playbook import Playbook
from ansible.playbook.play import Play
from ansible.playbook.task import Task
from ansible.plugins.callback import CallbackBase

COLUMNS = ("hub", "cluster", "release", "chart version", "revision", "status", "duration")
VALIDATE_PLAY = "Validate every selected hub"  # hub.yml's first play: a failed validation is reported too
DEPLOY_PLAY = "Deploy the hubs"
HANDOVER_PLAY = "Hand the rollout report to AWX and CI"  # hub.yml's last play reads what is written here
HANDOVER_VARIABLE = "_hub_rollout_report_file"  # the play variable naming the file written for it
SMOKE_PLAY = "Smoke-check the hubs"  # playbooks/smoke.yml
SMOKE_ROW = "smoke check"
SMOKE_PASSED = "smoke passed"


def chart_version(row: dict[str, Any]) -> str:
    """The row's chart version, ``before -> after`` when the run moves (or would move) the release."""
    before, after = row.get("chart_version_before") or "", row["chart_version"] or ""
    return f"{before} -> {after}" if before and after and before != after else after or "-"


def table(rows: list[dict[str, Any]]) -> str:
    """The report as an aligned text table."""
    cells = [COLUMNS] + [(r["hub"], r["cluster"], r["release"], chart_version(r),
                          "-" if r["release"] == SMOKE_ROW else f"{r['revision_before']} -> {r['revision_after']}",
                          r["status"], f"{r['duration']:.1f}s")
                         for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in cells)


def progress_line(running: dict[str, tuple[str, float]], at: float, interval: float) -> str:
    """One line naming the tasks running for longer than ``interval`` and on which hubs, or ''."""
    slow: dict[str, list[tuple[str, float]]] = {}
    for host, (task, started) in running.items():
        if at - started >= interval:
            slow.setdefault(task, []).append((host, at - started))
    parts = []
    for task, hosts in sorted(slow.items()):
        names = ", ".join(sorted(host for host, _ in hosts)[:5]) + (", ..." if len(hosts) > 5 else "")
        parts.append(f"{task}: {len(hosts)} hub(s) still running, longest {max(s for _, s in hosts):.0f}s ({names})")
    return "[progress] " + "; ".join(parts) if parts else ""


class Progress(threading.Thread):
    """Prints, every ``interval`` seconds, the tasks that have been running longer than that."""

    def __init__(self, interval: float, emit: Callable[[str], object]) -> None:
        super().__init__(daemon=True, name="hub-rollout-progress")
        self.interval, self.emit = interval, emit
        self.running: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def started(self, host: str, task: str) -> None:
        with self.lock:
            self.running[host] = (task, time.monotonic())

    def finished(self, host: str) -> None:
        with self.lock:
            self.running.pop(host, None)

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            with self.lock:
                line = progress_line(dict(self.running), time.monotonic(), self.interval)
            if line:
                self.emit(line)


def smoke_row(cluster: str, smoke: dict[str, Any]) -> dict[str, Any]:
    """The row of a hub's smoke check (the ``hub_smoke`` result's ``hub_smoke``), with the rows' keys."""
    return {"hub": str(smoke.get("hub", "")), "cluster": cluster, "release": SMOKE_ROW, "namespace": "", "chart": "",
            "chart_version": "", "revision_before": 0, "revision_after": 0,
            "status": SMOKE_PASSED if smoke.get("status") == "passed" else "failed",
            "duration": float(smoke.get("duration") or 0), "smoke": smoke}


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
        self._smoke: dict[str, dict[str, Any]] = {}
        self._errors: dict[str, str] = {}
        self._clusters: dict[str, str] = {}
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._progress: Progress | None = None
        self._play: Play | None = None

    def _start_progress(self) -> None:
        interval = float(self.get_option("progress_interval") or 0)
        if interval > 0 and self._progress is None:
            self._progress = Progress(interval, self._display.display)
            self._progress.start()

    def v2_playbook_on_start(self, playbook: Playbook) -> None:
        self._active = any(play.get_name() == VALIDATE_PLAY for play in playbook.get_plays())
        # The playbook given on the command line (the loader's base directory is the current
        # directory again once a playbook is loaded); its directory's parent is the project.
        given = list(context.CLIARGS.get("args") or [])
        self._playbook_dir = Path(given[0]).resolve().parent if given else Path.cwd()

    def v2_playbook_on_play_start(self, play: Play) -> None:
        # Playbooks that import hub.yml (site.yml, rotate.yml, molecule's converge) report too.
        self._active = self._active or play.get_name().startswith((DEPLOY_PLAY, SMOKE_PLAY))
        self._play = play
        if self._active and play.get_name() == HANDOVER_PLAY:
            # The last play hands the report so far to AWX / CI (set_stats): write it first, and
            # tell the play where (the one rule for the path is report_path()).
            play.vars[HANDOVER_VARIABLE] = str(self.write_report(self.rows()))

    def _note_cluster(self, host: Host) -> None:
        if self._play is None or host.get_name() in self._clusters:
            return
        try:
            found = self._play.get_variable_manager().get_vars(play=self._play, host=host, include_hostvars=False)
        except AnsibleError:  # e.g. a host_vars file that is not YAML: the play stops saying so
            return
        self._clusters[host.get_name()] = str(found.get("cluster_name", ""))

    def v2_runner_on_start(self, host: Host, task: Task) -> None:
        self._first.setdefault(host.get_name(), time.time())
        if self._active:
            self._note_cluster(host)
            self._start_progress()
        if self._progress is not None:
            self._progress.started(host.get_name(), task.get_name())

    def _finished(self, result: TaskResult) -> None:
        name = result.host.get_name()
        self._last[name] = time.time()
        if self._progress is not None:
            self._progress.finished(name)
        facts = result.result.get("ansible_facts") or {}
        releases = facts.get("hub_rollout_releases")
        if isinstance(releases, list):
            self._releases[name] = releases
        # hub_rollout_state's comparison of every selected hub: the rows of those it skips.
        for host, entry in (facts.get("hub_rollout_compared") or {}).items():
            if isinstance(entry, dict) and entry.get("unchanged"):
                self._releases[host] = list(entry.get("releases") or [])
                self._clusters.setdefault(host, str(entry.get("cluster", "")))
        smoke = result.result.get("hub_smoke")
        if isinstance(smoke, dict):
            self._smoke[name] = smoke

    def v2_runner_on_ok(self, result: TaskResult) -> None:
        self._finished(result)

    def v2_runner_on_skipped(self, result: TaskResult) -> None:
        self._finished(result)

    def v2_runner_on_failed(self, result: TaskResult, ignore_errors: bool = False) -> None:
        self._finished(result)
        if not ignore_errors:
            message = str(result.result.get("msg") or "failed").strip()
            self._errors[result.host.get_name()] = message.splitlines()[0][:300] if message else "failed"

    def v2_runner_on_unreachable(self, result: TaskResult) -> None:
        self._finished(result)
        self._errors[result.host.get_name()] = "unreachable"

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for hub in sorted(set(self._first) | set(self._releases)):
            duration = self._last.get(hub, time.time()) - self._first.get(hub, time.time())
            recorded = list(self._releases.get(hub, []))
            if hub in self._smoke:
                recorded.append(smoke_row(self._clusters.get(hub, ""), self._smoke[hub]))
            rows += recorded
            if hub in self._errors and not any(r["status"] == "failed" for r in recorded):
                rows.append(failed_hub_row(hub, self._clusters.get(hub, ""), self._errors[hub], duration))
            elif hub in self._errors:
                for row in recorded:
                    if row["status"] == "failed":
                        row.setdefault("error", self._errors[hub])
        return rows

    def report_path(self) -> Path:
        configured = self.get_option("report_path")
        return Path(configured) if configured else self._playbook_dir.parent / "reports" / "rollout.json"

    def v2_playbook_on_stats(self, stats: AggregateStats) -> None:
        if self._progress is not None:
            self._progress.halt.set()
        if not self._active:
            return
        rows = self.rows()
        self._display.banner("HUB ROLLOUT REPORT")
        self._display.display(table(rows) if rows else "no hub was deployed")
        self._display.display(f"report: {self.write_report(rows)}")

    def write_report(self, rows: list[dict[str, Any]]) -> Path:
        """Write the JSON report of ``rows``; its path."""
        summary = {status: sum(1 for r in rows if r["status"] == status)
                   for status in ("changed", "unchanged", "failed", "would change")}
        path = self.report_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                    "summary": summary, "releases": rows,
                                    "smoke": {status: sum(1 for r in rows if r["release"] == SMOKE_ROW
                                                          and r["smoke"].get("status") == status)
                                              for status in ("passed", "failed")}}, indent=2) + "\n")
        return path
