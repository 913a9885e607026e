#!/usr/bin/python
"""Ansible module: run one long-lived process of the embedded local cluster."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: local_process
short_description: Start, stop or inspect a long-lived local process (a component of the embedded cluster)
description:
  - Starts a command in its own session with its output appended to a log file and its pid
    in a pid file, then waits until it is ready (an HTTP(S) endpoint answers or a TCP port accepts).
  - Starting a process that already runs with the same command line changes nothing. A process
    whose command line differs is restarted. A process that had died is reported with the tail of
    its log and started again.
  - Stopping sends SIGTERM to the process group, then SIGKILL after O(stop_timeout) seconds.
  - A process that dies or never becomes ready makes the task fail with the tail of its log.
options:
  name:
    description: Component name; names the pid file C(<run_dir>/<name>.pid) and log C(<run_dir>/<name>.log).
    type: str
    required: true
  argv:
    description: Command and arguments. Required for O(state=started).
    type: list
    elements: str
  state:
    description: C(started), C(stopped) or C(status).
    type: str
    choices: [started, stopped, status]
    default: started
  run_dir:
    description: Directory of the pid and log files.
    type: path
    required: true
  env:
    description: Extra environment variables for the process.
    type: dict
    default: {}
  ready_url:
    description: URL that must answer (any HTTP status) before the process counts as ready.
    type: str
  ready_tcp:
    description: C(host:port) that must accept connections before the process counts as ready.
    type: str
  ready_timeout:
    description: Seconds to wait for readiness.
    type: int
    default: 90
  stop_timeout:
    description: Seconds between SIGTERM and SIGKILL when stopping.
    type: int
    default: 15
  log_lines:
    description: Lines of the log shown when the process fails.
    type: int
    default: 25
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
"""

EXAMPLES = r"""
- name: Start etcd
  local_process:
    name: etcd
    argv: [/opt/bin/etcd, --data-dir, /var/lib/etcd]
    run_dir: /var/run/local-cluster
    ready_url: http://127.0.0.1:2379/health
"""

RETURN = r"""
pid:
  description: Process id (0 when not running).
  returned: always
  type: int
running:
  description: Whether the process runs after the task.
  returned: always
  type: bool
log:
  description: Path of the log file.
  returned: always
  type: str
log_tail:
  description: Last lines of the log when the process had crashed or is not running.
  returned: when relevant
  type: str
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url


def read_pid(pid_file: Path) -> int:
    """The recorded pid, or 0 when the file is missing or the pid now belongs to another program.

    The pid file holds the pid and the program path: a pid reused by an unrelated process
    after a crash is never signalled.
    """
    try:
        lines = pid_file.read_text().split("\n")
        pid = int(lines[0].strip())
    except (OSError, ValueError):
        return 0
    program = lines[1].strip() if len(lines) > 1 else ""
    current = cmdline(pid)
    if current is not None and program and current[0] != program:
        return 0
    return pid


def cmdline(pid: int) -> list[str] | None:
    """Command line of a live process, or None (no such process, or a zombie).

    A process is a zombie only when every one of its threads is: the thread-group
    leader alone can show state Z while other threads still run.
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    states = set()
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        # a thread that exits between the listing and the read is gone: not a sign the process is
        with contextlib.suppress(OSError, IndexError):
            states.add(stat.read_text().rsplit(")", 1)[1].split()[0])
    if not raw or states <= {"Z", "X"}:
        return None
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def log_tail(log_file: Path, lines: int) -> str:
    try:
        content = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(content[-lines:])


def url_answers(url: str) -> bool:
    """Whether a local readiness URL answers at all (any HTTP status; the local CA is not checked)."""
    try:
        with open_url(url, timeout=3, validate_certs=False):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ConnectionError):
        return False


def tcp_answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return True
    except OSError:
        return False


def is_ready(params: dict[str, Any]) -> bool:
    url_ok = not params["ready_url"] or url_answers(params["ready_url"])
    return url_ok and (not params["ready_tcp"] or tcp_answers(params["ready_tcp"]))


def spawn(argv: list[str], env: dict[str, str], log_file: Path, pid_file: Path) -> subprocess.Popen:
    full_env = dict(os.environ)
    full_env.update({k: str(v) for k, v in env.items()})
    with open(log_file, "ab") as log, open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(
            argv, stdin=devnull, stdout=log, stderr=subprocess.STDOUT,
            env=full_env, start_new_session=True, close_fds=True,
        )
    pid_file.write_text(f"{proc.pid}\n{argv[0]}\n")
    return proc


def wait_ready(module: AnsibleModule, pid: int, log_file: Path, child: subprocess.Popen | None = None) -> None:
    """Wait until the process is ready; fail with its log when it exits first.

    For a process this module started, exit is read from the child itself (poll), which
    cannot be fooled by /proc states of a live multi-threaded process.
    """
    params = module.params
    deadline = time.monotonic() + params["ready_timeout"]
    while time.monotonic() < deadline:
        exited = child.poll() is not None if child is not None else cmdline(pid) is None
        if exited:
            module.fail_json(
                msg=f"{params['name']} exited during start-up; last lines of {log_file}:\n"
                + log_tail(log_file, params["log_lines"]),
                pid=0, running=False, log=str(log_file), log_tail=log_tail(log_file, params["log_lines"]),
            )
        if is_ready(params):
            return
        time.sleep(0.5)
    module.fail_json(
        msg=f"{params['name']} was not ready after {params['ready_timeout']} s; last lines of {log_file}:\n"
        + log_tail(log_file, params["log_lines"]),
        pid=pid, running=True, log=str(log_file), log_tail=log_tail(log_file, params["log_lines"]),
    )


def send(pid: int, sig: signal.Signals) -> None:
    """Signal the process group the process leads, or the process alone when it leads none."""
    try:
        os.killpg(pid, sig)
        return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop(pid: int, timeout: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if cmdline(pid) is None:
            return
        send(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cmdline(pid) is None:
                return
            time.sleep(0.2)


def ensure_started(module: AnsibleModule, pid_file: Path, log_file: Path) -> dict[str, Any]:
    params = module.params
    if not params["argv"]:
        module.fail_json(msg=f"{params['name']}: argv is required for state=started")
    pid = read_pid(pid_file)
    current = cmdline(pid) if pid else None
    result: dict[str, Any] = {"log": str(log_file)}
    if current == params["argv"]:
        if not module.check_mode:
            wait_ready(module, pid, log_file)
        return {**result, "changed": False, "pid": pid, "running": True}
    if current is None and pid:
        tail = log_tail(log_file, params["log_lines"])
        module.warn(f"{params['name']} (pid {pid}) had stopped; restarting. Last lines of {log_file}:\n{tail}")
        result["log_tail"] = tail
    if module.check_mode:
        return {**result, "changed": True, "pid": pid, "running": current is not None}
    if current is not None:
        stop(pid, params["stop_timeout"])
    child = spawn(params["argv"], params["env"], log_file, pid_file)
    wait_ready(module, child.pid, log_file, child)
    return {**result, "changed": True, "pid": child.pid, "running": True}


def ensure_stopped(module: AnsibleModule, pid_file: Path, log_file: Path) -> dict[str, Any]:
    pid = read_pid(pid_file)
    running = bool(pid) and cmdline(pid) is not None
    result = {"log": str(log_file), "pid": 0, "running": False, "changed": running}
    if module.check_mode or not pid:
        return result
    if running:
        stop(pid, module.params["stop_timeout"])
        deadline = time.monotonic() + 5  # the last threads of a killed process may still be exiting
        while cmdline(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        if cmdline(pid) is not None:
            module.fail_json(msg=f"{module.params['name']} (pid {pid}) did not stop", **result)
    pid_file.unlink(missing_ok=True)
    return result


def status(module: AnsibleModule, pid_file: Path, log_file: Path) -> dict[str, Any]:
    pid = read_pid(pid_file)
    running = bool(pid) and cmdline(pid) is not None
    result: dict[str, Any] = {"changed": False, "pid": pid if running else 0, "running": running, "log": str(log_file)}
    if pid and not running:
        result["log_tail"] = log_tail(log_file, module.params["log_lines"])
        result["crashed"] = True
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "argv": {"type": "list", "elements": "str"},
            "state": {"type": "str", "default": "started", "choices": ["started", "stopped", "status"]},
            "run_dir": {"type": "path", "required": True},
            "env": {"type": "dict", "default": {}},
            "ready_url": {"type": "str"},
            "ready_tcp": {"type": "str"},
            "ready_timeout": {"type": "int", "default": 90},
            "stop_timeout": {"type": "int", "default": 15},
            "log_lines": {"type": "int", "default": 25},
        },
        supports_check_mode=True,
    )
    run_dir = Path(module.params["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    pid_file = run_dir / f"{module.params['name']}.pid"
    log_file = run_dir / f"{module.params['name']}.log"
    handlers = {"started": ensure_started, "stopped": ensure_stopped, "status": status}
    module.exit_json(**handlers[module.params["state"]](module, pid_file, log_file))


if __name__ == "__main__":
    main()
