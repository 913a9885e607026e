"""The demo hubs of inventories/local, deployed on the embedded cluster and booted for real.

The genuine JupyterHub 5.5.0 with KubeSpawner 7.0.0 and configurable-http-proxy 5.2.0 (z2jh
4.4.0's versions) runs from the hub's deployed ConfigMap and Secret (``scripts/hub_boot``), with
the hub ServiceAccount's token: the spawn page, the binder service, its OAuth client, and user
pods made by KubeSpawner under the chart's RBAC are checked against the inventory.
"""

from __future__ import annotations

import base64
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hub_boot_support import (
    HubClient,
    SpawnCase,
    control,
    expected_resources,
    hub_vars,
    namespace_of,
    pod_resources,
    spawn_cases,
    wait_for_spawn,
    wait_stopped,
)
from hub_support import LOCAL_INVENTORY, inventory_hosts
from kubernetes import client, config
from support import run_playbook

pytestmark = pytest.mark.slow

HUBS = inventory_hosts(LOCAL_INVENTORY)
# A hub log line at ERROR or CRITICAL level, or a traceback.
LOG_ERROR = re.compile(r"^\[(E|C) |^Traceback ", re.MULTILINE)
HOME = "/home/jovyan"
PULL_SECRET = "image-pull-secret"


@pytest.fixture(scope="module")
def core(kubeconfig: Path) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))


@pytest.fixture(scope="module")
def deployed(kubeconfig: Path) -> None:
    """The demo hubs as the inventory says (a no-op when they are deployed and unchanged)."""
    run = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/hub.yml", timeout=1500)
    assert run.rc == 0, run.output[-6000:]


@dataclass
class Booted:
    boot: control.Boot
    admin_token: str

    @property
    def url(self) -> str:
        return self.boot.url


@pytest.fixture(scope="module")
def boots(deployed: None, kubeconfig: Path) -> Iterator[Callable[[str], Booted]]:
    """Each hub's genuine JupyterHub, booted from what is deployed at its first use, with an API
    token of its first admin; all stopped at the end of the module."""
    started: dict[str, Booted] = {}

    def boot(hub: str) -> Booted:
        if hub not in started:
            begin = time.monotonic()
            booted = control.start(namespace_of(hub), kubeconfig=str(kubeconfig))
            print(f"{hub}: healthy {time.monotonic() - begin:.1f} s after the boot started")
            started[hub] = Booted(booted, HubClient(booted.url).token(hub_vars(hub).variables["jupyterhub_admin_users"][0]))
        return started[hub]

    try:
        yield boot
    finally:
        for hub in started:
            control.stop(namespace_of(hub), kubeconfig=str(kubeconfig))


def deployed_values(core: client.CoreV1Api, namespace: str) -> dict[str, Any]:
    secret = core.read_namespaced_secret("hub", namespace)
    return yaml.safe_load(base64.b64decode(secret.data["values.yaml"]))


@pytest.mark.parametrize("hub", HUBS)
def test_hub_is_healthy_and_logs_no_error(boots: Callable[[str], Booted], hub: str) -> None:
    booted = boots(hub).boot
    answer = HubClient(booted.url).request("GET", "/hub/health")
    assert answer.status == 200, answer.status
    log = booted.log_text()
    assert "JupyterHub is now running" in log, log[-3000:]
    assert not LOG_ERROR.search(log), log[-6000:]


@pytest.mark.parametrize("hub", HUBS)
def test_spawn_page_offers_exactly_the_inventory_profiles(boots: Callable[[str], Booted], hub: str) -> None:
    booted = boots(hub)
    variables = hub_vars(hub).variables
    session = HubClient(booted.url).login(variables["jupyterhub_auth"]["allowed_users"][0])
    page = session.request("GET", "/hub/spawn")
    assert page.status == 200, (page.status, page.headers.get("location"))
    html = page.body.decode()
    assert "/hub/fancy-profiles/static/dist/form.js" in html, "the fancy-profiles form is not on the spawn page"
    found = re.search(r"window\.profileList = (.*?);\n", html, re.DOTALL)
    assert found, html[:3000]
    offered = yaml.safe_load(found[1])
    expected = variables["jupyterhub_profiles"]
    assert [(p["slug"], p["display_name"]) for p in offered] == [(p["slug"], p["display_name"]) for p in expected]
    for shown, profile in zip(offered, expected, strict=True):
        options = profile.get("options", {})
        assert sorted(shown.get("profile_options", {})) == sorted(options), profile["slug"]
        for name, option in options.items():
            shown_option = shown["profile_options"][name]
            assert {k: c["display_name"] for k, c in shown_option["choices"].items()} == \
                {k: c["display_name"] for k, c in option["choices"].items()}, (profile["slug"], name)
            for feature in ("unlisted_choice", "dynamic_image_building"):
                assert bool(shown_option.get(feature, {}).get("enabled")) == bool(option.get(feature, {}).get("enabled")), \
                    (profile["slug"], name, feature)


@pytest.mark.parametrize("hub", HUBS)
def test_binder_service_is_registered_with_the_binderhub_service(boots: Callable[[str], Booted], hub: str,
                                                                  core: client.CoreV1Api) -> None:
    namespace = namespace_of(hub)
    booted = boots(hub)
    services = HubClient(booted.url).request("GET", "/hub/api/services", token=booted.admin_token).json()
    binder = services["binder"]
    binderhub = core.read_namespaced_service("binderhub", namespace)
    assert binderhub.metadata.labels.get("app.kubernetes.io/name") == "binderhub-service", binderhub.metadata.labels
    assert binder["url"] == f"http://binderhub.{namespace}:{binderhub.spec.ports[0].port}", binder
    assert binder["prefix"] == "/services/binder/", binder
    # The hub checked the service at that URL (the stand-in of the binderhub Service answered).
    asked = [r for r in booted.boot.stand_in_requests() if r["stand_in"] == "binderhub"]
    assert any(r["path"] == "/services/binder/" for r in asked), booted.boot.stand_in_requests()


def authorize(session: HubClient, redirect_uri: str) -> Any:  # noqa: ANN401 - an answer
    query = urllib.parse.urlencode({"client_id": "service-binder", "redirect_uri": redirect_uri,
                                    "response_type": "code", "state": "hub-boot-test"})
    return session.request("GET", f"/hub/api/oauth2/authorize?{query}")


@pytest.mark.parametrize("hub", HUBS)
def test_binder_oauth_client_accepts_only_the_hub_domain_callback(boots: Callable[[str], Booted], hub: str) -> None:
    booted = boots(hub)
    variables = hub_vars(hub).variables
    callback = f"https://{variables['hub_domain']}/services/binder/oauth_callback"
    session = HubClient(booted.url).login(variables["jupyterhub_auth"]["allowed_users"][0])
    granted = authorize(session, callback)
    # A user with access:services!service=binder gets a code straight away (oauth_no_confirm).
    assert granted.status == 302, (granted.status, granted.body[:500])
    location = urllib.parse.urlsplit(granted.headers["location"])
    assert urllib.parse.urlunsplit((*location[:3], "", "")) == callback, granted.headers["location"]
    assert urllib.parse.parse_qs(location.query).get("code"), granted.headers["location"]
    for wrong in (f"http://{variables['hub_domain']}/services/binder/oauth_callback",
                  f"https://{variables['hub_domain']}/services/other/oauth_callback",
                  "https://attacker.invalid/services/binder/oauth_callback"):
        refused = authorize(session, wrong)
        assert refused.status == 400, (wrong, refused.status, refused.headers.get("location"))


CASES = [(hub, case) for hub in HUBS for case in spawn_cases(hub_vars(hub).variables["jupyterhub_profiles"])]


def check_pod(pod: client.V1Pod, case: SpawnCase, hub: str, user: str, values: dict[str, Any],
              core: client.CoreV1Api) -> None:
    variables = hub_vars(hub)
    container = next(c for c in pod.spec.containers if c.name == "notebook")
    singleuser = values["singleuser"]
    image = case.overrides.get("image", f"{singleuser['image']['name']}:{singleuser['image']['tag']}")
    assert container.image == image, case
    assert pod.spec.node_selector == variables.variables["cluster_node_pools"]["user"], pod.spec.node_selector
    secrets = [s.name for s in pod.spec.image_pull_secrets or []]
    assert secrets == ([PULL_SECRET] if variables.registry_pull_secret_required else []), secrets
    assert pod_resources(client.ApiClient().sanitize_for_serialization(container)) == \
        expected_resources(case.overrides, singleuser), case
    home = next(m for m in container.volume_mounts if m.mount_path == HOME)
    volume = next(v for v in pod.spec.volumes if v.name == home.name)
    storage = variables.variables["jupyterhub_storage"]
    claim_name = {"dynamic": f"claim-{user}", "nfs": "home-nfs"}[storage["type"]]
    assert volume.persistent_volume_claim.claim_name == claim_name, volume
    claim = core.read_namespaced_persistent_volume_claim(claim_name, pod.metadata.namespace)
    assert claim.status.phase == "Bound", (claim_name, claim.status.phase)
    if storage["type"] == "nfs":
        assert home.sub_path == user, home
        nfs = core.read_persistent_volume(claim.spec.volume_name).spec.nfs
        assert (nfs.server, nfs.path) == (storage["server"], storage["path"]), nfs


@pytest.mark.parametrize(("hub", "case"), CASES, ids=[f"{h}-{c.name}" for h, c in CASES])
def test_server_starts_with_the_chosen_options_and_stops(boots: Callable[[str], Booted], hub: str, case: SpawnCase,
                                                         core: client.CoreV1Api) -> None:
    namespace = namespace_of(hub)
    booted, admin_token = boots(hub).boot, boots(hub).admin_token
    user = hub_vars(hub).variables["jupyterhub_auth"]["allowed_users"][-1]
    hub_client = HubClient(booted.url)
    pod_name = f"jupyter-{user}"
    asked_before = len(booted.stand_in_requests())
    started = hub_client.request("POST", f"/hub/api/users/{user}/server", token=admin_token, body=case.user_options)
    try:
        assert started.status in (201, 202, 400), (started.status, started.body[:500])
        server = wait_for_spawn(hub_client, admin_token, user) if started.status != 400 else None
        if case.fails:
            assert server is None, server
            assert not core.list_namespaced_pod(namespace, field_selector=f"metadata.name={pod_name}").items
            return
        assert server is not None, booted.log_text()[-4000:]
        assert server["user_options"] == case.user_options, server
        pod = core.read_namespaced_pod(pod_name, namespace)
        check_pod(pod, case, hub, user, deployed_values(core, namespace), core)
        # The hub reached the server where KubeSpawner said it is (the stand-in, never a kwok pod IP).
        asked = booted.stand_in_requests()[asked_before:]
        assert any(r["stand_in"] == "user-servers" and r["path"].startswith(f"/user/{user}/") for r in asked), asked
    finally:
        stopped = hub_client.request("DELETE", f"/hub/api/users/{user}/server", token=admin_token)
        assert stopped.status in (202, 204, 400), (stopped.status, stopped.body[:300])
        wait_stopped(hub_client, admin_token, user)
    deadline = time.monotonic() + 30
    while core.list_namespaced_pod(namespace, field_selector=f"metadata.name={pod_name}").items:
        assert time.monotonic() < deadline, f"{pod_name} is still there after the server stopped"
        time.sleep(0.3)
