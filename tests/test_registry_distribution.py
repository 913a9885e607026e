"""Verification against the REAL distribution registry (built by scripts/build-tools.sh),
started on loopback with TLS from a CA made here: htpasswd (basic) auth, and token (bearer)
auth with a token service stand-in. Push and pull of a small OCI artifact, the htpasswd
module, and the registry role end to end (stable password from the sops secret file,
rotation)."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fakes.quay_api import QuayState, serve
from registry_support import (
    Oci,
    OciError,
    Pki,
    Registry,
    TokenIssuer,
    bcrypt_line,
    free_port,
    make_pki,
    pull_artifact,
    push_artifact,
    run_module,
    run_registry,
    serve_tokens,
)
from support import ROOT, VENV_BIN, project_env, run_playbook

PASSWORD = "Correct-Horse-Battery-7391"
READER_PASSWORD = "Reader-Only-Password-1234"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Registry]:
    directory = tmp_path_factory.mktemp("registry-basic")
    htpasswd = directory / "htpasswd"
    htpasswd.write_text(bcrypt_line("research", PASSWORD))
    with run_registry(directory, pki, {"htpasswd": {"realm": "test", "path": str(htpasswd)}}) as registry:
        yield registry


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Registry]:
    directory = tmp_path_factory.mktemp("registry-token")
    issuer = TokenIssuer(directory / "issuer")

    def permissions(user: str, repository: str) -> set[str]:
        if user == "research" and repository.startswith("local-research/"):
            return {"pull", "push"}
        return {"pull"}

    users = {"research": PASSWORD, "reader": READER_PASSWORD}
    with serve_tokens(pki, issuer, users, permissions) as tokens:
        auth = {
            "token": {
                "realm": tokens.realm,
                "service": issuer.service,
                "issuer": issuer.issuer,
                "rootcertbundle": str(issuer.cert_file),
            }
        }
        with run_registry(directory, pki, auth) as registry:
            yield registry


def login(registry: Registry, username: str, password: str, **extra: object) -> dict:
    args = {
        "url": registry.url,
        "username": username,
        "password": password,
        "image_prefix": f"{registry.host}/local-research/",
        "ca_file": str(registry.pki.ca_file),
        "hub": "research",
        **extra,
    }
    return run_module("registry_login", args)


def assert_fails(result: dict, kind: str, *fragments: str, secret: str = PASSWORD) -> None:
    assert result.get("failed") is True, result
    assert result["kind"] == kind, result["msg"]
    assert result["msg"].startswith("hub 'research': login to registry "), result["msg"]
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]
    assert secret not in json.dumps(result), "the password must never be shown"


# --- basic auth (htpasswd) ------------------------------------------------------------


def test_right_credentials_verify(basic_registry: Registry) -> None:
    result = login(basic_registry, "research", PASSWORD, check_push=True)
    assert result.get("failed") is not True, result
    assert result["scheme"] == "basic" and result["push_checked"] is True
    assert result["repository"] == "local-research/registry-check"
    assert PASSWORD not in json.dumps(result)


def test_wrong_password_fails_clearly(basic_registry: Registry) -> None:
    result = login(basic_registry, "research", "not-the-password")
    assert_fails(result, "credentials", "wrong credentials", "rejected the credentials of user 'research'", basic_registry.url)


def test_unknown_user_fails_clearly(basic_registry: Registry) -> None:
    result = login(basic_registry, "nobody", PASSWORD)
    assert_fails(result, "credentials", "wrong credentials", "rejected the credentials of user 'nobody'")


def test_untrusted_certificate_names_the_ca_variable(basic_registry: Registry) -> None:
    result = login(basic_registry, "research", PASSWORD, ca_file=None)
    assert_fails(result, "tls", "TLS error", "not trusted", "registry_ca_file")


def test_unreachable_registry(basic_registry: Registry) -> None:
    result = login(basic_registry, "research", PASSWORD, url=f"https://127.0.0.1:{free_port()}")
    assert_fails(result, "unreachable", "registry unreachable", "connection refused")


def test_unknown_host() -> None:
    result = run_module(
        "registry_login",
        {"url": "https://registry.invalid", "username": "research", "password": PASSWORD,
         "image_prefix": "registry.invalid/research/", "hub": "research"},
    )
    assert_fails(result, "unknown_host", "unknown host", "registry.invalid cannot be resolved")


def test_https_url_on_a_plain_http_server() -> None:
    with serve(QuayState()) as plain:
        port = plain.server_address[1]
        result = run_module(
            "registry_login",
            {"url": f"https://127.0.0.1:{port}", "username": "research", "password": PASSWORD,
             "image_prefix": f"127.0.0.1:{port}/research/", "hub": "research"},
        )
    assert_fails(result, "tls", "TLS error", "plain HTTP")


def test_push_and_pull_an_oci_artifact(basic_registry: Registry) -> None:
    oci = Oci(basic_registry.url, "research", PASSWORD, basic_registry.pki.ca_file)
    manifest = push_artifact(oci, "local-research/demo", "v1", b"hello from a build pod\n")
    assert manifest["layers"][0]["size"] == 23
    assert pull_artifact(oci, "local-research/demo", "v1") == b"hello from a build pod\n"
    stranger = Oci(basic_registry.url, "research", "wrong", basic_registry.pki.ca_file)
    with pytest.raises(OciError) as refused:
        pull_artifact(stranger, "local-research/demo", "v1")
    assert refused.value.status == 401


# --- the htpasswd module against the registry -------------------------------------------


def test_htpasswd_module_adds_and_rotates_a_user(basic_registry: Registry) -> None:
    htpasswd = basic_registry.htpasswd
    research_line = htpasswd.read_text().splitlines()[0]
    args = {"path": str(htpasswd), "username": "alice", "password": "first-password-123"}

    added = run_module("htpasswd_user", args)
    assert added["changed"] is True and added["entry"] == "added" and added["users"] == ["research", "alice"]
    assert login(basic_registry, "alice", "first-password-123").get("failed") is not True
    assert run_module("htpasswd_user", args)["changed"] is False

    before = htpasswd.read_bytes()
    planned = run_module("htpasswd_user", {**args, "password": "second-password-456"}, check=True, diff=True)
    assert planned["changed"] is True and htpasswd.read_bytes() == before
    assert "$2" not in json.dumps(planned["diff"]), "the diff must not show hashes"

    rotated = run_module("htpasswd_user", {**args, "password": "second-password-456"})
    assert rotated["changed"] is True and rotated["entry"] == "updated"
    assert htpasswd.read_text().splitlines()[0] == research_line, "other users stay as they were"
    assert_fails(login(basic_registry, "alice", "first-password-123"), "credentials", "user 'alice'", secret="first-password-123")
    assert login(basic_registry, "alice", "second-password-456").get("failed") is not True

    removed = run_module("htpasswd_user", {"path": str(htpasswd), "username": "alice", "state": "absent"})
    assert removed["changed"] is True and removed["users"] == ["research"]
    assert_fails(login(basic_registry, "alice", "second-password-456"), "credentials", secret="second-password-456")


def test_htpasswd_module_keeps_every_user_of_parallel_hubs(tmp_path: Path) -> None:
    """Hubs of a fleet run in parallel (forks) against one htpasswd file: no update is lost."""
    htpasswd = tmp_path / "htpasswd"
    hubs = [f"hub{i}" for i in range(8)]
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible"), "all", "-i", ",".join(hubs) + ",", "-c", "local", "-f", str(len(hubs)),
            "-e", f"ansible_python_interpreter={VENV_BIN / 'python'}",
            "-m", "imagebuilding.hubs.htpasswd_user",
            "-a", f"path={htpasswd} username={{{{ inventory_hostname }}}} password=pw-{{{{ inventory_hostname }}}}-1234",
        ],
        cwd=ROOT, env=project_env(), capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    users = sorted(line.split(":", 1)[0] for line in htpasswd.read_text().splitlines())
    assert users == sorted(hubs)


def test_htpasswd_bcrypt_work_is_done_before_the_lock(tmp_path: Path) -> None:
    """prepare() hashes (or checks) outside the file's lock; plan_present() uses what it found."""
    from ansible_collections.imagebuilding.hubs.plugins.module_utils import htpasswd_user as module

    path = tmp_path / "htpasswd"
    prepared = module.prepare(str(path), "alice", "pw-alice-1234", 4)
    assert prepared.new_hash.startswith("$2") and not prepared.matching
    assert module.plan_present([], "alice", "pw-alice-1234", 4, prepared) == ("added", [f"alice:{prepared.new_hash}"])
    path.write_text(f"alice:{prepared.new_hash}\n")
    assert module.prepare(str(path), "alice", "pw-alice-1234", 4) == module.Prepared(matching=prepared.new_hash)
    # A stored hash already checked is kept without bcrypt (this one could not even be checked).
    known = module.Prepared(matching="not-a-bcrypt-hash")
    assert module.plan_present(["alice:not-a-bcrypt-hash"], "alice", "x", 4, known) == ("unchanged", ["alice:not-a-bcrypt-hash"])
    # An entry changed by someone else meanwhile is replaced by the prepared hash.
    fresh = module.Prepared(new_hash=prepared.new_hash)
    assert module.plan_present(["alice:other"], "alice", "pw-alice-1234", 4, fresh) == ("updated", [f"alice:{prepared.new_hash}"])


# --- bearer tokens -----------------------------------------------------------------------


def test_bearer_flow_verifies(token_registry: Registry) -> None:
    result = login(token_registry, "research", PASSWORD, check_push=True)
    assert result.get("failed") is not True, result
    assert result["scheme"] == "bearer" and result["push_checked"] is True


def test_bearer_flow_wrong_password(token_registry: Registry) -> None:
    result = login(token_registry, "research", "not-the-password")
    assert_fails(result, "credentials", "the token service 127.0.0.1:", "rejected the credentials of user 'research'")


def test_bearer_flow_without_push_permission(token_registry: Registry) -> None:
    result = login(token_registry, "reader", READER_PASSWORD)
    assert_fails(result, "forbidden", "the token grants no push on local-research/registry-check", secret=READER_PASSWORD)


def test_bearer_push_and_pull(token_registry: Registry) -> None:
    oci = Oci(token_registry.url, "research", PASSWORD, token_registry.pki.ca_file)
    push_artifact(oci, "local-research/tokens", "v1", b"pushed with a bearer token\n")
    assert pull_artifact(oci, "local-research/tokens", "v1") == b"pushed with a bearer token\n"


# --- the role end to end ----------------------------------------------------------------

PLAYBOOK = """\
- name: Registry of the hub
  hosts: all
  gather_facts: false
  roles:
    - role: imagebuilding.hubs.registry
  tasks:
    - name: Save the registry definition for the test
      ansible.builtin.copy:
        content: "{{ registry_definition | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0600"
      no_log: true
"""


@pytest.fixture
def hub_inventory(tmp_path: Path, basic_registry: Registry) -> Path:
    """A local-style inventory: hub 'physics' on cluster 'local', registry htpasswd managed."""
    inventory = {"all": {"hosts": {"physics": {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(VENV_BIN / "python"),
        "cluster_name": "local",
        "registry_type": "generic",
        "registry_host": basic_registry.host,
        "registry_ca_file": str(basic_registry.pki.ca_file),
        "registry_htpasswd_file": str(basic_registry.htpasswd),
        "registry_verify_push": True,
        "secrets_dir": str(tmp_path / "secrets"),
    }}}}
    (tmp_path / "secrets").mkdir()
    (tmp_path / "play.yml").write_text(textwrap.dedent(PLAYBOOK))
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps(inventory))
    return path


def run_role(tmp_path: Path, inventory: Path, *extra: str, env: dict[str, str] | None = None) -> dict:
    run = run_playbook("-i", str(inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}", *extra, env=env)
    assert run.rc == 0, run.output
    definition = json.loads((tmp_path / "physics.json").read_text())
    assert definition["password"] not in run.output, "the password must not be printed"
    return definition


def test_role_creates_user_and_derived_credentials_push_and_pull(
    tmp_path: Path, hub_inventory: Path, basic_registry: Registry
) -> None:
    definition = run_role(tmp_path, hub_inventory)
    password = definition.pop("password")
    assert len(password) == 32
    assert definition == {
        "type": "generic",
        "host": basic_registry.host,
        "url": basic_registry.url,
        "image_prefix": f"{basic_registry.host}/local-physics/",
        "username": "physics",
        "pull_secret_required": False,
        "ca_file": str(basic_registry.pki.ca_file),
    }
    assert "physics:" in basic_registry.htpasswd.read_text()
    oci = Oci(definition["url"], definition["username"], password, basic_registry.pki.ca_file)
    repository = definition["image_prefix"].split("/", 1)[1] + "binder-2dexample-abc123"
    push_artifact(oci, repository, "latest", b"built by repo2docker\n")
    assert pull_artifact(oci, repository, "latest") == b"built by repo2docker\n"


def age_key(tmp_path: Path) -> tuple[Path, str]:
    keygen = ROOT / ".local" / "bin" / "age-keygen"
    if not keygen.exists() or not shutil.which("sops", path=str(VENV_BIN)):
        pytest.skip("age-keygen (make tools) or sops is missing")
    key_file = tmp_path / "age.agekey"
    subprocess.run([str(keygen), "-o", str(key_file)], check=True, capture_output=True)
    recipient = next(line.split(": ", 1)[1] for line in key_file.read_text().splitlines() if "public key" in line)
    return key_file, recipient


def write_secret_values(path: Path, password: str, key_file: Path, recipient: str) -> None:
    """What the secrets role writes: the runbook's layout, sops-encrypted with age."""
    values = {"binderhub-service": {"buildPodsRegistryCredentials": {"password": password},
                                    "config": {"DockerRegistry": {"password": password}}}}
    plain = path.with_name("plain.yaml")
    plain.write_text(yaml.safe_dump(values))
    encrypted = subprocess.run(
        [str(VENV_BIN / "sops"), "encrypt", "--age", recipient, "--input-type", "yaml", "--output-type", "yaml", str(plain)],
        check=True, capture_output=True, text=True, env=project_env(SOPS_AGE_KEY_FILE=str(key_file)),
    ).stdout
    plain.unlink()
    path.write_text(encrypted)


def test_role_keeps_the_password_from_the_secret_file_and_rotates_on_request(
    tmp_path: Path, hub_inventory: Path, basic_registry: Registry
) -> None:
    key_file, recipient = age_key(tmp_path)
    env = project_env(SOPS_AGE_KEY_FILE=str(key_file))
    first = run_role(tmp_path, hub_inventory, env=env)
    secret_file = tmp_path / "secrets" / "enc-physics.secret.values.yaml"
    write_secret_values(secret_file, first["password"], key_file, recipient)

    htpasswd_before = basic_registry.htpasswd.read_bytes()
    again = run_playbook("-i", str(hub_inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}", env=env)
    assert again.rc == 0, again.output
    assert again.recap()["physics"]["changed"] == 0, "a second run with the secret file changes nothing"
    assert json.loads((tmp_path / "physics.json").read_text())["password"] == first["password"]
    assert basic_registry.htpasswd.read_bytes() == htpasswd_before

    rotated = run_role(tmp_path, hub_inventory, "-e", "registry_rotate=true", env=env)
    assert rotated["password"] != first["password"]
    assert_fails(login(basic_registry, "physics", first["password"]), "credentials", "user 'physics'", secret=first["password"])
    assert login(basic_registry, "physics", rotated["password"]).get("failed") is not True


def test_role_stops_with_hub_and_registry_named_on_wrong_given_password(
    tmp_path: Path, hub_inventory: Path, basic_registry: Registry
) -> None:
    inventory = json.loads(hub_inventory.read_text())
    hub = inventory["all"]["hosts"]["physics"]
    del hub["registry_htpasswd_file"]
    hub.update(registry_username="research", registry_password="definitely-wrong-password")
    hub_inventory.write_text(json.dumps(inventory))
    run = run_playbook("-i", str(hub_inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}")
    assert run.rc != 0
    assert f"hub 'physics': login to registry {basic_registry.url} as 'research' failed, wrong credentials" in run.output
    assert "definitely-wrong-password" not in run.output
