"""The CI rollout example (docs/examples/github-actions/hubs.yml):

- actionlint (the pinned build of tools/actionlint, as `make lint` runs it) passes on it, and
  fails on a copy with a deliberate error, naming the error;
- it runs only what this repository has: playbooks, scripts, make targets, Go tool modules,
  extra variables the playbooks read, the report files they write; no `${{ }}` inside a script;
- its plan job, run step by step as the runner would (bash, $GITHUB_OUTPUT, $RUNNER_TEMP) on the
  sample fleet, gives one job per cluster: every cluster and hub when every file counts as
  changed, none for a pull request that changes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import ROOT, project_env

WORKFLOW = ROOT / "docs" / "examples" / "github-actions" / "hubs.yml"
FLEET_SOURCE = "tests/data/fleet/hubs.fleet.yml"
FLEET_CLUSTERS = {
    "3-fjord": (["3-fjord-staging"], ["3-fjord-prod"]),
    "aks-coral": (["aks-coral-staging"], ["aks-coral-bio"]),
    "eks-bering": (["eks-bering-bering-staging"], ["eks-bering-course", "eks-bering-glacier"]),
    "gke-atlas": (["gke-atlas-atlas-staging"], ["gke-atlas-climate", "gke-atlas-ocean"]),
    "onprem-delta": ([], ["onprem-delta-delta-binder"]),
}


def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def run_scripts(document: dict[str, Any]) -> list[str]:
    return [step["run"] for job in document["jobs"].values() for step in job["steps"] if "run" in step]


@pytest.fixture(scope="module")
def actionlint() -> Path:
    """The pinned actionlint, built (or found in the cache) as `make lint` does."""
    if shutil.which("go", path=project_env()["PATH"]) is None:
        pytest.skip("go is not on PATH: scripts/build-tools.sh cannot build actionlint")
    proc = subprocess.run([str(ROOT / "scripts" / "build-tools.sh"), "actionlint"], cwd=ROOT, env=project_env(),
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return ROOT / ".local" / "bin" / "actionlint"


def lint(actionlint: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(actionlint), "-shellcheck=", "-pyflakes=", "-no-color", str(path)], cwd=ROOT,
                          env=project_env(), capture_output=True, text=True, timeout=120, check=False)


def test_actionlint_is_the_pinned_version(actionlint: Path) -> None:
    pinned = re.search(r"^require github\.com/rhysd/actionlint v(\S+)$",
                       (ROOT / "tools" / "actionlint" / "go.mod").read_text(), re.MULTILINE)
    assert pinned
    proc = subprocess.run([str(actionlint), "-version"], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.splitlines()[0] == pinned.group(1)


def test_actionlint_passes_on_the_example(actionlint: Path) -> None:
    proc = lint(actionlint, WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_actionlint_names_a_deliberate_error(actionlint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "hubs.yml"
    text = WORKFLOW.read_text()
    assert "    needs: [plan, staging]\n" in text
    broken.write_text(text.replace("    needs: [plan, staging]\n", "    needs: [plan, stagign]\n"))
    proc = lint(actionlint, broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'job "production" needs job "stagign" which does not exist in this workflow [job-needs]' in proc.stdout


def test_no_expression_inside_a_script() -> None:
    """Values reach the scripts as environment variables (no injection through a branch name or a title)."""
    assert not [script for script in run_scripts(workflow()) if "${{" in script]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def test_the_example_runs_only_what_this_repository_has() -> None:
    text = WORKFLOW.read_text()
    scripts = "\n".join(run_scripts(workflow()))
    for playbook in set(re.findall(r"playbooks/[\w.-]+\.yml", text)):
        assert (ROOT / playbook).is_file(), playbook
    for script in set(re.findall(r"scripts/[\w.-]+", scripts)):
        assert os.access(ROOT / script, os.X_OK), script
    for target in re.findall(r"\bmake ([a-z-]+)", scripts):
        assert target in make_targets(), f"make {target}"
    for modules in re.findall(r"scripts/build-tools\.sh ([\w -]+)", scripts):
        for module in modules.split():
            assert (ROOT / "tools" / module / "go.mod").is_file(), module
    for pattern in re.findall(r"hashFiles\(([^)]*)\)", text):
        for path in re.findall(r"'([^']+)'", pattern):
            assert list(ROOT.glob(path)), path
    for path in re.findall(r"go-version-file: (\S+)", text):
        assert (ROOT / path).is_file(), path
    hub = (ROOT / "playbooks" / "hub.yml").read_text()
    for variable in set(re.findall(r"-e (\w+)=", scripts)):
        assert variable in hub, f"playbooks/hub.yml does not read {variable}"
    affected = (ROOT / "playbooks" / "affected.yml").read_text()
    for report in ("reports/affected.json", "reports/affected.limit"):
        assert report in text and report.removeprefix("reports/") in affected
    assert "reports/rollout.json" in text
    assert '"reports" / "rollout.json"' in (ROOT / "plugins" / "callback" / "hub_rollout_report.py").read_text()
    assert "hub_changed_files" in affected and "hub_changed_files" in scripts


def run_plan_job(event: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    """The plan job's steps after set-up (checkout, Python, make venv are this checkout's own), run
    as the runner runs them; returns the job's outputs."""
    plan = workflow()["jobs"]["plan"]
    output, temp = tmp_path / "github_output", tmp_path / "runner_temp"
    temp.mkdir()
    env = project_env(HUBS_INVENTORY=FLEET_SOURCE, GITHUB_OUTPUT=str(output), RUNNER_TEMP=str(temp), **event)
    for step in plan["steps"]:
        if "run" not in step or step["run"].strip() == "make venv":
            continue
        proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, f"step {step.get('name')}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    outputs = {name: json.loads(values[name]) for name in ("clusters", "staging", "production")}
    assert set(plan["outputs"]) == set(outputs)
    return outputs


def test_the_plan_job_gives_one_job_per_cluster(tmp_path: Path) -> None:
    outputs = run_plan_job({"EVENT": "workflow_dispatch"}, tmp_path)
    assert outputs["clusters"] == [{"cluster": c, "hubs": ",".join(s + p)} for c, (s, p) in FLEET_CLUSTERS.items()]
    assert outputs["staging"] == [{"cluster": c, "hubs": ",".join(s)} for c, (s, _) in FLEET_CLUSTERS.items() if s]
    assert outputs["production"] == [{"cluster": c, "hubs": ",".join(p)} for c, (_, p) in FLEET_CLUSTERS.items()]


def test_a_pull_request_that_changes_nothing_has_no_job(tmp_path: Path) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    outputs = run_plan_job({"EVENT": "pull_request", "BASE_SHA": head}, tmp_path)
    assert outputs == {"clusters": [], "staging": [], "production": []}
