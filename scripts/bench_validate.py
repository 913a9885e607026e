"""Benchmark the validation of whole fleets (playbooks/validate.yml); merge the figures into reports/bench.json.

    .venv/bin/python scripts/bench.py --validate [--sizes 100,300,1000] [--hubs-per-cluster 20]
                                                 [--image-building-share 0.25] [--keep]

For each size N, scripts/generate-fleet.py writes a fleet of the real fleets' shape: N hubs
over ceil(N / 20) clusters (50 at 1,000 hubs) of four providers, a staging hub per cluster,
every tenth hub a daskhub, a quarter of the hubs building images (said by their values files,
the umbrella chart's way), the others not; each hub with its common and own values files and
its own sops-encrypted secret values file (to the local age key, holding its OAuth client
secret), GitHub login, a quay.io registry, the genuine charts of ../shared/charts. Then, one run
each:

1. ``ansible-inventory -i <fleet> --list``: the fleet inventory plugin and Ansible's variables;
2. ``ansible-playbook -i <fleet> playbooks/validate.yml`` with a JSON report: every hub must pass.

Per size: wall seconds and seconds per hub, the CPU time of the process tree (user + system,
sops included), peak resident memory of the process tree (RSS summed and PSS, sampled every
0.5 s) and of the controller alone. Written to the ``validate`` key of reports/bench.json (the
rollout figures there are kept). Needs no cluster; ``make bench-validate`` runs it. Generating
the fleets (one sops process per hub) takes longer than validating them and is not measured.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from bench_measure import ROOT, local_age_recipient, merge_section, project_env, run_measured, say

SHARED_CHARTS = ROOT.parent / "shared" / "charts"
# The key of reports/bench.json this writes; every other key is the rollout benchmark's (scripts/bench.py).
VALIDATE_KEY = "validate"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,300,1000", help="fleet sizes in hubs (default 100,300,1000)")
    parser.add_argument("--hubs-per-cluster", type=int, default=20, help="hubs per cluster (default 20)")
    parser.add_argument("--image-building-share", type=float, default=0.25,
                        help="share of the hubs that build images (default 0.25)")
    parser.add_argument("--keep", action="store_true", help="keep the generated fleets and logs (.local/bench-*)")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench.json")
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(size) for size in args.sizes.split(",") if size.strip()})
    except ValueError:
        parser.error("--sizes takes hub counts separated by commas, e.g. 100,300,1000")
    if not args.sizes or min(args.sizes) < 1 or args.hubs_per_cluster < 1:
        parser.error("sizes and --hubs-per-cluster must be positive")
    return args


def generate(directory: Path, hubs: int, clusters: int, share: float, env: dict[str, str]) -> Path:
    """A fleet of the real fleets' shape, with its secret files; its inventory source."""
    say(f"generating {hubs} hubs on {clusters} clusters (one sops process per hub; not measured)")
    started = time.monotonic()
    cmd = [sys.executable, str(ROOT / "scripts" / "generate-fleet.py"), "--output", str(directory),
           "--hubs", str(hubs), "--clusters", str(clusters), "--image-building-share", str(share),
           "--age-recipient", local_age_recipient(env), "--charts-dir", str(SHARED_CHARTS)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    say(f"generated in {time.monotonic() - started:.0f} s")
    return directory / "hubs.fleet.yml"


def building_hubs(fleet: Path) -> int:
    """Hubs whose own values file switches BinderHub on (the generator's image-building hubs)."""
    found = 0
    for path in fleet.glob("config/clusters/*/*.values.yaml"):
        if path.name.startswith("enc-") or path.name == "common.values.yaml":
            continue
        section = (yaml.safe_load(path.read_text()) or {}).get("binderhub-service") or {}
        found += section.get("enabled") is True
    return found


def measure_size(hubs: int, args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, Any]:
    clusters = math.ceil(hubs / args.hubs_per_cluster)
    source = generate(work / f"fleet-{hubs}", hubs, clusters, args.image_building_share, env)
    inventory = run_measured(f"ansible-inventory --list, {hubs} hubs",
                             ["ansible-inventory", "-i", str(source), "--list", "--output", str(work / f"inv-{hubs}.json")],
                             env, work / f"inventory-{hubs}.log")
    report = work / f"validate-{hubs}.json"
    validate = run_measured(f"validate.yml, {hubs} hubs",
                            ["ansible-playbook", "-i", str(source), "playbooks/validate.yml",
                             "-e", f"hub_validate_report={report}"], env, work / f"validate-{hubs}.log")
    outcome = json.loads(report.read_text()) if report.is_file() else {}
    summary = outcome.get("summary", {})
    if validate.rc != 0 or summary.get("passed") != hubs:
        say(f"validate.yml, {hubs} hubs: {summary} (exit {validate.rc}); see {validate.log}")
    return {
        "hubs": hubs, "clusters": clusters,
        "building_hubs": building_hubs(work / f"fleet-{hubs}"),
        "seconds": validate.seconds,
        "seconds_per_hub": round(validate.seconds / hubs, 4),
        "cpu_seconds": validate.cpu_seconds,
        "cpu_seconds_per_hub": round(validate.cpu_seconds / hubs, 4),
        "check_task_seconds": outcome.get("seconds"),  # the hub_validate task alone, as it measured itself
        "peak_rss_mb": validate.peak_rss_mb, "peak_pss_mb": validate.peak_pss_mb,
        "peak_controller_rss_mb": validate.peak_controller_rss_mb,
        "passed": summary.get("passed"), "rc": validate.rc,
        "inventory_list_seconds": inventory.seconds, "inventory_list_cpu_seconds": inventory.cpu_seconds,
        "inventory_list_peak_rss_mb": inventory.peak_rss_mb,
        "runs": {"inventory": asdict(inventory), "validate": asdict(validate)},
    }


def load_average() -> list[float]:
    return [round(load, 2) for load in os.getloadavg()]


def summary_table(sizes: list[dict[str, Any]]) -> str:
    rows = [("hubs", "clusters", "validate s", "s/hub", "CPU s/hub", "peak RSS / PSS MiB", "inventory --list s")]
    rows += [(str(s["hubs"]), str(s["clusters"]), f"{s['seconds']:.1f}", f"{s['seconds_per_hub']:.3f}",
              f"{s['cpu_seconds_per_hub']:.3f}", f"{s['peak_rss_mb']:.0f} / {s['peak_pss_mb']:.0f}",
              f"{s['inventory_list_seconds']:.1f}") for s in sizes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    env = project_env()
    (ROOT / ".local").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-validate-", dir=ROOT / ".local"))
    say(f"sizes {args.sizes}, {os.cpu_count()} CPUs, load average {load_average()}, work {work}")
    sizes: list[dict[str, Any]] = []
    try:
        for hubs in args.sizes:
            before = load_average()
            sizes.append({**measure_size(hubs, args, work, env), "load_average_before": before})
    finally:
        if not args.keep:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.copy(log, args.report.parent / f"bench-{log.name}")
            shutil.rmtree(work, ignore_errors=True)
    figures = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "fleet": {"hubs_per_cluster": args.hubs_per_cluster, "image_building_share": args.image_building_share,
                  "charts": str(SHARED_CHARTS), "secret_values_file_per_hub": True},
        "sizes": sizes,
    }
    merge_section(args.report, VALIDATE_KEY, figures)
    print(summary_table(sizes))
    say(f"report: {args.report} (key {VALIDATE_KEY!r})")
    return 0 if all(size["rc"] == 0 and size["passed"] == size["hubs"] for size in sizes) else 1
