#!/usr/bin/env python3
"""Benchmark a fleet rollout on the embedded cluster; write reports/bench.json and print a table.

    .venv/bin/python scripts/bench.py [--hubs 20] [--fleet DIR|generate] [--forks N]
                                      [--no-baseline] [--keep]
    .venv/bin/python scripts/bench.py --validate [--sizes 100,300,1000]   (scripts/bench_validate.py)

Default: generates (scripts/generate-fleet.py) one cluster "bench" of N hubs pointed at the
embedded cluster, then measures, from one run each:

1. the playbook's full rollout (``playbooks/hub.yml`` on fresh namespaces),
2. the playbook's no-op re-run (nothing changed),
3. the baseline: the way a runbook deploys, ``helm upgrade --install --wait`` release after
   release, hub after hub, with the same charts and the same values (read back from the
   playbook's releases with ``helm get values`` and fed on stdin, never written to a file)
   into namespaces of its own (``<hub namespace>-base``),
4. the baseline re-run (the same commands again: what the runbook does when nothing changed).

``full_rollout_ratio`` is (1) / (3), ``noop_ratio`` is (2) / (4). ``peak_rss_mb`` is the
largest sum of resident memory of the ansible-playbook process tree (controller, forks,
modules, helm) sampled every 0.2 s. With ``--fleet DIR`` an existing hub_fleet_config
source is deployed instead (``--fleet generate``: a 95-hub cluster and four small ones,
scripts/generate-fleet.py defaults); the per-cluster concurrency bound is then measured from
helm's release records (``createdAt``/``modifiedAt`` of each revision) and from the
toolkit's own rollout records. Namespaces made by the bench are deleted afterwards unless
``--keep``. Needs ``make cluster-up`` and ``eval "$(make -s env)"`` (``make bench`` does both).
The figures go to reports/bench.json beside those of ``--validate`` (``make bench-validate``),
which are kept; a run with ``--no-baseline`` (a fleet at scale: ``make bench HUBS=300
BENCH_ARGS=--no-baseline`` measures the no-op run of 300 deployed hubs) goes to its ``scale``
section under its number of hubs, and the ratios of the last run with the baseline stay.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_measure import (
    PROGRESS_EVERY,
    ROOT,
    Measured,
    local_age_recipient,
    merge_section,
    project_env,
    read_section,
    run_measured,
    say,
    write_report,
)

# The genuine charts the fleet deploys (hub_charts_source: directory), for the baseline too.
SHARED_CHARTS = ROOT.parent / "shared" / "charts"
RELEASE_ORDER = ("binderhub-service", "jupyterhub", "dask-gateway")  # the order the hub roles deploy
# The section of reports/bench.json that scripts/bench_validate.py writes (kept by this mode).
VALIDATE_KEY = "validate"
# Runs without the baseline (a fleet at scale, e.g. the no-op run of 300 deployed hubs) go to
# this section, per number of hubs, beside the ratios of the run with the baseline.
SCALE_KEY = "scale"


# --- the fleet under test -----------------------------------------------------------------

def generate_fleet(directory: Path, hubs: int, env: dict[str, str], big: str, small_clusters: int) -> Path:
    kubeconfig = env["KUBECONFIG"]
    cmd = [sys.executable, str(ROOT / "scripts" / "generate-fleet.py"), "--output", str(directory),
           "--big-hubs", str(hubs), "--big-name", big, "--small-clusters", str(small_clusters),
           "--local-kubeconfig", kubeconfig]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    write_sops_rules(directory, env)
    return directory / "hubs.fleet.yml"


def write_sops_rules(fleet: Path, env: dict[str, str]) -> None:
    """Let the secrets role encrypt each hub's secret values file to the local age key."""
    rules = fleet / ".sops.yaml"
    if not rules.exists():
        rules.write_text("creation_rules:\n  - path_regex: \\.secret\\.values\\.yaml$\n"
                         f"    age: {local_age_recipient(env)}\n")


def _unsafe(value: object) -> object:
    """ansible-inventory --list writes unsafe strings as {"__ansible_unsafe": ...}."""
    return value.get("__ansible_unsafe") if isinstance(value, dict) and "__ansible_unsafe" in value else value


def fleet_hubs(source: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """hub host -> {namespace, cluster, max_parallel} from ``ansible-inventory --list``."""
    proc = subprocess.run(["ansible-inventory", "-i", str(source), "--list"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    return {host: {"namespace": str(_unsafe(v.get("hub_namespace")) or _unsafe(v.get("hub_name")) or host),
                   "cluster": str(_unsafe(v.get("cluster_name", ""))),
                   "max_parallel": int(str(_unsafe(v.get("cluster_max_parallel_deploys", 5))))}
            for host, v in hostvars.items()}


def helm_json(args: list[str], env: dict[str, str]) -> object:
    proc = subprocess.run(["helm", *args, "-o", "json"], env=env, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout or "null")


def chart_of(entry: dict[str, Any]) -> str:
    """The chart name of a `helm list` entry ("chart": "<name>-<version>")."""
    return next((chart for chart in RELEASE_ORDER if str(entry["chart"]).startswith(f"{chart}-")), str(entry["chart"]))


def releases_in(namespaces: Iterable[str], env: dict[str, str]) -> list[dict[str, Any]]:
    wanted = set(namespaces)
    listed = helm_json(["list", "-A", "--max", "0"], env)
    found = [r for r in listed if r["namespace"] in wanted] if isinstance(listed, list) else []
    order = {name: index for index, name in enumerate(RELEASE_ORDER)}
    return sorted(found, key=lambda r: (r["namespace"], order.get(chart_of(r), 99)))


def delete_namespaces(namespaces: Iterable[str], env: dict[str, str]) -> None:
    names = sorted(set(namespaces))
    for start in range(0, len(names), 50):
        subprocess.run(["kubectl", "delete", "namespace", "--ignore-not-found", "--wait=false", *names[start:start + 50]],
                       env=env, check=False, stdout=subprocess.DEVNULL)


def wait_gone(namespaces: Iterable[str], env: dict[str, str], timeout: float = 300) -> None:
    names = set(namespaces)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = subprocess.run(["kubectl", "get", "namespaces", "-o", "name"], env=env, capture_output=True, text=True,
                              check=False)
        left = names & {line.split("/", 1)[1] for line in proc.stdout.split()}
        if not left:
            return
        time.sleep(2)
    raise SystemExit(f"namespaces still terminating after {timeout:.0f} s: {sorted(left)[:5]} ...")


# --- the baseline: sequential helm upgrade --install --wait --------------------------------

@dataclass
class BaselineRelease:
    name: str
    namespace: str
    chart: str
    values_yaml: str  # in memory only: holds secret values


def baseline_plan(releases: list[dict[str, Any]], env: dict[str, str]) -> list[BaselineRelease]:
    plan = []
    for release in releases:
        values = subprocess.run(["helm", "get", "values", release["name"], "-n", release["namespace"], "-o", "yaml"],
                                env=env, check=True, capture_output=True, text=True).stdout
        # Another name than the hub's release: the charts name cluster-scoped objects after it.
        plan.append(BaselineRelease(f"{release['name']}-base", f"{release['namespace']}-base",
                                    str(SHARED_CHARTS / chart_of(release)), values))
    return plan


def run_baseline(label: str, plan: list[BaselineRelease], env: dict[str, str], timeout: str) -> Measured:
    """helm upgrade --install --wait, one release after the other; values on stdin."""
    say(f"{label}: {len(plan)} releases, one after the other")
    started = time.monotonic()
    last = started
    failures = 0
    for index, release in enumerate(plan, 1):
        cmd = ["helm", "upgrade", "--install", release.name, release.chart, "--namespace", release.namespace,
               "--create-namespace", "--wait", "--timeout", timeout, "--values", "-"]
        proc = subprocess.run(cmd, env=env, input=release.values_yaml, text=True, capture_output=True, check=False)
        if proc.returncode != 0:
            failures += 1
            say(f"{label}: {release.namespace}/{release.name} failed: {proc.stderr.strip()[:300]}")
        if time.monotonic() - last >= PROGRESS_EVERY:
            last = time.monotonic()
            say(f"{label}: {last - started:.0f} s, {index}/{len(plan)} releases")
    seconds = time.monotonic() - started
    say(f"{label}: {seconds:.1f} s, {failures} failed")
    return Measured(label, round(seconds, 2), 1 if failures else 0, details={"releases": len(plan), "failed": failures})


# --- concurrency, measured ----------------------------------------------------------------

def _release_started(secret: dict[str, Any]) -> float | None:
    """When helm began this revision: ``info.last_deployed`` of the release record it keeps."""
    data = (secret.get("data") or {}).get("release")
    if not data:
        return None
    raw = base64.b64decode(base64.b64decode(data))
    record = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    stamp = ((record.get("info") or {}).get("last_deployed") or "").replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", stamp)).timestamp() if stamp else None


def release_intervals(namespaces: Iterable[str], env: dict[str, str]) -> list[dict[str, Any]]:
    """Every helm revision in the namespaces: when helm began it (the record's last_deployed)
    and when helm last wrote it (the Secret's modifiedAt label: marked deployed or failed)."""
    wanted = set(namespaces)
    proc = subprocess.run(["kubectl", "get", "secrets", "-A", "-l", "owner=helm", "-o", "json"], env=env, check=True,
                          capture_output=True, text=True)
    intervals = []
    for item in json.loads(proc.stdout)["items"]:
        meta = item["metadata"]
        labels = meta.get("labels") or {}
        started = _release_started(item) if meta["namespace"] in wanted else None
        if started is None:
            continue
        intervals.append({"namespace": meta["namespace"], "release": labels.get("name", ""),
                          "version": int(labels.get("version", 0)), "start": started,
                          "end": max(started, float(labels.get("modifiedAt", started)))})
    return intervals


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Largest number of intervals [start, end] open at one instant (ends before starts on ties)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def hub_intervals(report: Path, hubs: dict[str, dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    """cluster -> each hub's deploy interval, from reports of hub_rollout_report (start + duration)."""
    rows = json.loads(report.read_text()).get("releases", []) if report.exists() else []
    per_hub: dict[str, list[float]] = {}
    for row in rows:
        if row.get("started") and row.get("release") != "-":
            start, end = float(row["started"]), float(row["started"]) + float(row["duration"])
            span = per_hub.setdefault(row["hub"], [start, end])
            span[0], span[1] = min(span[0], start), max(span[1], end)
    by_cluster: dict[str, list[tuple[float, float]]] = {}
    for hub, (start, end) in per_hub.items():
        by_cluster.setdefault(hubs.get(hub, {}).get("cluster", "?"), []).append((start, end))
    return by_cluster


def concurrency(hubs: dict[str, dict[str, Any]], report: Path, env: dict[str, str], since: float) -> dict[str, Any]:
    """Per cluster: its bound, and the most hubs seen deploying at once by helm and by our records."""
    namespace_cluster = {v["namespace"]: v["cluster"] for v in hubs.values()}
    helm_spans: dict[str, dict[str, list[float]]] = {}
    for interval in release_intervals(namespace_cluster, env):
        if interval["start"] < since:
            continue  # revisions of earlier runs
        span = helm_spans.setdefault(namespace_cluster[interval["namespace"]], {}).setdefault(
            interval["namespace"], [interval["start"], interval["end"]])
        span[0], span[1] = min(span[0], interval["start"]), max(span[1], interval["end"])
    recorded = hub_intervals(report, hubs)
    result = {}
    for cluster in sorted({v["cluster"] for v in hubs.values()}):
        bound = max(v["max_parallel"] for v in hubs.values() if v["cluster"] == cluster)
        spans = [tuple(s) for s in helm_spans.get(cluster, {}).values()]
        result[cluster] = {
            "hubs": sum(1 for v in hubs.values() if v["cluster"] == cluster),
            "bound": bound,
            # helm's modifiedAt label has 1 s resolution: a hub ending in the second another starts may count
            "max_parallel_helm": max_overlap(spans),  # type: ignore[arg-type]
            "max_parallel_recorded": max_overlap(recorded.get(cluster, [])),
        }
    return result


# --- the run --------------------------------------------------------------------------------

def playbook(source: Path, forks: int) -> list[str]:
    return ["ansible-playbook", "-i", str(source), "playbooks/hub.yml", "--forks", str(forks)]


def ratio(numerator: Measured | None, denominator: Measured | None) -> float | None:
    if not numerator or not denominator or not denominator.seconds:
        return None
    return round(numerator.seconds / denominator.seconds, 3)


def summary_table(results: dict[str, Any]) -> str:
    runs = results["runs"]
    rows = [("measure", "seconds", "ratio", "peak RSS / PSS MiB")]
    for key, ratio_key in (("playbook_full", "full_rollout_ratio"), ("baseline_full", None),
                           ("playbook_noop", "noop_ratio"), ("baseline_rerun", None)):
        if key in runs:
            run = runs[key]
            rows.append((key, f"{run['seconds']:.1f}", str(results.get(ratio_key, "")) if ratio_key else "",
                         f"{run['peak_rss_mb']:.0f} / {run['peak_pss_mb']:.0f}" if run["peak_rss_mb"] else "-"))
    rows.append(("overhead per hub (s)", str(results.get("overhead_per_hub_s", "-")), "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for cluster, seen in (results.get("concurrency") or {}).items():
        lines.append(f"cluster {cluster}: {seen['hubs']} hubs, bound {seen['bound']}, at once: "
                     f"{seen['max_parallel_recorded']} (rollout records), {seen['max_parallel_helm']} "
                     "(helm revision times)")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hubs", type=int, default=20, help="hubs of the generated bench cluster (default 20)")
    parser.add_argument("--fleet", help="a hub_fleet_config source or directory to deploy, or 'generate'")
    parser.add_argument("--forks", type=int, default=0, help="ansible forks (default: number of hubs, at most 50)")
    parser.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=None,
                        help="run the sequential helm baseline (default: on, off with --fleet)")
    parser.add_argument("--noop", action=argparse.BooleanOptionalAction, default=True,
                        help="measure the no-op re-run too (default: on)")
    parser.add_argument("--keep", action="store_true", help="keep the namespaces and the work directory")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench.json")
    parser.add_argument("--validate", action="store_true",
                        help="measure playbooks/validate.yml instead (bench.py --validate --help)")
    args = parser.parse_args(argv)
    if args.hubs < 1:
        parser.error("--hubs must be at least 1")
    if args.baseline is None:
        args.baseline = not args.fleet
    return args


def fleet_source(args: argparse.Namespace, work: Path, env: dict[str, str]) -> Path:
    if not args.fleet:
        return generate_fleet(work / "fleet", args.hubs, env, "bench", 0)
    if args.fleet == "generate":
        return generate_fleet(work / "fleet", 95, env, "big", 4)
    source = Path(args.fleet).resolve()
    return source if source.is_file() else source / "hubs.fleet.yml"


def main(argv: list[str]) -> int:
    if "--validate" in argv:  # the validation benchmark: no cluster, generated fleets of several sizes
        import bench_validate

        return bench_validate.main([arg for arg in argv if arg != "--validate"])
    args = parse_args(argv)
    env = project_env()
    args.report.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / ".local"))
    source = fleet_source(args, work, env)
    hubs = fleet_hubs(source, env)
    namespaces = [v["namespace"] for v in hubs.values()]
    forks = args.forks or min(max(len(hubs), 5), 50)
    say(f"{len(hubs)} hubs on {len({v['cluster'] for v in hubs.values()})} cluster(s), forks {forks}, work {work}")
    base_namespaces = [f"{ns}-base" for ns in namespaces]
    delete_namespaces(namespaces + base_namespaces, env)
    wait_gone(namespaces + base_namespaces, env)
    runs: dict[str, Measured] = {}
    rollout_report = work / "rollout.json"
    env["HUB_ROLLOUT_REPORT"] = str(rollout_report)
    try:
        since = time.time()
        runs["playbook_full"] = run_measured("playbook full rollout", playbook(source, forks), env,
                                             work / "playbook-full.log")
        seen = concurrency(hubs, rollout_report, env, since)
        shutil.copy(rollout_report, work / "rollout-full.json")
        if args.noop:
            runs["playbook_noop"] = run_measured("playbook no-op re-run", playbook(source, forks),
                                                 env, work / "playbook-noop.log")
            runs["playbook_noop"].details = noop_details(rollout_report)
        if args.baseline:
            plan = baseline_plan(releases_in(namespaces, env), env)
            runs["baseline_full"] = run_baseline("baseline install", plan, env, "5m0s")
            runs["baseline_rerun"] = run_baseline("baseline re-run", plan, env, "5m0s")
            del plan
    finally:
        if not args.keep:
            delete_namespaces(namespaces + base_namespaces, env)
    results = results_document(args, hubs, forks, runs, seen)
    if args.baseline:
        write_report(args.report, results, keep=(VALIDATE_KEY, SCALE_KEY))
    else:
        merge_section(args.report, SCALE_KEY, {**read_section(args.report, SCALE_KEY), str(len(hubs)): results})
    print(summary_table(results))
    say(f"report: {args.report}")
    if not args.keep:
        copy_logs(work, args.report.parent)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(run.rc == 0 for run in runs.values()) else 1


def noop_details(report: Path) -> dict[str, Any]:
    rows = json.loads(report.read_text()).get("releases", []) if report.exists() else []
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {"release_statuses": statuses}


def copy_logs(work: Path, reports: Path) -> None:
    for log in work.glob("*.log"):
        shutil.copy(log, reports / f"bench-{log.name}")


def results_document(args: argparse.Namespace, hubs: dict[str, Any], forks: int, runs: dict[str, Measured],
                     seen: dict[str, Any]) -> dict[str, Any]:
    full, noop = runs.get("playbook_full"), runs.get("playbook_noop")
    base, rerun = runs.get("baseline_full"), runs.get("baseline_rerun")
    return {
        "hubs": len(hubs),
        "clusters": len({v["cluster"] for v in hubs.values()}),
        "fleet": args.fleet or "generated",
        "forks": forks,
        "cpus": os.cpu_count(),
        "full_rollout_ratio": ratio(full, base),
        "noop_ratio": ratio(noop, rerun),
        "noop_ratio_vs_baseline_install": ratio(noop, base),
        # the toolkit's own cost per hub: a run with no helm upgrade to do, divided by the hubs
        "overhead_per_hub_s": round(noop.seconds / len(hubs), 3) if noop else None,
        "extra_per_hub_vs_baseline_s": round((full.seconds - base.seconds) / len(hubs), 2) if full and base else None,
        "peak_rss_mb": max((r.peak_rss_mb for r in runs.values()), default=0.0),
        # RSS summed over the tree counts the pages the forked workers share once per process (an
        # upper bound); PSS shares them out (what the tree really occupies).
        "peak_pss_mb": max((r.peak_pss_mb for r in runs.values()), default=0.0),
        "peak_controller_rss_mb": max((r.peak_controller_rss_mb for r in runs.values()), default=0.0),
        "concurrency": seen,
        "runs": {key: asdict(run) for key, run in runs.items()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
