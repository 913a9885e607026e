"""Helpers shared by tests: run the project's playbooks and read their recap."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
# The genuine released charts, unpacked beside the repository (test data, never copied in).
SHARED_CHARTS = ROOT.parent / "shared" / "charts"

RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


COUNTERS = ("ok", "changed", "unreachable", "failed")


class Recap(dict[str, dict[str, int]]):
    """The PLAY RECAP's counters per host; a host it does not list ran no task: zeros."""

    def __missing__(self, host: str) -> dict[str, int]:
        return dict.fromkeys(COUNTERS, 0)


@dataclass
class PlaybookRun:
    rc: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        """Per-host counters of the PLAY RECAP. A hub skipped as unchanged since its last rollout
        runs no task of its own, so the recap does not list it: it reads as all zeros."""
        return Recap({m["host"]: {k: int(m[k]) for k in COUNTERS} for m in RECAP.finditer(self.output)})

    def report_rows(self) -> list[dict[str, Any]]:
        """The rows of the rollout report the run wrote (the ``report: <path>`` line the
        hub_rollout_report callback prints last)."""
        paths = re.findall(r"^report: (\S+)$", self.output, re.MULTILINE)
        assert paths, self.output[-3000:]
        return list(json.loads(Path(paths[-1]).read_text())["releases"])

    def changed(self) -> int:
        return sum(host["changed"] for host in self.recap().values())


LOCAL_INVENTORY = ROOT / "inventories" / "local"


def local_hub_vars(host: str, **overrides: Any) -> dict[str, Any]:  # noqa: ANN401 - any variable's value
    """Host variables of a throwaway hub on the embedded cluster: the staging demo hub's, named
    ``host``, with the paths inventories/local derives from its own directory spelled out (a
    throwaway inventory lives elsewhere), then ``overrides``."""
    hub = yaml.safe_load((LOCAL_INVENTORY / "host_vars" / "staging.yml").read_text())
    hub.update(hub_domain=f"{host}.hubs.localhost", hub_charts_dir=str(SHARED_CHARTS),
               cluster_kubeconfig=str(ROOT / ".local/cluster/kubeconfig"),
               registry_ca_file=str(ROOT / ".local/cluster/pki/ca.crt"),
               registry_htpasswd_file=str(ROOT / ".local/registry/htpasswd"))
    hub.update(overrides)
    return hub


def local_inventory(directory: Path, hubs: dict[str, dict[str, Any]], values: dict[str, Any] | None = None) -> Path:
    """A throwaway inventory of ``hubs`` (host -> host variables) in inventories/local's cluster
    group, with its group variables, values files and sops rules; ``values`` adds values files
    (name under values/ -> content)."""
    shutil.copytree(LOCAL_INVENTORY / "group_vars", directory / "group_vars")
    shutil.copytree(LOCAL_INVENTORY / "values", directory / "values")
    shutil.copy(LOCAL_INVENTORY / ".sops.yaml", directory / ".sops.yaml")
    for name, content in (values or {}).items():
        (directory / "values" / name).write_text(yaml.safe_dump(content))
    (directory / "host_vars").mkdir()
    for host, variables in hubs.items():
        (directory / "host_vars" / f"{host}.yml").write_text(yaml.safe_dump(variables))
    groups = {"all": {"children": {"provider_local": {"children": {"cluster_local": {"hosts": dict.fromkeys(hubs)}}}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(groups))
    return directory


def remove_namespaces(namespaces: Iterable[str], env: dict[str, str]) -> None:
    """Uninstall every helm release of the namespaces (their cluster-scoped objects go with them),
    then delete the namespaces without waiting: a test's clean-up."""
    for namespace in namespaces:
        listed = subprocess.run(["helm", "list", "-n", namespace, "-a", "-q"], env=env, capture_output=True, text=True,
                                check=False)
        for name in listed.stdout.split():
            subprocess.run(["helm", "uninstall", name, "-n", namespace, "--wait=false"], env=env, capture_output=True,
                           check=False)
        subprocess.run(["kubectl", "delete", "namespace", namespace, "--ignore-not-found", "--wait=false"], env=env,
                       capture_output=True, check=False)


def release(hub: str, chart: str) -> str:
    """The release name a hub's chart gets by default: the hub's name for jupyterhub,
    ``<hub>-binderhub``, ``<hub>-dask-gateway`` (hub_model.release_name_default)."""
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import (
        RELEASE_PREFIXES,
        release_name_default,
    )

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
