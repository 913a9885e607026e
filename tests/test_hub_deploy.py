"""The demo hubs of inventories/local deployed for real on the embedded cluster.

Secret values are compared as booleans only: an assertion that failed on two values
would print them.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import ROOT, project_env, release, run_playbook, secret_strings

INVENTORY = ROOT / "inventories" / "local"
HUBS = ("staging", "research")
CA = ROOT / ".local" / "cluster" / "pki" / "ca.crt"
REGISTRY = "https://127.0.0.1:5443"


def sops_decrypt(path: Path) -> dict[str, Any]:
    out = subprocess.run(["sops", "decrypt", str(path)], env=project_env(), capture_output=True, text=True, check=True)
    return yaml.safe_load(out.stdout)


def secret_file(hub: str) -> Path:
    return INVENTORY / "secrets" / f"enc-{hub}.secret.values.yaml"


def helm_values(hub: str, chart: str) -> dict[str, Any]:
    out = subprocess.run(["helm", "get", "values", release(hub, chart), "-n", hub, "-o", "json"],
                         env=project_env(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def helm_revisions() -> dict[tuple[str, str], int]:
    out = subprocess.run(["helm", "list", "-A", "-o", "json"], env=project_env(), capture_output=True, text=True, check=True)
    return {(r["namespace"], r["name"]): int(r["revision"]) for r in json.loads(out.stdout) if r["namespace"] in HUBS}


def registry_accepts(username: str, password: str) -> bool:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(f"{REGISTRY}/v2/", headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(CA)), timeout=10):
            return True
    except urllib.error.HTTPError as err:
        if err.code == 401:
            return False
        raise


def dig(data: dict[str, Any], dotted: str) -> Any:  # noqa: ANN401 - values of any type
    for key in dotted.split("."):
        data = data[key]
    return data


@pytest.fixture(scope="module")
def deployed(kubeconfig: Path) -> dict[str, Any]:
    """Deploy both demo hubs; the second run must change nothing."""
    first = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", timeout=1500)
    assert first.rc == 0, first.output[-6000:]
    second = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", timeout=1500)
    assert second.rc == 0, second.output[-6000:]
    return {"first": first, "second": second}


def test_second_run_changes_nothing(deployed: dict[str, Any]) -> None:
    rows = deployed["second"].report_rows()
    assert {row["hub"] for row in rows} >= set(HUBS), rows
    assert {row["status"] for row in rows if row["hub"] in HUBS} == {"unchanged"}, rows
    assert deployed["second"].changed() == 0, deployed["second"].output[-6000:]


@pytest.mark.parametrize("hub", HUBS)
def test_releases_get_the_secret_values(deployed: dict[str, Any], hub: str) -> None:
    secrets = sops_decrypt(secret_file(hub))
    binder = helm_values(hub, "binderhub-service")
    jupyterhub = helm_values(hub, "jupyterhub")
    password = dig(secrets, "binderhub-service.buildPodsRegistryCredentials.password")
    checks = {
        "DockerRegistry.password": dig(binder, "config.DockerRegistry.password") == password,
        "buildPodsRegistryCredentials.password": dig(binder, "buildPodsRegistryCredentials.password") == password,
        "binder apiToken": dig(jupyterhub, "hub.services.binder.apiToken")
        == dig(secrets, "jupyterhub.hub.services.binder.apiToken"),
        "registry accepts the deployed credentials": registry_accepts(dig(binder, "config.DockerRegistry.username"), password),
    }
    assert all(checks.values()), {name: ok for name, ok in checks.items()}


def test_pull_secret_only_where_the_registry_needs_it(deployed: dict[str, Any]) -> None:
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=str(ROOT / ".local/cluster/kubeconfig")))
    names = {hub: {s.metadata.name for s in api.list_namespaced_secret(hub).items} for hub in HUBS}
    assert "image-pull-secret" in names["research"]
    assert "image-pull-secret" not in names["staging"]
    secrets = sops_decrypt(secret_file("research"))
    pull = api.read_namespaced_secret("image-pull-secret", "research")
    auths = json.loads(base64.b64decode(pull.data[".dockerconfigjson"]))["auths"]
    expected = base64.b64encode(
        f"{dig(secrets, 'jupyterhub.imagePullSecret.username')}:{dig(secrets, 'jupyterhub.imagePullSecret.password')}".encode()
    ).decode()
    assert any(entry.get("auth") == expected for entry in auths.values()), "pull secret does not hold the hub's credentials"
    selector = "metadata.name=image-pull-secret"
    holders = [
        s.metadata.namespace for s in api.list_secret_for_all_namespaces(field_selector=selector).items
        if any(entry.get("auth") == expected
               for entry in json.loads(base64.b64decode(s.data[".dockerconfigjson"]))["auths"].values())
    ]
    assert holders == ["research"], f"research's pull credentials are in namespaces {holders}"


@pytest.mark.parametrize("hub", HUBS)
def test_deployed_hubs_have_network_policies_and_an_authenticated_binder(deployed: dict[str, Any], hub: str) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(ROOT / ".local/cluster/kubeconfig"))
    policies = {p.metadata.name for p in client.NetworkingV1Api(api).list_namespaced_network_policy(hub).items}
    assert {"hub", "proxy", "singleuser"} <= policies, policies
    assert any("binder" in name for name in policies), policies
    binder = helm_values(hub, "binderhub-service")["config"]["BinderHub"]
    assert binder["auth_enabled"] is True
    service = helm_values(hub, "jupyterhub")["hub"]["services"]["binder"]
    assert service["oauth_client_id"] == "service-binder" and service["oauth_redirect_uri"].endswith("/oauth_callback")
    # the only way in is the hub's OAuth: no hub service holds an admin role
    roles = helm_values(hub, "jupyterhub")["hub"].get("loadRoles") or {}
    assert not any("admin" in (role.get("scopes") or []) for role in roles.values()), roles


def test_check_diff_shows_a_change_and_changes_nothing(deployed: dict[str, Any]) -> None:
    before = helm_revisions()
    run = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", "-l", "staging", "--check", "--diff",
                       "-e", "binderhub_service_docker_cache_size=21Gi")
    assert run.rc == 0, run.output[-6000:]
    assert "21Gi" in run.output, "the diff does not show the changed docker cache size"
    assert helm_revisions() == before
    assert dig(helm_values("staging", "binderhub-service"), "dockerApi.storage.emptyDir.sizeLimit") == "15Gi"


def test_verbose_deploy_leaks_no_secret(deployed: dict[str, Any], tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = project_env(TMPDIR=str(temp), ANSIBLE_LOCAL_TEMP=str(temp / "ansible"), ANSIBLE_REMOTE_TEMP=str(temp / "ansible"))
    # research has every kind of secret (registry, pull secret, token); a changed value
    # makes helm really upgrade with the secret values in play.
    run = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", "-vvv", "-l", "research",
                       "-e", "binderhub_service_docker_cache_size=16Gi", env=env, timeout=1500)
    restore = run_playbook("-i", str(INVENTORY), "playbooks/hub.yml", "-l", "research")
    assert run.rc == 0, "verbose deploy failed (output not shown: it may hold secrets only if the test is right)"
    assert restore.rc == 0, restore.output[-4000:]
    values = {v for hub in HUBS for v in secret_strings(sops_decrypt(secret_file(hub)))}
    assert values, "no secret values found to search for"
    leaked_output = sum(1 for v in values if v in run.output)
    leaked_files = [str(p.relative_to(tmp_path)) for p in temp.rglob("*") if p.is_file()
                    and any(v in p.read_text(errors="replace") for v in values)]
    plaintext_in_repo = [str(p.relative_to(ROOT)) for p in (ROOT / "inventories").rglob("*") if p.is_file()
                         and any(v in p.read_text(errors="replace") for v in values)]
    assert leaked_output == 0, f"{leaked_output} secret values appear in the -vvv output"
    assert leaked_files == [], f"plaintext secrets left under the temp directory: {leaked_files}"
    assert plaintext_in_repo == [], f"plaintext secrets in the inventory: {plaintext_in_repo}"


def test_rotation_replaces_the_registry_password(deployed: dict[str, Any]) -> None:
    before = sops_decrypt(secret_file("staging"))
    old_password = dig(before, "binderhub-service.buildPodsRegistryCredentials.password")
    old_token = dig(before, "jupyterhub.hub.services.binder.apiToken")
    username = dig(helm_values("staging", "binderhub-service"), "config.DockerRegistry.username")
    assert registry_accepts(username, old_password)

    run = run_playbook("-i", str(INVENTORY), "playbooks/rotate.yml", "-l", "staging", timeout=1500)
    assert run.rc == 0, run.output[-6000:]

    after = sops_decrypt(secret_file("staging"))
    new_password = dig(after, "binderhub-service.buildPodsRegistryCredentials.password")
    deployed_password = dig(helm_values("staging", "binderhub-service"), "config.DockerRegistry.password")
    checks = {
        "password changed": new_password != old_password,
        "token changed": dig(after, "jupyterhub.hub.services.binder.apiToken") != old_token,
        "old password refused": not registry_accepts(username, old_password),
        "new password accepted": registry_accepts(username, new_password),
        "release has the new password": deployed_password == new_password,
        "research untouched": registry_accepts(
            dig(helm_values("research", "binderhub-service"), "config.DockerRegistry.username"),
            dig(sops_decrypt(secret_file("research")), "binderhub-service.buildPodsRegistryCredentials.password"),
        ),
    }
    assert all(checks.values()), checks
