"""Run the catalog of malformed hub definitions (tests/bad_inputs/catalog.yml).

Shared by tests/test_bad_inputs.py and scripts/reliability.py. Every entry becomes a host
of one temporary inventory built from inventories/local. ``playbooks/hub.yml`` validates
all selected hubs in one ``any_errors_fatal`` play, so a run stops after the first
validate task that fails for any hub; the hubs that failed there are recorded and the
run is repeated without them until a run has no new failure. A sentinel hub that the
hub model always rejects stays in every run, so hubs that nothing catches never reach
the deploy play.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from support import ROOT, project_env, run_playbook, secret_strings

CATALOG = ROOT / "tests" / "bad_inputs" / "catalog.yml"
LOCAL = ROOT / "inventories" / "local"
DEMO_HUBS = ("staging", "research")
SENTINEL = "bad-sentinel"
MAX_RUNS = 8
# The result follows "=> " as JSON, on one line or (with -v and more) indented over several.
FAILURE_LINE = re.compile(r"^(?:fatal|failed): \[(?P<host>[^\]]+)\](?: \(item=.*?\))?:? (?:FAILED! )?=> ",
                          re.MULTILINE)
DECODER = json.JSONDecoder()
TASK_LINE = re.compile(r"^TASK \[(?P<task>[^\]]+)\]", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    id: str
    description: str
    host_vars: dict[str, Any]
    unset: list[str]
    files: dict[str, str]
    copy_files: dict[str, str]
    sops_files: dict[str, str]
    extra_hosts: dict[str, dict[str, Any]]
    expect: list[str]
    xfail: str
    # Files of the built inventory (host_vars, group_vars, hosts.yml) that `inventory_files`
    # appends to (or creates): they stop the whole run, not one hub, so such an entry runs
    # alone; its run's output must contain `expect` and none of `absent` (e.g. a secret value).
    inventory_files: dict[str, str] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"bad-{self.id}"

    def hosts(self) -> list[str]:
        return [self.host, *(f"{self.host}-{suffix}" for suffix in self.extra_hosts)]

    def fragments(self) -> list[str]:
        return [fragment.replace("{hub}", self.host) for fragment in self.expect]


@dataclass
class Failure:
    host: str
    task: str
    message: str


@dataclass
class CatalogRun:
    inventory: Path
    failures: dict[str, Failure] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    runs: int = 0


def load_catalog(path: Path = CATALOG) -> list[Entry]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Entry(id=str(item["id"]), description=str(item.get("description", "")),
                  host_vars=dict(item.get("host_vars") or {}), unset=list(item.get("unset") or []),
                  files=dict(item.get("files") or {}), copy_files=dict(item.get("copy_files") or {}),
                  sops_files=dict(item.get("sops_files") or {}),
                  extra_hosts=dict(item.get("extra_hosts") or {}), expect=[str(f) for f in item.get("expect") or []],
                  xfail=str(item.get("xfail") or ""), inventory_files=dict(item.get("inventory_files") or {}),
                  absent=[str(f) for f in item.get("absent") or []]) for item in raw]


def _substitute(value: Any, hub: str) -> Any:  # noqa: ANN401 - YAML data of any shape
    if isinstance(value, str):
        return value.replace("{hub}", hub)
    if isinstance(value, dict):
        return {_substitute(k, hub): _substitute(v, hub) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, hub) for v in value]
    return value


def _host_vars(base: dict[str, Any], host: str, overrides: dict[str, Any], unset: list[str]) -> dict[str, Any]:
    data = dict(base)
    data["hub_domain"] = f"{host}.hubs.localhost"
    data.update(_substitute(overrides, host))
    for key in unset:
        data.pop(key, None)
    return data


def _write_yaml(path: Path, data: Any) -> None:  # noqa: ANN401
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _entry_files(inventory: Path, entry: Entry) -> None:
    for rel, content in entry.files.items():
        target = inventory / rel.replace("{hub}", entry.host)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content.replace("{hub}", entry.host), encoding="utf-8")
    for rel, source in entry.copy_files.items():
        target = inventory / rel.replace("{hub}", entry.host)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_or_encrypt(ROOT / source, target)
    for rel, content in entry.sops_files.items():
        target = inventory / rel.replace("{hub}", entry.host)
        target.parent.mkdir(parents=True, exist_ok=True)
        _encrypt(content.replace("{hub}", entry.host), target)


def _copy_or_encrypt(source: Path, target: Path) -> None:
    """Copy a sops file; without one (no demo deployed yet) encrypt a dummy for the local key."""
    if source.is_file():
        shutil.copyfile(source, target)
        return
    _encrypt("jupyterhub: {hub: {services: {binder: {apiToken: dummy}}}}\n", target)


def _encrypt(plaintext: str, target: Path) -> None:
    """``plaintext`` YAML encrypted by sops for the local age key, written to ``target``."""
    env = project_env()
    key_file = env.get("SOPS_AGE_KEY_FILE", str(ROOT / ".local" / "age" / "keys.txt"))
    recipient = subprocess.run(["age-keygen", "-y", key_file], env=env, capture_output=True,
                               text=True, check=True).stdout.strip()
    out = subprocess.run(["sops", "encrypt", "--age", recipient, "--input-type", "yaml", "--output-type", "yaml",
                          "/dev/stdin"], input=plaintext, env=env, capture_output=True, text=True, check=True)
    target.write_text(out.stdout, encoding="utf-8")


def build_inventory(root: Path, entries: list[Entry]) -> Path:
    """A copy of inventories/local whose hosts are the catalog's bad hubs (and a sentinel)."""
    inventory = root / "inventory"
    shutil.copytree(LOCAL / "group_vars", inventory / "group_vars")
    for path in (inventory / "group_vars").rglob("*.yml"):
        text = path.read_text(encoding="utf-8").replace("{{ inventory_dir }}/../..", str(ROOT))
        path.write_text(text, encoding="utf-8")
    shutil.copytree(LOCAL / "values", inventory / "values")
    (inventory / "secrets").mkdir()
    shutil.copyfile(LOCAL / ".sops.yaml", inventory / ".sops.yaml")
    base = yaml.safe_load((LOCAL / "host_vars" / "staging.yml").read_text(encoding="utf-8"))
    hosts: dict[str, None] = {}
    for entry in entries:
        _write_yaml(inventory / "host_vars" / f"{entry.host}.yml",
                    _host_vars(base, entry.host, entry.host_vars, entry.unset))
        for suffix, overrides in entry.extra_hosts.items():
            _write_yaml(inventory / "host_vars" / f"{entry.host}-{suffix}.yml",
                        _host_vars(base, f"{entry.host}-{suffix}", overrides, []))
        _entry_files(inventory, entry)
        hosts.update(dict.fromkeys(entry.hosts()))
    sentinel = _host_vars(base, SENTINEL, {"hub_sentinel_unknown_variable": True}, [])
    _write_yaml(inventory / "host_vars" / f"{SENTINEL}.yml", sentinel)
    hosts[SENTINEL] = None
    groups = {"all": {"children": {"provider_local": {"children": {"cluster_local": {"hosts": hosts}}}}}}
    _write_yaml(inventory / "hosts.yml", groups)
    return inventory


PLAY_LINE = re.compile(r"^PLAY \[(?P<play>[^\]]*)\]", re.MULTILINE)


def deploy_play_ran(output: str) -> bool:
    """Whether any task of a play after the validate play (the deploy play of hub.yml) started."""
    plays = list(PLAY_LINE.finditer(output))
    later = [m for m in plays if not m["play"].startswith("Validate")]
    return bool(later) and "TASK [" in output[later[0].end():]


def parse_failures(output: str) -> dict[str, Failure]:
    """The first failure of each host in a playbook run's output, with its task."""
    tasks = [(m.start(), m["task"]) for m in TASK_LINE.finditer(output)]
    failures: dict[str, Failure] = {}
    for match in FAILURE_LINE.finditer(output):
        task = next((name for start, name in reversed(tasks) if start < match.start()), "")
        try:
            result, _ = DECODER.raw_decode(output, match.end())
        except json.JSONDecodeError:
            result = {"msg": output[match.end():match.end() + 2000]}
        message = str(result.get("msg", "")) + "".join(f"\n{e}" for e in result.get("argument_errors", []) or [])
        failures.setdefault(match["host"], Failure(match["host"], task, message))
    return failures


def _append_inventory_files(inventory: Path, entry: Entry) -> None:
    for rel, content in entry.inventory_files.items():
        target = inventory / rel.replace("{hub}", entry.host)
        target.parent.mkdir(parents=True, exist_ok=True)
        before = target.read_text(encoding="utf-8") if target.is_file() else ""
        target.write_text(before + content.replace("{hub}", entry.host), encoding="utf-8")


def run_inventory_entry(entry: Entry, workdir: Path, env: dict[str, str], *, verbose: bool = False) -> tuple[
        Failure | None, str]:
    """Run hub.yml over an inventory of this entry's hub (and the sentinel) with its broken
    inventory files: a failed run that never reached the deploy play is its rejection, with the
    run's whole output as the message."""
    inventory = build_inventory(workdir / f"inventory-{entry.id}", [entry])
    _append_inventory_files(inventory, entry)
    args = ["-i", str(inventory / "hosts.yml"), "playbooks/hub.yml", "-l", ",".join([*entry.hosts(), SENTINEL]),
            "-e", "hub_rollout_strict=true", *(["-vvv"] if verbose else [])]
    run = run_playbook(*args, env=env, timeout=900)
    if deploy_play_ran(run.output):
        raise RuntimeError(f"the deploy play ran for {entry.host}: the sentinel did not stop the run")
    return (Failure(entry.host, "(inventory)", run.output) if run.rc != 0 else None), run.output


def run_catalog(entries: list[Entry], workdir: Path, *, verbose: bool = False) -> CatalogRun:
    """Run hub.yml over the bad hubs, peeling off the hubs each run rejects; entries with broken
    inventory files run alone (they stop every hub of their run)."""
    alone = [entry for entry in entries if entry.inventory_files]
    entries = [entry for entry in entries if not entry.inventory_files]
    inventory = build_inventory(workdir, entries)
    temp = workdir / "tmp"
    temp.mkdir(exist_ok=True)
    env = project_env(TMPDIR=str(temp), ANSIBLE_LOCAL_TEMP=str(temp / "ansible"),
                      ANSIBLE_REMOTE_TEMP=str(temp / "ansible"))
    result = CatalogRun(inventory=inventory)
    for entry in alone:
        failure, output = run_inventory_entry(entry, workdir, env, verbose=verbose)
        result.outputs.append(output)
        if failure is not None:
            result.failures[entry.host] = failure
    remaining = [host for entry in entries for host in entry.hosts()]
    uncaught = {host for entry in entries if entry.xfail for host in entry.hosts()}
    while set(remaining) - uncaught and result.runs < MAX_RUNS:
        limit = ",".join([*remaining, SENTINEL])
        # Strict: the sentinel's failure stops every hub, so no bad hub the checks miss is deployed.
        args = ["-i", str(inventory / "hosts.yml"), "playbooks/hub.yml", "-l", limit, "-e", "hub_rollout_strict=true",
                *(["-vvv"] if verbose else [])]
        run = run_playbook(*args, env=env, timeout=900)
        result.runs += 1
        result.outputs.append(run.output)
        if deploy_play_ran(run.output):
            raise RuntimeError("the deploy play ran for bad hubs: the sentinel did not stop the run")
        new = {h: f for h, f in parse_failures(run.output).items() if h in remaining}
        if not new:
            break
        result.failures.update(new)
        remaining = [h for h in remaining if h not in new]
    return result


def helm_revisions() -> dict[tuple[str, str], int]:
    out = subprocess.run(["helm", "list", "-A", "-a", "-o", "json"], env=project_env(), capture_output=True, text=True,
                         check=True)
    return {(r["namespace"], r["name"]): int(r["revision"]) for r in json.loads(out.stdout)}


def namespaces() -> set[str]:
    out = subprocess.run(["kubectl", "get", "namespaces", "-o", "json"], env=project_env(), capture_output=True,
                         text=True, check=True)
    return {item["metadata"]["name"] for item in json.loads(out.stdout)["items"]}


def entry_namespaces(entry: Entry) -> set[str]:
    """Every namespace a bad hub could have created: the host names and any hub_namespace/hub_name given."""
    names = set(entry.hosts())
    for overrides in (entry.host_vars, *entry.extra_hosts.values()):
        for key in ("hub_namespace", "hub_name"):
            if isinstance(overrides.get(key), str):
                names.add(overrides[key].replace("{hub}", entry.host))
    return names


# ---------------------------------------------------------------------------------------
# Leak scan: the demo hubs' decrypted secret values must appear nowhere we can look cheaply.
# ---------------------------------------------------------------------------------------


def demo_secret_values() -> set[str]:
    """The decrypted secret values of the demo hubs (empty when none are deployed)."""
    values: set[str] = set()
    for hub in DEMO_HUBS:
        path = LOCAL / "secrets" / f"enc-{hub}.secret.values.yaml"
        if not path.is_file():
            continue
        out = subprocess.run(["sops", "decrypt", str(path)], env=project_env(), capture_output=True, text=True,
                             check=True)
        values.update(secret_strings(yaml.safe_load(out.stdout)))
    return values


def _files_with(root: Path, values: set[str]) -> list[str]:
    if not root.is_dir():
        return []
    return [str(p) for p in root.rglob("*") if p.is_file() and any(v in p.read_text(errors="replace") for v in values)]


def _configmaps_with(values: set[str]) -> list[str]:
    found = []
    for namespace in DEMO_HUBS:
        out = subprocess.run(["kubectl", "get", "configmaps", "-n", namespace, "-o", "json"], env=project_env(),
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            continue
        for item in json.loads(out.stdout)["items"]:
            text = json.dumps(item.get("data", {})) + json.dumps(item.get("binaryData", {}))
            if any(v in text for v in values):
                found.append(f"configmap {namespace}/{item['metadata']['name']}")
    return found


def leak_scan(run: CatalogRun, workdir: Path) -> list[str]:
    """Where a demo secret value was found: run outputs, the work dir, reports/, ConfigMaps."""
    values = demo_secret_values()
    if not values:
        return []
    leaks = [f"output of run {i + 1}" for i, output in enumerate(run.outputs) if any(v in output for v in values)]
    leaks += _files_with(workdir, values) + _files_with(ROOT / "reports", values)
    return leaks + _configmaps_with(values)


def check_entry(entry: Entry, run: CatalogRun) -> str:
    """'' when the entry was rejected cleanly, else what is wrong."""
    failure = run.failures.get(entry.host)
    if failure is None:
        return f"{entry.host} was not rejected by the validate play"
    missing = [f for f in entry.fragments() if f not in failure.message]
    if missing:
        return f"{entry.host} rejected at {failure.task!r} but the message lacks {missing}: {failure.message[:600]}"
    shown = [f for f in entry.absent if f.replace("{hub}", entry.host) in failure.message]
    if shown:
        return f"{entry.host} rejected at {failure.task!r} but the message shows {shown}"
    return ""
