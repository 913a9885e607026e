"""The imagebuilding path end to end, per demo hub (a throwaway copy of each, deployed by the
toolkit): the genuine BinderHub (``scripts/binder_boot``) beside the hub's genuine JupyterHub
(``scripts/hub_boot``), reached through the hub's proxy with the hub's OAuth, builds a repository
served on loopback; the test bed's build node (``scripts/build_node``) stands in for the node's
container engine and pushes to the registry, which has its own CA. The built image is then started
through the hub's spawn form as fancy-profiles posts it; last, the registry refuses the hub's
password for a while.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from binder_build_support import (
    COPIES,
    PULL_SECRET,
    PUSH_SECRET,
    REGISTRY,
    GitRepo,
    PodWatch,
    binder_control,
    build_choice_form,
    build_events,
    copy_vars,
    git_daemon,
    manifest_status,
    node_control,
    pull_credentials,
    push_credentials,
    registry_status,
    wrong_registry_password,
)
from hub_boot_support import HubClient, control, wait_for_spawn, wait_stopped
from hub_support import LOCAL_INVENTORY, inventory_hub
from kubernetes import client, config
from support import local_inventory, project_env, remove_namespaces, run_playbook

pytestmark = pytest.mark.slow

HUBS = sorted(COPIES)


@pytest.fixture(scope="module")
def core(kubeconfig: Path) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))


@pytest.fixture(scope="module")
def deployed(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Copies of the demo hubs, deployed by playbooks/hub.yml, removed at the end."""
    inventory = local_inventory(tmp_path_factory.mktemp("binder-inventory"), {hub: copy_vars(hub) for hub in HUBS})
    try:
        run = run_playbook("-i", str(inventory), "playbooks/hub.yml", timeout=900)
        assert run.rc == 0, run.output[-6000:]
        yield
    finally:
        remove_namespaces(HUBS, project_env())


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitRepo]:
    with git_daemon(tmp_path_factory.mktemp("git")) as served:
        yield served


@pytest.fixture(scope="module")
def build_node() -> Iterator[None]:
    started = node_control.running() is None
    node_control.start()
    yield
    if started:
        node_control.stop()


@dataclass
class Booted:
    hub: control.Boot
    binder: binder_control.BinderBoot


@pytest.fixture(scope="module")
def boots(deployed: None, build_node: None, kubeconfig: Path) -> Iterator[Callable[[str], Booted]]:
    """Each copy's JupyterHub and BinderHub, started at first use, stopped at the end."""
    started: dict[str, Booted] = {}

    def boot(hub: str) -> Booted:
        if hub not in started:
            hub_boot = control.start(hub, kubeconfig=str(kubeconfig))
            try:
                started[hub] = Booted(hub_boot, binder_control.start(hub, kubeconfig=str(kubeconfig)))
            except BaseException:
                control.stop(hub, kubeconfig=str(kubeconfig))
                raise
        return started[hub]

    try:
        yield boot
    finally:
        for hub in started:
            binder_control.stop(hub, kubeconfig=str(kubeconfig))
            control.stop(hub, kubeconfig=str(kubeconfig))


def user_token(booted: Booted, hub: str, scopes: list[str] | None = None) -> str:
    user = copy_vars(hub)["jupyterhub_auth"]["allowed_users"][0]
    body: dict = {"auth": {"username": user, "password": "test-bed"}, "note": "build path tests"}
    if scopes is not None:
        body["scopes"] = scopes
    answer = HubClient(booted.hub.url).request("POST", f"/hub/api/users/{user}/tokens", body=body)
    assert answer.status == 201, (answer.status, answer.body[:300])
    return answer.json()["token"]


def expected_image(hub: str, repo: GitRepo) -> re.Pattern[str]:
    """``<image_prefix><escaped repository>:<sha>``: BinderHub escapes the URL (``:`` -> ``-3a``,
    ``/`` -> ``-2f``, ``.`` -> ``-2e``) and appends a short hash."""
    escaped = re.sub(r"[^a-z0-9]", lambda m: f"-{ord(m[0]):02x}", repo.url.lower())
    return re.compile(rf"{re.escape(f'{REGISTRY}/local-{hub}/')}{re.escape(escaped)}-[0-9a-f]{{6}}:{repo.sha}")


@pytest.mark.parametrize("hub", HUBS)
def test_binderhub_health_checks_the_private_ca_registry(boots: Callable[[str], Booted], hub: str) -> None:
    answer = HubClient(boots(hub).binder.hub_url).request("GET", "/services/binder/health")
    assert answer.status == 200, (answer.status, answer.body[:500])
    checks = {c["service"]: c["ok"] for c in answer.json()["checks"]}
    assert checks["Docker registry"] is True and checks["JupyterHub API"] is True, checks


@pytest.mark.parametrize("hub", HUBS)
def test_build_through_the_hub_pushes_the_image(boots: Callable[[str], Booted], core: client.CoreV1Api,
                                                repo: GitRepo, hub: str) -> None:
    booted = boots(hub)
    with PodWatch(core, hub).running() as pods:
        status, events = build_events(booted.hub.url, user_token(booted, hub), repo)
    assert status == 200 and events and events[-1]["phase"] == "ready", (status, events, booted.binder.log_text()[-3000:])
    image = events[-1]["imageName"]
    assert expected_image(hub, repo).fullmatch(image), image
    assert len(pods.pods) == 1, sorted(pods.pods)
    pod = next(iter(pods.pods.values()))
    spec = pod["spec"]
    container = spec["containers"][0]
    assert f"--image={image}" in container["args"] and "--push" in container["args"]
    assert container["args"][-1] == repo.url
    assert spec["nodeSelector"] == copy_vars_pools(hub)["user"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert volumes[mounts["/var/run/docker.sock"]]["hostPath"]["path"] == (
        f"/var/run/{hub}-{hub}-binderhub/docker-api/docker-api.sock")
    assert volumes[mounts["/root/.docker/config.json"]]["secret"]["secretName"] == PUSH_SECRET
    deadline = time.monotonic() + 30
    while core.list_namespaced_pod(hub, label_selector="component=binderhub-build").items:
        assert time.monotonic() < deadline, "the build pod is still there"
        time.sleep(0.3)
    status_code, media_type = manifest_status(image, push_credentials(core, hub))
    assert status_code == 200, status_code
    assert media_type == "application/vnd.docker.distribution.manifest.v2+json", media_type


@pytest.mark.parametrize("hub", HUBS)
def test_repeated_request_answers_from_the_registry(boots: Callable[[str], Booted], core: client.CoreV1Api,
                                                    repo: GitRepo, hub: str) -> None:
    booted = boots(hub)
    with PodWatch(core, hub).running() as pods:
        status, events = build_events(booted.hub.url, user_token(booted, hub), repo)
    assert status == 200 and events[-1]["phase"] == "ready", events
    assert "Found built image" in events[-1]["message"], events
    assert expected_image(hub, repo).fullmatch(events[-1]["imageName"])
    assert pods.pods == {}


@pytest.mark.parametrize("hub", HUBS)
def test_user_without_the_binder_scope_is_refused(boots: Callable[[str], Booted], core: client.CoreV1Api,
                                                  repo: GitRepo, hub: str) -> None:
    booted = boots(hub)
    user = copy_vars(hub)["jupyterhub_auth"]["allowed_users"][0]
    token = user_token(booted, hub, scopes=[f"read:users!user={user}"])
    with PodWatch(core, hub).running() as pods:
        status, events = build_events(booted.hub.url, token, GitRepo(repo.url, "0" * 40))
    # BinderHub answers on the event stream: a failed phase with the HTTP status it would have sent.
    assert status == 200 and events == [{"phase": "failed", "status_code": 403, "message": f"user {user} is not allowed.\n"}], (
        status, events)
    assert pods.pods == {}


@pytest.mark.parametrize("hub", HUBS)
def test_built_image_starts_through_the_spawn_form(boots: Callable[[str], Booted], core: client.CoreV1Api,
                                                   repo: GitRepo, hub: str) -> None:
    """The form's build choice with the image BinderHub handed over: the user pod runs exactly that
    image, with the hub's image pull secret where the hub needs one (and its credentials read the
    image), without one elsewhere."""
    booted = boots(hub)
    user = copy_vars(hub)["jupyterhub_auth"]["allowed_users"][0]
    token = user_token(booted, hub)
    status, events = build_events(booted.hub.url, token, repo)
    assert status == 200 and events and events[-1]["phase"] == "ready", events
    image = events[-1]["imageName"]
    form = build_choice_form(copy_vars(hub)["jupyterhub_profiles"], image, repo)
    session = HubClient(booted.hub.url).login(user)
    xsrf = next(c.value for c in session.cookies if c.name == "_xsrf")
    hub_client = HubClient(booted.hub.url)
    started = session.request("POST", f"/hub/spawn/{user}", form={**form, "_xsrf": xsrf})
    try:
        assert started.status == 302, (started.status, started.body[-1500:])
        server = wait_for_spawn(hub_client, token, user)
        assert server is not None, booted.hub.log_text()[-4000:]
        # KubeSpawner's user options: the form's fields of the profile, without their prefix.
        prefix = f"profile-option-{form['profile']}--"
        assert server["user_options"] == {"profile": form["profile"], **{
            k.removeprefix(prefix): v for k, v in form.items() if k.startswith(prefix)}}, server["user_options"]
        assert server["user_options"]["image--unlisted-choice"] == image
        pod = core.read_namespaced_pod(f"jupyter-{user}", hub)
        assert [(c.name, c.image) for c in pod.spec.containers] == [("notebook", image)], pod.spec.containers
        secrets = [s.name for s in pod.spec.image_pull_secrets or []]
        if inventory_hub(COPIES[hub], LOCAL_INVENTORY).registry_pull_secret_required:
            assert secrets == [PULL_SECRET], secrets
            pulled, _ = manifest_status(image, pull_credentials(core, hub))
            assert pulled == 200, "the image pull secret does not read the built image"
        else:
            assert secrets == [], secrets
    finally:
        stopped = hub_client.request("DELETE", f"/hub/api/users/{user}/server", token=token)
        assert stopped.status in (202, 204, 400), (stopped.status, stopped.body[:300])
        wait_stopped(hub_client, token, user)
    deadline = time.monotonic() + 30
    while core.list_namespaced_pod(hub, field_selector=f"metadata.name=jupyter-{user}").items:
        assert time.monotonic() < deadline, f"jupyter-{user} is still there after the server stopped"
        time.sleep(0.3)


def binder_health(hub_url: str, failing: str, timeout: float = 60) -> tuple[int, dict[str, Any]]:
    """BinderHub's ``/health`` through the hub once the check ``failing`` fails (BinderHub repeats a
    check at most every 15 s and answers from the last one meanwhile), or the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = HubClient(hub_url).request("GET", "/services/binder/health")
        document = answer.json()
        if not {c["service"]: c["ok"] for c in document["checks"]}.get(failing, True) or time.monotonic() > deadline:
            return answer.status, document
        time.sleep(1)


@pytest.mark.parametrize("hub", HUBS)
def test_wrong_registry_password_fails_health_and_the_build(boots: Callable[[str], Booted], core: client.CoreV1Api,
                                                            repo: GitRepo, hub: str) -> None:
    """What the genuine BinderHub does when the registry refuses its password (distribution with
    htpasswd: 401 with a ``Basic`` challenge): its registry check fails, so ``/health`` answers
    503; a build request checks the registry first, takes the challenge for a token service it
    cannot parse, and the uncaught error ends the event stream with a failed event of status 500 -
    before any build pod."""
    booted = boots(hub)
    token = user_token(booted, hub)
    credentials = push_credentials(core, hub)
    with wrong_registry_password(Path(copy_vars(hub)["registry_htpasswd_file"]), credentials.user):
        refused = registry_status(credentials)
        assert refused == 401, "the registry still takes the hub's password"
        status, health = binder_health(booted.hub.url, "Docker registry")
        logged = len(booted.binder.log_text())
        with PodWatch(core, hub).running() as pods:
            build_status, events = build_events(booted.hub.url, token, repo)
        log = booted.binder.log_text()[logged:]
    restored = registry_status(credentials)
    assert restored == 200, "the hub's password was not restored"
    checks = {c["service"]: c["ok"] for c in health["checks"]}
    assert status == 503 and health["ok"] is False, (status, health)
    assert checks["Docker registry"] is False and checks["JupyterHub API"] is True, checks
    assert build_status == 200, build_status
    assert events == [{"phase": "failed", "status_code": 500, "message": "Internal Server Error\n"}], events
    assert pods.pods == {}, sorted(pods.pods)
    assert "Uncaught exception GET /services/binder/build/git/" in log, log[-3000:]
    assert 'ValueError: Only WWW-Authenticate Bearer type supported: Basic realm=' in log, log[-3000:]


def copy_vars_pools(hub: str) -> dict[str, dict[str, str]]:
    return inventory_hub(COPIES[hub], LOCAL_INVENTORY).variables["cluster_node_pools"]

