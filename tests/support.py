"""Helpers shared by tests: run the project's playbooks and read their recap."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# The genuine released charts, unpacked beside the repository (test data, never copied in).
SHARED_CHARTS = ROOT.parent / "shared" / "charts"

RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


@dataclass
class PlaybookRun:
    rc: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        """Per-host counters of the PLAY RECAP."""
        return {m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
                for m in RECAP.finditer(self.output)}

    def changed(self) -> int:
        return sum(host["changed"] for host in self.recap().values())


def release(hub: str, chart: str) -> str:
    """The release name a hub's chart gets by default: the hub's name for jupyterhub,
    ``<hub>-binderhub``, ``<hub>-dask-gateway`` (hub_model.release_name_default)."""
    from ansible.module_utils.hub_model import RELEASE_PREFIXES, release_name_default

    return release_name_default(hub, RELEASE_PREFIXES[chart])


def project_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.local' / 'bin'}:{VENV_BIN}:{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env.setdefault("SOPS_DISABLE_VERSION_CHECK", "1")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env.update(extra)
    return env


def run_playbook(*args: str, env: dict[str, str] | None = None, timeout: int = 900) -> PlaybookRun:
    """Run ansible-playbook from the project root; output is stdout and stderr together."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), *args],
        cwd=ROOT, env=env or project_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=timeout, check=False,
    )
    return PlaybookRun(proc.returncode, proc.stdout)


def secret_strings(value: object, min_length: int = 12) -> Iterator[str]:
    """Every string leaf of decrypted secret values long enough to be worth searching for in output."""
    if isinstance(value, dict):
        for item in value.values():
            yield from secret_strings(item, min_length)
    elif isinstance(value, list):
        for item in value:
            yield from secret_strings(item, min_length)
    elif isinstance(value, str) and len(value) >= min_length:
        yield value
