"""Login methods on the genuine JupyterHub 5.5.0 (oauthenticator 17.4.0, jupyterhub-tmpauthenticator
1.0.0): a shared-password hub, a Google hub restricted to a Workspace domain and a tmp hub (every
visitor a new user), deployed on the embedded cluster and booted from what was deployed
(``scripts/hub_boot``).

The secrets are set the documented way: ``playbooks/seal.yml`` makes each hub's secret values
file, ``scripts/hub-secrets set`` adds the passwords and the client secret (read from stdin);
no run's output may show them. The shared-password hub is logged into through ``/hub/login``
(the form with its ``_xsrf`` cookie and field); the Google hub's login sends the browser to
Google with the rendered client id (no real Google needed).
"""

from __future__ import annotations

import re
import secrets
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hub_boot_support import Answer, HubClient, control
from support import ROOT, local_hub_vars, local_inventory, project_env, remove_namespaces, run_playbook

pytestmark = pytest.mark.slow

SUFFIX = secrets.token_hex(3)  # throwaway namespaces of their own
SHARED_HUB, GOOGLE_HUB, TMP_HUB = f"pwlogin-{SUFFIX}", f"glogin-{SUFFIX}", f"tmplogin-{SUFFIX}"
USER_PASSWORD = secrets.token_urlsafe(12)
ADMIN_PASSWORD = secrets.token_urlsafe(33)
CLIENT_SECRET = secrets.token_hex(20)
CLIENT_ID = "123456789012-hubbootlogins.apps.googleusercontent.com"
CONFIG = "jupyterhub.hub.config"
# A hub that builds no images: no registry or BinderHub to deploy, one fixed image.
NO_BUILD = {"hub_image_building": "disabled", "jupyterhub_storage": {"type": "none"},
            "jupyterhub_profiles": [{"display_name": "Course", "slug": "course", "default": True,
                                     "kubespawner_override": {"image": "quay.io/jupyter/minimal-notebook:2024-03-18"}}]}
LOG_ERROR = re.compile(r"^\[(E|C) |^Traceback ", re.MULTILINE)
USER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # tmp's user names: uuid4


@dataclass
class Deployed:
    kubeconfig: Path
    output: str  # every run's output: seal, hub-secrets, deploy


def _set_secret(inventory: Path, hub: str, key: str, value: str, env: dict[str, str]) -> str:
    proc = subprocess.run([str(ROOT / "scripts" / "hub-secrets"), "set", hub, key, "-i", str(inventory)], input=value,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def deployed(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    if not (ROOT / "inventories" / "local" / ".sops.yaml").exists():
        pytest.skip("inventories/local/.sops.yaml is made at set-up (make demo)")
    hubs = {
        SHARED_HUB: local_hub_vars(SHARED_HUB, **NO_BUILD, jupyterhub_admin_users=["admin"],
                                   jupyterhub_auth={"type": "shared_password", "allowed_users": ["alice", "bob"]},
                                   jupyterhub_open_access_opt_in=True),
        GOOGLE_HUB: local_hub_vars(GOOGLE_HUB, **NO_BUILD, jupyterhub_admin_users=["ada"],
                                   jupyterhub_auth={"type": "google", "client_id": CLIENT_ID,
                                                    "allowed_hosted_domains": ["example.edu"]}),
        TMP_HUB: local_hub_vars(TMP_HUB, **NO_BUILD, jupyterhub_auth={"type": "tmp"}, jupyterhub_open_access_opt_in=True),
    }
    inventory = local_inventory(tmp_path_factory.mktemp("logins") / "inventory", hubs)
    env = project_env(KUBECONFIG=str(kubeconfig))
    limit = ",".join(hubs)
    try:
        sealed = run_playbook("-i", str(inventory), "playbooks/seal.yml", "-l", limit, env=env)
        assert sealed.rc == 0, sealed.output[-4000:]
        output = sealed.output
        output += _set_secret(inventory, SHARED_HUB, f"{CONFIG}.SharedPasswordAuthenticator.user_password",
                              USER_PASSWORD, env)
        output += _set_secret(inventory, SHARED_HUB, f"{CONFIG}.SharedPasswordAuthenticator.admin_password",
                              ADMIN_PASSWORD, env)
        output += _set_secret(inventory, GOOGLE_HUB, f"{CONFIG}.GoogleOAuthenticator.client_secret", CLIENT_SECRET, env)
        run = run_playbook("-i", str(inventory), "playbooks/hub.yml", "-l", limit, "--diff", env=env, timeout=1500)
        assert run.rc == 0, run.output[-6000:]
        yield Deployed(kubeconfig, output + run.output)
    finally:
        for hub in hubs:
            control.stop(hub, kubeconfig=str(kubeconfig))
        remove_namespaces(hubs, env)


@pytest.fixture(scope="module")
def shared_hub(deployed: Deployed) -> Iterator[control.Boot]:
    boot = control.start(SHARED_HUB, kubeconfig=str(deployed.kubeconfig))
    try:
        yield boot
    finally:
        control.stop(SHARED_HUB, kubeconfig=str(deployed.kubeconfig))


def test_no_secret_in_any_output(deployed: Deployed) -> None:
    for value in (USER_PASSWORD, ADMIN_PASSWORD, CLIENT_SECRET):
        assert value not in deployed.output


def _log_in(url: str, username: str, password: str) -> tuple[HubClient, Answer]:
    """The login form as a browser sends it: its _xsrf cookie and the same token as a field."""
    session = HubClient(url)
    page = session.request("GET", "/hub/login")
    assert page.status == 200, page.status
    assert 'name="password"' in page.body.decode(), "the login page has no password field"
    xsrf = next(c.value for c in session.cookies if c.name == "_xsrf")
    answer = session.request("POST", "/hub/login", form={"username": username, "password": password, "_xsrf": xsrf})
    return session, answer


def test_shared_password_logs_in_allowed_users_only(shared_hub: control.Boot) -> None:
    session, answer = _log_in(shared_hub.url, "alice", USER_PASSWORD)
    assert answer.status == 302, (answer.status, answer.body[:500])
    home = session.request("GET", "/hub/home")
    assert home.status == 200 and "alice" in home.body.decode(), (home.status, home.headers.get("location"))
    for username, password in (("alice", USER_PASSWORD[:-1] + "#"), ("bob", ""), ("mallory", USER_PASSWORD)):
        _, refused = _log_in(shared_hub.url, username, password)
        assert refused.status == 403, (username, refused.status, refused.headers.get("location"))
        assert "Invalid username or password" in refused.body.decode()


def test_admins_log_in_with_the_admin_password_only(shared_hub: control.Boot) -> None:
    _, refused = _log_in(shared_hub.url, "admin", USER_PASSWORD)
    assert refused.status == 403, refused.status
    session, answer = _log_in(shared_hub.url, "admin", ADMIN_PASSWORD)
    assert answer.status == 302, (answer.status, answer.body[:500])
    admin_page = session.request("GET", "/hub/admin")
    assert admin_page.status == 200, admin_page.status
    _, alice = _log_in(shared_hub.url, "alice", ADMIN_PASSWORD)
    assert alice.status == 403, "a user logged in with the admin password"


def test_shared_password_hub_logs_no_error_and_no_password(shared_hub: control.Boot) -> None:
    log = shared_hub.log_text()
    assert "Loading pass-through config section hub.config.SharedPasswordAuthenticator" in log, log[-3000:]
    assert not LOG_ERROR.search(log), log[-6000:]
    assert USER_PASSWORD not in log and ADMIN_PASSWORD not in log


def test_google_hub_sends_the_browser_to_google_with_the_rendered_client(deployed: Deployed) -> None:
    boot = control.start(GOOGLE_HUB, kubeconfig=str(deployed.kubeconfig))
    try:
        client = HubClient(boot.url)
        page = client.request("GET", "/hub/login")
        assert page.status == 200, page.status
        assert "Sign in with Google" in page.body.decode()
        answer = client.request("GET", "/hub/oauth_login")
        assert answer.status == 302, (answer.status, answer.body[:500])
        location = urllib.parse.urlsplit(answer.headers["location"])
        assert (location.scheme, location.netloc, location.path) == ("https", "accounts.google.com", "/o/oauth2/v2/auth")
        query = urllib.parse.parse_qs(location.query)
        assert query["client_id"] == [CLIENT_ID], query
        assert query["redirect_uri"] == [f"https://{GOOGLE_HUB}.hubs.localhost/hub/oauth_callback"], query
        log = boot.log_text()
        assert "Loading pass-through config section hub.config.GoogleOAuthenticator" in log, log[-3000:]
        # allow_all (rendered for the hosted domain) is there: JupyterHub warns when no allow rule is
        assert "No allow config found" not in log, log[-3000:]
        assert not LOG_ERROR.search(log), log[-6000:]
        assert CLIENT_SECRET not in log
    finally:
        control.stop(GOOGLE_HUB, kubeconfig=str(deployed.kubeconfig))


def _tmp_visit(url: str) -> tuple[HubClient, str]:
    """A new visitor of the tmp hub: its login page sends it to /hub/tmplogin, which logs it in as a
    new user; the user's name, from the hub's home page."""
    visitor = HubClient(url)
    login = visitor.request("GET", "/hub/login")
    assert login.status == 302, (login.status, login.body[:500])
    assert urllib.parse.urlsplit(login.headers["location"]).path == "/hub/tmplogin", login.headers["location"]
    answer = visitor.request("GET", "/hub/tmplogin")
    assert answer.status == 302, (answer.status, answer.body[:500])  # refused without allow_all
    home = visitor.request("GET", "/hub/home")
    assert home.status == 200, (home.status, home.headers.get("location"))
    found = USER_ID.search(home.body.decode())
    assert found, home.body[:2000]
    return visitor, found.group(0)


def test_tmp_hub_lets_every_visitor_in_as_a_new_user(deployed: Deployed) -> None:
    """tmpauthenticator 1.0.0 predates JupyterHub 5's allow rules: the toolkit renders allow_all for
    it, without which JupyterHub refuses every tmp user."""
    boot = control.start(TMP_HUB, kubeconfig=str(deployed.kubeconfig))
    try:
        _, first = _tmp_visit(boot.url)
        _, second = _tmp_visit(boot.url)
        assert first != second
        log = boot.log_text()
        assert "No allow config found" not in log, log[-3000:]
        assert not LOG_ERROR.search(log), log[-6000:]
    finally:
        control.stop(TMP_HUB, kubeconfig=str(deployed.kubeconfig))
