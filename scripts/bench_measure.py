"""What scripts/bench.py and scripts/bench_validate.py measure with: a command's wall time, the
CPU time of its process tree, and the peak resident memory of that tree (sampled from /proc);
the project's environment; reports/bench.json, each mode's figures merged into it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
PROGRESS_EVERY = 30.0


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (Ansible's forked workers share most) divided among their users."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_memory_kb(root: int) -> tuple[int, int, int]:
    """(RSS summed over the process tree under ``root``, PSS summed over it, RSS of ``root`` alone), in KiB."""
    children = _children_map()
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        rss, pss = rss + _rss_kb(pid), pss + _pss_kb(pid)
        stack.extend(children.get(pid, []))
    return rss, pss, _rss_kb(root)


class RssSampler(threading.Thread):
    """Samples a process tree's resident memory until stopped; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_tree_kb = self.peak_pss_kb = self.peak_main_kb = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            tree, pss, main = tree_memory_kb(self.pid)
            self.peak_tree_kb, self.peak_main_kb = max(self.peak_tree_kb, tree), max(self.peak_main_kb, main)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Measured:
    label: str
    seconds: float
    rc: int
    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0
    peak_controller_rss_mb: float = 0.0
    log: str = ""
    cpu_seconds: float = 0.0  # user + system time of the whole process tree (every process waited for)
    details: dict[str, Any] = field(default_factory=dict)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_measured(label: str, cmd: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run a command with its output in ``log``; progress every 30 s; wall time and peak memory."""
    say(f"{label}: {' '.join(cmd[:4])} ... (log: {log.relative_to(ROOT)})")
    started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = RssSampler(proc.pid)
        sampler.start()
        while proc.poll() is None:
            try:
                proc.wait(timeout=PROGRESS_EVERY)
            except subprocess.TimeoutExpired:
                say(f"{label}: {time.monotonic() - started:.0f} s, {_last_task(log)}")
        sampler.stop()
    seconds, after = time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    say(f"{label}: {seconds:.1f} s ({cpu:.1f} s of CPU), exit {proc.returncode}")
    return Measured(label, round(seconds, 2), proc.returncode, round(sampler.peak_tree_kb / 1024, 1),
                    round(sampler.peak_pss_kb / 1024, 1), round(sampler.peak_main_kb / 1024, 1),
                    str(log.relative_to(ROOT)), cpu_seconds=round(cpu, 2))


def _last_task(log: Path) -> str:
    tasks = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("TASK [")]
    return tasks[-1].rstrip("* ") if tasks else "starting"


def local_age_recipient(env: dict[str, str]) -> str:
    """The public key of the local age key (make age-key)."""
    key_file = Path(env.get("SOPS_AGE_KEY_FILE") or ROOT / ".local" / "age" / "keys.txt")
    for line in key_file.read_text().splitlines():
        if line.startswith("# public key: "):
            return line.split(": ", 1)[1].strip()
    raise SystemExit(f"no public key in {key_file}: run make age-key")


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.local' / 'bin'}:{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    env.setdefault("KUBECONFIG", str(ROOT / ".local" / "cluster" / "kubeconfig"))
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "SOPS_DISABLE_VERSION_CHECK": "1"})
    return env


def write_report(path: Path, update: dict[str, Any], keep: tuple[str, ...] = ()) -> None:
    """Write ``update`` to the JSON report at ``path``, keeping the keys ``keep`` of what is there
    (one mode's figures never erase another's); an unreadable report is replaced."""
    try:
        current = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        current = {}
    kept = {key: current[key] for key in keep if isinstance(current, dict) and key in current}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**update, **kept}, indent=2) + "\n")


def read_section(path: Path, key: str) -> dict[str, Any]:
    """One section of the JSON report at ``path`` ({} when there is none or it is unreadable)."""
    try:
        current = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    section = current.get(key) if isinstance(current, dict) else None
    return section if isinstance(section, dict) else {}


def merge_section(path: Path, key: str, value: object) -> None:
    """Set one key of the JSON report at ``path``, keeping every other (another mode's figures)."""
    try:
        current = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        current = {}
    write_report(path, {**(current if isinstance(current, dict) else {}), key: value})
