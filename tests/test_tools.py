"""The pinned Go tools (scripts/build-tools.sh) and the molecule kind scenario.

- helm is built with helm's own version ldflags, so `helm template` and `helm lint` assume the
  Kubernetes version of the client-go helm is built with, and the genuine charts of
  ../shared/charts render without --kube-version;
- the tools' cache keys are per module: an edit of the script rebuilds nothing, a module's
  pin or recipe rebuilds that module only;
- kind is the pinned version;
- the kind scenario's inventory passes the hub model, its values render with the genuine
  charts, and its create playbook stops with a clear message when no container engine runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from support import ROOT, VENV_BIN, project_env

SHARED_CHARTS = Path(__file__).resolve().parents[2] / "shared" / "charts"
GENUINE_CHARTS = ("jupyterhub", "binderhub-service", "dask-gateway")
KIND_SCENARIO = ROOT / "molecule" / "kind"
KIND_SETTINGS = KIND_SCENARIO / "inventory" / "group_vars" / "all" / "kind.yml"
KIND_VALUES = KIND_SCENARIO / "inventory" / "values" / "kind-cluster.values.yaml"
NO_ENGINE_MESSAGE = ("no container engine found: the kind scenario needs Docker or Podman running; "
                     "`molecule syntax -s kind` checks it without one")


def required_version(module_dir: str, module_path: str) -> str:
    """The version tools/<module_dir>/go.mod requires of module_path."""
    gomod = (ROOT / "tools" / module_dir / "go.mod").read_text()
    match = re.search(rf"^(?:require\s+|\s+){re.escape(module_path)} (v\S+)", gomod, re.MULTILINE)
    assert match, f"tools/{module_dir}/go.mod does not require {module_path}"
    return match.group(1)


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=project_env(), capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="session")
def shared_charts() -> Path:
    if not all((SHARED_CHARTS / chart / "Chart.yaml").is_file() for chart in GENUINE_CHARTS):
        pytest.skip(f"the genuine charts are not in {SHARED_CHARTS}: they are test data kept beside the repo")
    return SHARED_CHARTS


@pytest.fixture(scope="session")
def kind_settings() -> dict[str, object]:
    return yaml.safe_load(KIND_SETTINGS.read_text())


# ---------------------------------------------------------------------------------------
# helm
# ---------------------------------------------------------------------------------------


def test_helm_assumes_the_kubernetes_version_of_its_client_go(tool_bin: Path, tmp_path: Path) -> None:
    """helm's Makefile rule: k8s.io/client-go v0.<X>.<y> -> Kubernetes v1.<X>.0 (unset: v1.20.0)."""
    client_go = required_version("helm", "k8s.io/client-go")
    match = re.fullmatch(r"v0\.(\d+)\.\d+", client_go)
    assert match, f"unexpected k8s.io/client-go version {client_go}"
    chart = tmp_path / "kube-version"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: kube-version\nversion: 0.1.0\n")
    (chart / "templates" / "version.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-version\n"
        "data:\n  version: {{ .Capabilities.KubeVersion.Version | quote }}\n")
    proc = run([str(tool_bin / "helm"), "template", "x", str(chart)])
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout)["data"]["version"] == f"v1.{match.group(1)}.0"


@pytest.mark.parametrize("chart", GENUINE_CHARTS)
def test_helm_template_renders_genuine_chart_without_kube_version(tool_bin: Path, shared_charts: Path, chart: str) -> None:
    proc = run([str(tool_bin / "helm"), "template", "x", str(shared_charts / chart)])
    assert proc.returncode == 0, f"helm template {chart}: {proc.stderr}"
    kinds = {doc["kind"] for doc in yaml.safe_load_all(proc.stdout) if doc}
    assert "Deployment" in kinds, f"{chart} rendered no Deployment: {sorted(kinds)}"


@pytest.mark.parametrize("chart", GENUINE_CHARTS)
def test_helm_lint_passes_on_genuine_chart(tool_bin: Path, shared_charts: Path, chart: str) -> None:
    proc = run([str(tool_bin / "helm"), "lint", str(shared_charts / chart)])
    assert proc.returncode == 0, f"helm lint {chart}:\n{proc.stdout}{proc.stderr}"
    assert "1 chart(s) linted, 0 chart(s) failed" in proc.stdout


# ---------------------------------------------------------------------------------------
# cache keys of scripts/build-tools.sh
# ---------------------------------------------------------------------------------------


def cache_keys(root: Path, cache: Path) -> dict[str, str]:
    proc = subprocess.run([str(root / "scripts" / "build-tools.sh"), "--print-keys"],
                          env=project_env(IBH_CACHE=str(cache)), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    keys = {}
    for line in proc.stdout.splitlines():
        module, key, directory = line.split()
        assert directory == str(cache / "tools" / f"{module}-{key}")
        keys[module] = key
    return keys


@pytest.fixture
def tools_copy(tmp_path: Path) -> Path:
    """The build script and tools/ in a directory of their own, to change them freely."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "build-tools.sh", root / "scripts" / "build-tools.sh")
    shutil.copytree(ROOT / "tools", root / "tools")
    return root


def test_cache_keys_are_per_module(tools_copy: Path, tmp_path: Path) -> None:
    script = tools_copy / "scripts" / "build-tools.sh"
    cache = tmp_path / "cache"
    before = cache_keys(tools_copy, cache)
    assert set(before) >= {"etcd", "kubernetes", "kwok", "helm", "helm-diff", "registry", "age", "kind", "actionlint"}
    assert len(set(before.values())) == len(before), before

    # An edit of the script outside the modules' recipes rebuilds nothing.
    script.write_text(script.read_text().replace("set -euo pipefail\n", "set -euo pipefail\n# an edit\n", 1))
    assert cache_keys(tools_copy, cache) == before

    # Another ldflag of helm rebuilds helm only.
    text = script.read_text()
    assert "internal/version.gitTreeState=clean" in text
    script.write_text(text.replace("internal/version.gitTreeState=clean", "internal/version.gitTreeState=dirty"))
    after_helm = cache_keys(tools_copy, cache)
    assert {m for m in before if before[m] != after_helm[m]} == {"helm"}

    # A changed pin (go.mod) of kind rebuilds kind only.
    gomod = tools_copy / "tools" / "kind" / "go.mod"
    gomod.write_text(gomod.read_text() + "// a changed pin\n")
    after_kind = cache_keys(tools_copy, cache)
    assert {m for m in before if after_helm[m] != after_kind[m]} == {"kind"}

    # A new recipe version rebuilds every module.
    script.write_text(re.sub(r"^RECIPE_VERSION=(\d+)$", lambda m: f"RECIPE_VERSION={int(m[1]) + 1}",
                             script.read_text(), count=1, flags=re.MULTILINE))
    after_recipe = cache_keys(tools_copy, cache)
    assert all(after_recipe[m] != after_kind[m] for m in before)


FAKE_GO = """#!/usr/bin/env bash
# Stands in for go: records the module it builds and makes one binary per package.
[ "$1" = build ] || exit 0
printf '%s\\n' "$(basename "$PWD")" >> "$FAKE_GO_LOG"
out=""
while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2 ;; *) last="$1"; shift ;; esac; done
: > "$out/$(basename "$last")"
"""


def test_named_modules_are_built_alone(tools_copy: Path, tmp_path: Path) -> None:
    """scripts/build-tools.sh <module>... builds and links those modules only (make lint: actionlint)."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "go").write_text(FAKE_GO)
    (fake / "go").chmod(0o755)
    log, cache, bin_dir = tmp_path / "go.log", tmp_path / "cache", tmp_path / "bin"
    env = project_env(IBH_CACHE=str(cache), IBH_BIN=str(bin_dir), HELM_PLUGINS=str(tmp_path / "plugins"),
                      FAKE_GO_LOG=str(log))
    env["PATH"] = f"{fake}:{env['PATH']}"
    script = str(tools_copy / "scripts" / "build-tools.sh")
    proc = subprocess.run([script, "actionlint"], env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert log.read_text().split() == ["actionlint"]
    assert sorted(p.name for p in bin_dir.iterdir()) == ["actionlint"]
    assert [p.name.rsplit("-", 1)[0] for p in (cache / "tools").iterdir()] == ["actionlint"]
    assert not (tmp_path / "plugins").exists(), "helm-diff's plugin installed without helm-diff"

    proc = subprocess.run([script, "actionlint"], env=env, capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0 and "actionlint: cached" in proc.stdout
    assert log.read_text().split() == ["actionlint"]

    proc = subprocess.run([script, "actionlint", "no-such-tool"], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 2
    assert "no Go module tools/no-such-tool" in proc.stdout + proc.stderr


def test_cached_tools_match_the_current_keys(tool_bin: Path) -> None:
    """What .local/bin links to was built from today's pins and recipes (no stale cache entry)."""
    cache = Path(os.environ.get("IBH_CACHE", Path.home() / ".cache" / "imagebuilding-hubs"))
    keys = cache_keys(ROOT, cache)
    for binary, module in (("helm", "helm"), ("kind", "kind"), ("etcd", "etcd"), ("age-keygen", "age")):
        target = (tool_bin / binary).resolve()
        assert target.parent.parent.name == f"{module}-{keys[module]}", f"{binary} -> {target}"


# ---------------------------------------------------------------------------------------
# kind
# ---------------------------------------------------------------------------------------


def test_kind_reports_the_pinned_version(tool_bin: Path) -> None:
    kind = tool_bin / "kind"
    assert kind.exists(), "kind is not built: scripts/build-tools.sh builds it with the other tools"
    proc = run([str(kind), "version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:2] == ["kind", required_version("kind", "sigs.k8s.io/kind")], proc.stdout


def test_kind_node_image_is_the_pinned_kinds_default(kind_settings: dict[str, object]) -> None:
    image = str(kind_settings["kind_node_image"])
    match = re.fullmatch(r"kindest/node:v1\.(\d+)\.\d+@sha256:[0-9a-f]{64}", image)
    assert match, f"kind_node_image {image!r} is not a kindest/node image pinned by digest"
    assert int(match.group(1)) >= 32, "the jupyterhub chart and the hubs need Kubernetes >= 1.32"
    version = required_version("kind", "sigs.k8s.io/kind")
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=False).stdout.strip()
    source = Path(gomodcache) / f"sigs.k8s.io/kind@{version}" / "pkg" / "apis" / "config" / "defaults" / "image.go"
    if not source.is_file():
        pytest.skip(f"kind {version}'s source is not in the Go module cache ({source})")
    assert f'const Image = "{image}"' in source.read_text(), f"kind {version} documents another default node image"


def test_kind_values_match_the_scenario_registry(tool_bin: Path, shared_charts: Path, kind_settings: dict[str, object],
                                                 tmp_path: Path) -> None:
    """The scenario's values render with the genuine charts and fit a kind cluster."""
    values = yaml.safe_load(KIND_VALUES.read_text())
    registry = f"{kind_settings['kind_registry_name']}:{kind_settings['kind_registry_port']}"
    rendered: dict[str, list[dict[str, object]]] = {}
    for chart in GENUINE_CHARTS:
        values_file = tmp_path / f"{chart}.yaml"
        values_file.write_text(yaml.safe_dump(values.get(chart, {})))
        proc = run([str(tool_bin / "helm"), "template", "x", str(shared_charts / chart), "-f", str(values_file)])
        assert proc.returncode == 0, f"{chart} with {KIND_VALUES.name}: {proc.stderr}"
        rendered[chart] = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]

    def find(chart: str, kind: str, name: str) -> dict[str, object]:
        found = [d for d in rendered[chart] if d["kind"] == kind and d["metadata"]["name"] == name]  # type: ignore[index]
        assert len(found) == 1, f"{chart}: {kind} {name} not rendered once"
        return found[0]

    assert find("jupyterhub", "Service", "proxy-public")["spec"]["type"] == "ClusterIP"  # type: ignore[index]
    # kind's standard StorageClass binds the hub's database PVC: it stays on.
    assert find("jupyterhub", "PersistentVolumeClaim", "hub-db-dir")
    assert find("dask-gateway", "Service", "traefik-x-dask-gateway")["spec"]["type"] == "ClusterIP"  # type: ignore[index]
    docker_api = next(d for d in rendered["binderhub-service"] if d["kind"] == "DaemonSet")
    args = docker_api["spec"]["template"]["spec"]["containers"][0]["args"]  # type: ignore[index]
    assert f"--insecure-registry={registry}" in args, f"docker-api args {args} do not name the scenario's registry"


def test_kind_inventory_passes_the_hub_model(shared_charts: Path) -> None:
    """Both hubs of the scenario's inventory pass the hub model, with the genuine charts' directories."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible"), "-i", str(KIND_SCENARIO / "inventory"), "all", "-m", "imagebuilding.hubs.hub_model"],
        cwd=ROOT, env=project_env(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"),
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The json callback's document, after the line the profile_tasks callback prints first.
    report, _ = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index("\n{") + 1:])
    hosts = report["plays"][0]["tasks"][0]["hosts"]
    assert set(hosts) == {"staging", "research"}
    charts = shared_charts.resolve()
    expected = {"staging": {"jupyterhub", "binderhub-service"},
                "research": {"jupyterhub", "binderhub-service", "dask-gateway"}}
    for hub, result in hosts.items():
        assert not result.get("failed"), f"{hub}: {result.get('msg')}"
        refs = {release["chart"]: release["chart_ref"] for release in result["model"]["releases"].values()}
        assert refs == {chart: str(charts / chart) for chart in expected[hub]}, f"{hub}: {refs}"


def test_kind_create_and_destroy_pass_the_syntax_check() -> None:
    """`molecule syntax -s kind` checks the converge playbook only; these are the scenario's own."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "--syntax-check", str(KIND_SCENARIO / "create.yml"),
         str(KIND_SCENARIO / "destroy.yml")],
        cwd=ROOT, env=project_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout


def test_kind_create_stops_without_a_container_engine(tmp_path: Path) -> None:
    """No engine answers: create.yml fails with the clear message before it runs kind."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls"
    # Stand-ins for an absent engine: docker and podman clients whose `info` fails as with no
    # daemon. The kind stub only records that it was called, which must not happen.
    for name, body in (("docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1"),
                       ("podman", "echo 'Cannot connect to Podman' >&2; exit 1"),
                       ("kind", "exit 0")):
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >>"{calls}"\n{body}\n')
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = project_env()
    env["PATH"] = f"{stubs}:{env['PATH']}"
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), str(KIND_SCENARIO / "create.yml")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False, timeout=300,
    )
    assert proc.returncode != 0, proc.stdout
    assert NO_ENGINE_MESSAGE in proc.stdout, proc.stdout
    called = calls.read_text().splitlines()
    assert "docker info" in called and "podman info" in called, called
    assert not [c for c in called if c.startswith("kind")], f"kind was called: {called}"
