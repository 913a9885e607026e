"""The secrets role with real sops and an age key made at test time.

Every test gets a throwaway inventory in tmp_path with its own .sops.yaml (written by
scripts/local-age-key.sh for a key generated with the built age-keygen), and runs
playbooks/seal.yml with the venv's ansible-playbook. Secret inputs reach Ansible through
the environment (host_vars read them with the env lookup), never through a file, so any
plaintext copy found afterwards would have been written by the run itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

HUBS = ("hub1", "hub2")
LEAK_MESSAGE = "MAY HAVE LEAKED"


@dataclass
class Inventory:
    """A throwaway inventory plus the environment a run needs."""

    root: Path
    repo: Path
    key_file: Path
    temp: Path
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    def secret_file(self, hub: str) -> Path:
        return self.secrets_dir / f"enc-{hub}.secret.values.yaml"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{self.repo / '.venv' / 'bin'}:{env.get('PATH', '')}",
                "ANSIBLE_CONFIG": str(self.repo / "ansible.cfg"),
                "ANSIBLE_HOME": str(self.temp / "ansible-home"),
                "ANSIBLE_LOCAL_TEMP": str(self.temp / "ansible-local"),
                "ANSIBLE_REMOTE_TEMP": str(self.temp / "ansible-remote"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "TMPDIR": str(self.temp / "tmp"),
                "SOPS_AGE_KEY_FILE": str(self.key_file),
                "SOPS_DISABLE_VERSION_CHECK": "1",
            }
        )
        env.update(self.secrets)
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [
            str(self.repo / ".venv" / "bin" / "ansible-playbook"),
            "-i",
            str(self.root / "hosts.yml"),
            str(self.repo / "playbooks" / "seal.yml"),
            *args,
        ]
        proc = subprocess.run(command, cwd=self.repo, env=self.env(), capture_output=True, text=True, timeout=600, check=False)
        if check and proc.returncode != 0:
            tail = f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
            pytest.fail(f"ansible-playbook {' '.join(args)} failed ({proc.returncode}):\n{tail}")
        return proc

    def decrypt(self, hub: str) -> dict:
        proc = subprocess.run(
            [str(self.repo / ".venv" / "bin" / "sops"), "decrypt", str(self.secret_file(hub))],
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return yaml.safe_load(proc.stdout)

    def sops_set(self, hub: str, index: str, value: str) -> None:
        subprocess.run(
            [str(self.repo / ".venv" / "bin" / "sops"), "set", "--value-stdin", str(self.secret_file(hub)), index],
            env=self.env(),
            input=json.dumps(value),
            capture_output=True,
            text=True,
            check=True,
        )


@pytest.fixture(scope="session")
def age_keygen(tool_bin: Path) -> Path:
    path = tool_bin / "age-keygen"
    if not path.exists():
        pytest.skip("age-keygen is not built: run `make tools`")
    return path


@pytest.fixture(scope="session")
def age_key_file(tmp_path_factory: pytest.TempPathFactory, age_keygen: Path, repo_root: Path) -> Path:
    """An age identity made for this test session by scripts/local-age-key.sh."""
    key_file = tmp_path_factory.mktemp("age") / "keys.txt"
    scratch = tmp_path_factory.mktemp("age-inventory")
    env = dict(os.environ, IBH_BIN=str(age_keygen.parent))
    subprocess.run(
        [str(repo_root / "scripts" / "local-age-key.sh"), "--inventory", str(scratch), "--key-file", str(key_file)],
        env=env,
        check=True,
        capture_output=True,
    )
    return key_file


def host_vars(hub: str) -> dict:
    """Registry inputs of a hub, read from the environment at run time (no secret on disk)."""
    env_var = f"TEST_REGISTRY_PASSWORD_{hub.upper()}"
    return {
        "hub_image_building": "enabled",  # the binder service's token is generated for hubs that build images
        "secrets_registry": {
            "type": "quay",
            "host": "quay.io",
            "url": "https://quay.io",
            "image_prefix": f"quay.io/example/test-{hub}-",
            "username": f"example+{hub}",
            "password": "{{ lookup('ansible.builtin.env', '" + env_var + "') }}",
            "pull_secret_required": True,
        }
    }


@pytest.fixture
def inventory(tmp_path: Path, repo_root: Path, age_key_file: Path, age_keygen: Path) -> Inventory:
    root = tmp_path / "inventory"
    temp = tmp_path / "temp"
    for sub in ("tmp", "ansible-local", "ansible-remote", "ansible-home"):
        (temp / sub).mkdir(parents=True)
    (root / "host_vars").mkdir(parents=True)
    hosts = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "children": {"test_cluster": {"hosts": {hub: {} for hub in HUBS}}},
        }
    }
    (root / "hosts.yml").write_text(yaml.safe_dump(hosts))
    for hub in HUBS:
        (root / "host_vars" / f"{hub}.yml").write_text(yaml.safe_dump(host_vars(hub)))
    subprocess.run(
        [str(repo_root / "scripts" / "local-age-key.sh"), "--inventory", str(root), "--key-file", str(age_key_file)],
        env=dict(os.environ, IBH_BIN=str(age_keygen.parent)),
        check=True,
        capture_output=True,
    )
    secrets = {f"TEST_REGISTRY_PASSWORD_{hub.upper()}": f"registry-pw-{hub}-{os.urandom(6).hex()}" for hub in HUBS}
    return Inventory(root=root, repo=repo_root, key_file=age_key_file, temp=temp, secrets=secrets)


def password(inv: Inventory, hub: str) -> str:
    return inv.secrets[f"TEST_REGISTRY_PASSWORD_{hub.upper()}"]


def file_bytes(inv: Inventory) -> dict[str, bytes]:
    return {hub: inv.secret_file(hub).read_bytes() for hub in HUBS}


def recap_changed(output: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.MULTILINE)}


def files_containing(roots: list[Path], needles: list[str]) -> list[str]:
    """Files under roots whose bytes contain any needle (the secret values)."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                found += [f"{path}: {needle[:6]}..." for needle in needles if needle.encode() in data]
    return found


def test_round_trip_writes_encrypted_values(inventory: Inventory) -> None:
    inventory.run()
    for hub in HUBS:
        text = inventory.secret_file(hub).read_text()
        assert "sops:" in text and "ENC[AES256_GCM" in text
        assert password(inventory, hub) not in text
        values = inventory.decrypt(hub)
        pw = password(inventory, hub)
        assert values["binderhub-service"]["config"]["DockerRegistry"]["password"] == pw
        assert values["binderhub-service"]["buildPodsRegistryCredentials"]["password"] == pw
        assert values["jupyterhub"]["imagePullSecret"] == {"username": f"example+{hub}", "password": pw}
        assert re.fullmatch(r"[0-9a-f]{64}", values["jupyterhub"]["hub"]["services"]["binder"]["apiToken"])
        assert values["dask-gateway"] == {}
    tokens = {inventory.decrypt(hub)["jupyterhub"]["hub"]["services"]["binder"]["apiToken"] for hub in HUBS}
    assert len(tokens) == len(HUBS), "each hub gets its own token"


def test_second_run_leaves_bytes_untouched(inventory: Inventory) -> None:
    inventory.run()
    before = file_bytes(inventory)
    proc = inventory.run()
    assert file_bytes(inventory) == before
    assert recap_changed(proc.stdout) == dict.fromkeys(HUBS, 0)


def test_changing_one_input_changes_only_that_file(inventory: Inventory) -> None:
    inventory.run()
    before = file_bytes(inventory)
    inventory.secrets["TEST_REGISTRY_PASSWORD_HUB1"] = "rotated-registry-password-1"
    proc = inventory.run()
    after = file_bytes(inventory)
    assert after["hub1"] != before["hub1"]
    assert after["hub2"] == before["hub2"]
    assert recap_changed(proc.stdout) == {"hub1": 1, "hub2": 0}
    values = inventory.decrypt("hub1")
    assert values["binderhub-service"]["config"]["DockerRegistry"]["password"] == "rotated-registry-password-1"
    assert values["jupyterhub"]["imagePullSecret"]["password"] == "rotated-registry-password-1"


def test_token_is_stable_and_rotates_on_request(inventory: Inventory) -> None:
    def token(hub: str) -> str:
        return inventory.decrypt(hub)["jupyterhub"]["hub"]["services"]["binder"]["apiToken"]

    inventory.run()
    first = {hub: token(hub) for hub in HUBS}
    inventory.run()
    assert {hub: token(hub) for hub in HUBS} == first
    hub2_before = inventory.secret_file("hub2").read_bytes()
    inventory.run("-l", "hub1", "-e", "secrets_rotate_tokens=true")
    assert token("hub1") != first["hub1"]
    assert re.fullmatch(r"[0-9a-f]{64}", token("hub1"))
    assert inventory.secret_file("hub2").read_bytes() == hub2_before
    rotated = token("hub1")
    inventory.run()
    assert token("hub1") == rotated


def test_person_added_keys_are_kept(inventory: Inventory) -> None:
    inventory.run()
    index = '["jupyterhub"]["hub"]["config"]["GitHubOAuthenticator"]["client_secret"]'
    inventory.sops_set("hub1", index, "person-added-oauth-secret")
    edited = inventory.secret_file("hub1").read_bytes()
    inventory.run()
    assert inventory.secret_file("hub1").read_bytes() == edited, "nothing managed changed: no rewrite"
    inventory.secrets["TEST_REGISTRY_PASSWORD_HUB1"] = "another-registry-password"
    inventory.run()
    values = inventory.decrypt("hub1")
    assert values["jupyterhub"]["hub"]["config"]["GitHubOAuthenticator"]["client_secret"] == "person-added-oauth-secret"
    assert values["binderhub-service"]["config"]["DockerRegistry"]["password"] == "another-registry-password"


def test_guard_stops_an_unencrypted_secret_file(inventory: Inventory) -> None:
    inventory.run()
    before = file_bytes(inventory)
    leaked_value = "plaintext-leaked-" + os.urandom(6).hex()
    leak = inventory.secrets_dir / "enc-hub3.secret.values.yaml"
    leak.write_text(f"jupyterhub:\n  hub:\n    config:\n      client_secret: {leaked_value}\n")
    inventory.secrets["TEST_REGISTRY_PASSWORD_HUB1"] = "would-change-hub1"
    proc = inventory.run("-vvv", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert LEAK_MESSAGE in output
    assert str(leak) in output
    assert leaked_value not in output
    assert file_bytes(inventory) == before, "the guard stops the hubs before anything is written"


def test_guard_checks_hub_values_files(inventory: Inventory) -> None:
    values_dir = inventory.root / "values"
    values_dir.mkdir()
    (values_dir / "hub2.secret.values.yaml").write_text("jupyterhub: {hub: {config: {x: plaintext-in-values}}}\n")
    (values_dir / "hub2.values.yaml").write_text("jupyterhub: {}\n")
    host_file = inventory.root / "host_vars" / "hub2.yml"
    data = yaml.safe_load(host_file.read_text())
    data["hub_values_files"] = ["values/hub2.values.yaml", "values/hub2.secret.values.yaml"]
    host_file.write_text(yaml.safe_dump(data))
    proc = inventory.run("-l", "hub2", check=False)
    assert proc.returncode != 0
    assert LEAK_MESSAGE in proc.stdout
    assert "hub2.secret.values.yaml" in proc.stdout
    assert "plaintext-in-values" not in proc.stdout + proc.stderr


def test_missing_creation_rule_fails_clearly(inventory: Inventory) -> None:
    config = inventory.root / ".sops.yaml"
    config.write_text(config.read_text().replace("secrets/enc-", "elsewhere/enc-"))
    proc = inventory.run("-l", "hub1", check=False)
    assert proc.returncode != 0
    assert "hub hub1: sops cannot encrypt" in proc.stdout
    assert "no creation rule" in proc.stdout
    assert not inventory.secret_file("hub1").exists()


def test_missing_decryption_key_fails_clearly(inventory: Inventory, age_keygen: Path, tmp_path: Path) -> None:
    inventory.run("-l", "hub1")
    other_key = tmp_path / "other-keys.txt"
    subprocess.run([str(age_keygen), "-o", str(other_key)], check=True, capture_output=True)
    inventory.key_file = other_key
    proc = inventory.run("-l", "hub1", check=False)
    assert proc.returncode != 0
    assert "hub hub1: sops could not decrypt" in proc.stdout and "none of its keys is available here" in proc.stdout


def test_a_damaged_secret_file_is_called_damaged_not_keyless(inventory: Inventory) -> None:
    inventory.run("-l", "hub1")
    path = inventory.secret_file("hub1")
    document = yaml.safe_load(path.read_text())
    document["sops"]["mac"] = document["sops"]["mac"].replace("data:", "data:AAAA", 1)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    proc = inventory.run("-l", "hub1", check=False)
    assert proc.returncode != 0
    assert "hub hub1: sops could not decrypt" in proc.stdout and "the file is damaged" in proc.stdout, proc.stdout[-3000:]


def generated_and_added(inv: Inventory) -> list[str]:
    """Every token and person-added value now in the hubs' files."""
    found = []
    for hub in HUBS:
        hub_config = inv.decrypt(hub)["jupyterhub"]["hub"]
        found.append(hub_config["services"]["binder"]["apiToken"])
        found += [v["client_secret"] for v in hub_config.get("config", {}).values() if "client_secret" in v]
    return found


def test_verbose_run_prints_no_secret_and_leaves_no_plaintext(inventory: Inventory) -> None:
    first = inventory.run("-vvv")
    needles = list(inventory.secrets.values()) + generated_and_added(inventory)
    index = '["jupyterhub"]["hub"]["config"]["GitHubOAuthenticator"]["client_secret"]'
    inventory.sops_set("hub1", index, "oauth-secret-" + os.urandom(6).hex())
    inventory.secrets = {key: value + "-new" for key, value in inventory.secrets.items()}
    second = inventory.run("-vvv", "-e", "secrets_rotate_tokens=true")
    needles += list(inventory.secrets.values()) + generated_and_added(inventory)
    assert len(set(needles)) == 4 * len(HUBS) + 1
    output = first.stdout + first.stderr + second.stdout + second.stderr
    # the -vvv output was captured, with the secret values file task's whole result
    assert "task path:" in output and '"changed_keys": [' in output, output[-3000:]
    leaked = [needle[:6] for needle in needles if needle in output]
    assert leaked == []
    assert files_containing([inventory.temp, inventory.root], needles) == []
