"""The smoke check (playbooks/smoke.yml, the hub_smoke switch of playbooks/hub.yml, the hub_smoke
action): the hub-smoke service and its least-privilege role in the values, the expected pods
derived from the inventory, and the check against the demo hubs booted for real - passing as
deployed, failing with the hub and the step named when what was deployed is broken by hand.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_cases import Home, SmokeCase, smoke_cases
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_pod import pod_problems
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values import registry_view, render_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import (
    SMOKE_SCOPES,
    SMOKE_SERVICE,
    SMOKE_USER,
)
from hub_boot_support import control, hub_vars, namespace_of
from hub_support import LOCAL_INVENTORY, inventory_hosts, local_registry_definition
from kubernetes import client, config
from support import SHARED_CHARTS, project_env, run_playbook

HUBS = inventory_hosts(LOCAL_INVENTORY)
GiB = 1024**3
SMOKE_TOKEN_PATH = ("jupyterhub", "hub", "services", SMOKE_SERVICE, "apiToken")


def rendered(hub: str) -> tuple[Any, dict[str, Any], bool]:
    """The demo hub's model, its jupyterhub values and whether it needs a pull secret."""
    found = hub_vars(hub)
    model = build_model(found.variables, base_dir=found.inventory_dir)
    registry = registry_view(local_registry_definition(found), model.hub.name)
    return model, render_values(model, registry)["jupyterhub"], registry.pull_secret_required


def chart_defaults() -> dict[str, Any]:
    return yaml.safe_load((SHARED_CHARTS / "jupyterhub" / "values.yaml").read_text())


# --- the values and the expectations (no cluster) ---------------------------------------------


@pytest.mark.parametrize("hub", HUBS)
def test_values_register_the_smoke_service_with_scopes_for_the_smoke_user_only(hub: str) -> None:
    _, values, _ = rendered(hub)
    service = values["hub"]["services"][SMOKE_SERVICE]
    assert "apiToken" not in service and "api_token" not in service, "a token in the rendered (plain) values"
    role = values["hub"]["loadRoles"][SMOKE_SERVICE]
    assert role["services"] == [SMOKE_SERVICE]
    assert role["scopes"] == list(SMOKE_SCOPES) == [f"admin:users!user={SMOKE_USER}", f"servers!user={SMOKE_USER}"]
    authenticator = values["hub"]["config"]["Authenticator"]
    assert SMOKE_USER in authenticator["blocked_users"]
    assert SMOKE_USER not in authenticator.get("allowed_users", [])
    assert SMOKE_USER != SMOKE_SERVICE  # JupyterHub lets no service delete a user of its own name


def test_smoke_cases_of_the_research_hub_follow_its_inventory() -> None:
    model, values, pull_secret = rendered("research")
    standard, teaching = smoke_cases(model, values, chart_defaults(), pull_secret)
    assert standard.user_options == {"profile": "standard", "image": "scipy", "resources": "small"}
    assert standard.image == "quay.io/jupyter/scipy-notebook:2024-03-18"
    assert standard.limits == {"cpu": 1.0, "memory": 4 * GiB}
    assert teaching.user_options == {"profile": "teaching"}
    assert teaching.image == "quay.io/jupyter/minimal-notebook:2024-03-18"
    for case in (standard, teaching):
        assert case.pull_secrets == ["image-pull-secret"]
        assert case.node_selector == hub_vars("research").variables["cluster_node_pools"]["user"]
        assert case.home == Home("nfs", "/home/jovyan", "home-nfs", SMOKE_USER)
    # No profile sets one: the chart's singleuser.cpu.limit (none).
    assert teaching.limits["cpu"] is None


def test_smoke_cases_of_the_staging_hub_follow_its_inventory() -> None:
    model, values, pull_secret = rendered("staging")
    (small,) = smoke_cases(model, values, chart_defaults(), pull_secret)
    assert small.user_options == {"profile": "small", "image": "scipy"}
    assert small.image == "quay.io/jupyter/scipy-notebook:2024-03-18"
    assert small.pull_secrets == []
    assert small.home == Home("dynamic", "/home/jovyan", f"claim-{SMOKE_USER}")
    assert small.limits == {"cpu": 1.0, "memory": 2 * GiB}


CASE = SmokeCase(profile="p", user_options={"profile": "p"}, image="example.org/img:1", node_selector={"pool": "user"},
                 pull_secrets=["image-pull-secret"], home=Home("dynamic", "/home/jovyan", "claim-u"),
                 limits={"cpu": 1.0, "memory": 2 * GiB})


def good_pod() -> dict[str, Any]:
    return {"metadata": {"name": "jupyter-u"}, "spec": {
        "nodeSelector": {"pool": "user"},
        "imagePullSecrets": [{"name": "image-pull-secret"}],
        "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-u"}}],
        "containers": [{"name": "notebook", "image": "example.org/img:1",
                        "volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}],
                        "resources": {"limits": {"cpu": "1", "memory": str(2 * GiB)}}}]}}


def bound(_claim: str) -> str:
    return "Bound"


@pytest.mark.parametrize(("step", "breakage"), [
    ("pod image", lambda pod: pod["spec"]["containers"][0].update(image="example.org/img:2")),
    ("pod node pool selector", lambda pod: pod["spec"].update(nodeSelector={})),
    ("pod image pull secret", lambda pod: pod["spec"].pop("imagePullSecrets")),
    ("pod home volume", lambda pod: pod["spec"]["volumes"][0]["persistentVolumeClaim"].update(claimName="other")),
    ("pod home volume", lambda pod: pod["spec"]["containers"][0].update(volumeMounts=[])),
    ("pod resource limits", lambda pod: pod["spec"]["containers"][0]["resources"]["limits"].update(memory="1Gi")),
    ("pod resource limits", lambda pod: pod["spec"]["containers"][0]["resources"]["limits"].update(cpu="500m")),
])
def test_pod_problems_name_the_step(step: str, breakage: Callable[[dict[str, Any]], None]) -> None:
    assert pod_problems(good_pod(), CASE, bound) == []
    pod = copy.deepcopy(good_pod())
    breakage(pod)
    problems = pod_problems(pod, CASE, bound)
    assert [s for s, _ in problems] == [step], problems


def test_a_home_claim_that_is_not_bound_is_a_problem() -> None:
    problems = pod_problems(good_pod(), CASE, lambda _claim: "Pending")
    assert problems == [("pod home volume", "claim claim-u is Pending, expected Bound")]


# --- the check against the demo hubs, booted --------------------------------------------------


@pytest.fixture(scope="module")
def deployed(kubeconfig: Path) -> None:
    """The demo hubs as the inventory says (a no-op when they are deployed and unchanged)."""
    run = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/hub.yml", timeout=1500)
    assert run.rc == 0, run.output[-6000:]


@pytest.fixture(scope="module")
def boots(deployed: None, kubeconfig: Path) -> Iterator[dict[str, control.Boot]]:
    """Each demo hub's genuine JupyterHub, booted at its first use (a test may stop one: it is
    booted again at the next use); all stopped at the end of the module."""
    started: dict[str, control.Boot] = {}
    try:
        yield started
    finally:
        for hub in HUBS:
            control.stop(namespace_of(hub), kubeconfig=str(kubeconfig))


def boot_url(boots: dict[str, control.Boot], hub: str, kubeconfig: Path) -> str:
    if hub not in boots:
        boots[hub] = control.start(namespace_of(hub), kubeconfig=str(kubeconfig))
    return boots[hub].url


def smoke_token(hub: str) -> str:
    path = LOCAL_INVENTORY / "secrets" / f"enc-{hub}.secret.values.yaml"
    decrypted = subprocess.run(["sops", "--decrypt", str(path)], env=project_env(), capture_output=True, text=True,
                               check=True).stdout
    node: Any = yaml.safe_load(decrypted)
    for key in SMOKE_TOKEN_PATH:
        node = node[key]
    assert isinstance(node, str) and len(node) == 64
    return node


def smoke(hub: str, url: str, report: Path, *extra: str, playbook: str = "playbooks/smoke.yml") -> tuple[Any, dict[str, Any]]:
    run = run_playbook("-i", str(LOCAL_INVENTORY), playbook, "-l", hub, "-e", f"hub_smoke_url={url}", *extra,
                       env=project_env(HUB_ROLLOUT_REPORT=str(report)), timeout=900)
    return run, json.loads(report.read_text()) if report.exists() else {}


def smoke_record(hub: str, kubeconfig: Path) -> tuple[str, str, str]:
    """(status, step, at) of the hub's last smoke check, as the upgrade gate reads it."""
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    data = core.read_namespaced_config_map("imagebuilding-hubs-smoke", namespace_of(hub)).data
    return data["status"], data["step"], data["at"]


def assert_nothing_left(hub: str, kubeconfig: Path) -> None:
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    namespace = namespace_of(hub)
    selector = f"hub.jupyter.org/username={SMOKE_USER}"
    deadline = time.monotonic() + 30
    while core.list_namespaced_pod(namespace, label_selector=selector).items or \
            core.list_namespaced_persistent_volume_claim(namespace, label_selector=selector).items:
        assert time.monotonic() < deadline, f"the smoke-test user's pod or claim is still in {namespace}"
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("hub", HUBS)
def test_smoke_playbook_passes_on_each_demo_hub(boots: dict[str, control.Boot], hub: str, kubeconfig: Path,
                                                tmp_path: Path) -> None:
    url = boot_url(boots, hub, kubeconfig)
    run, report = smoke(hub, url, tmp_path / "rollout.json")
    assert run.rc == 0, run.output[-6000:]
    assert run.recap()[hub]["changed"] == 0, run.recap()
    (row,) = report["releases"]
    assert (row["hub"], row["release"], row["status"]) == (hub, "smoke check", "smoke passed"), row
    slugs = [p["slug"] for p in hub_vars(hub).variables["jupyterhub_profiles"]]
    assert [p["profile"] for p in row["smoke"]["profiles"]] == slugs, row
    assert report["smoke"] == {"passed": 1, "failed": 0}
    assert smoke_record(hub, kubeconfig)[:2] == ("passed", ""), "the outcome is kept for the upgrade gate"
    token = smoke_token(hub)
    assert token not in run.output and token not in json.dumps(report), "the smoke token leaked"
    assert_nothing_left(hub, kubeconfig)
    # The hub saw the service create, start, stop and delete the user (not some other client).
    log = boots[hub].log_text()
    assert f"201 POST /hub/api/users/{SMOKE_USER} ({SMOKE_SERVICE}@" in log, log[-3000:]
    assert f"204 DELETE /hub/api/users/{SMOKE_USER} ({SMOKE_SERVICE}@" in log, log[-3000:]


@pytest.mark.slow
def test_the_rollout_runs_the_smoke_check_when_asked(boots: dict[str, control.Boot], kubeconfig: Path,
                                                     tmp_path: Path) -> None:
    url = boot_url(boots, "staging", kubeconfig)
    run, report = smoke("staging", url, tmp_path / "rollout.json", "-e", "hub_smoke=true", playbook="playbooks/hub.yml")
    assert run.rc == 0, run.output[-6000:]
    rows = {row["release"]: row for row in report["releases"] if row["hub"] == "staging"}
    assert rows["smoke check"]["status"] == "smoke passed", rows
    assert {"staging", "staging-binderhub"} <= set(rows), rows  # the release rows are still there
    assert "Start, check and stop a server of every profile of the hub" in run.output


def patched_values(core: client.CoreV1Api, namespace: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Break the deployed hub Secret's values.yaml by hand; the original bytes, to put back."""
    secret = core.read_namespaced_secret("hub", namespace)
    original = base64.b64decode(secret.data["values.yaml"])
    values = yaml.safe_load(original)
    change(values)
    core.patch_namespaced_secret("hub", namespace, {"data": {
        "values.yaml": base64.b64encode(yaml.safe_dump(values).encode()).decode()}})
    return original


def break_choice_image(values: dict[str, Any]) -> None:
    choice = values["singleuser"]["profileList"][0]["profile_options"]["image"]["choices"]["scipy"]
    choice["kubespawner_override"]["image"] = "quay.io/jupyter/scipy-notebook:broken-by-hand"


def break_pull_secret(values: dict[str, Any]) -> None:
    values["imagePullSecret"]["create"] = False


@pytest.mark.slow
@pytest.mark.parametrize(("hub", "breakage", "step", "profile"), [
    ("staging", break_choice_image, "pod image", "small"),
    ("research", break_pull_secret, "pod image pull secret", "standard"),
])
def test_smoke_playbook_fails_naming_the_hub_and_the_step(boots: dict[str, control.Boot], kubeconfig: Path,
                                                          tmp_path: Path, hub: str, breakage: Callable[[Any], None],
                                                          step: str, profile: str) -> None:
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
    namespace = namespace_of(hub)
    control.stop(namespace, kubeconfig=str(kubeconfig))
    boots.pop(hub, None)
    original = patched_values(core, namespace, breakage)
    try:
        url = boot_url(boots, hub, kubeconfig)
        run, report = smoke(hub, url, tmp_path / "rollout.json")
    finally:
        control.stop(namespace, kubeconfig=str(kubeconfig))
        boots.pop(hub, None)
        core.patch_namespaced_secret("hub", namespace, {"data": {"values.yaml": base64.b64encode(original).decode()}})
    assert run.rc != 0, run.output[-4000:]
    assert f"hub {hub}: smoke check failed at step '{step}' (profile {profile})" in run.output, run.output[-4000:]
    (row,) = report["releases"]
    assert row["status"] == "failed" and row["smoke"]["step"] == step, row
    assert report["smoke"] == {"passed": 0, "failed": 1}
    assert smoke_record(hub, kubeconfig)[:2] == ("failed", step)
    assert_nothing_left(hub, kubeconfig)
