"""Unit tests of the secrets role's Python: the desired-content filter and the leak detection."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.imagebuilding.hubs.plugins.module_utils import sops_files
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import get_path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "jupyterhub.hub.services.binder.apiToken"


def load_filter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("secret_values_filter", ROOT / "plugins" / "filter" / "secret_values.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


f = load_filter()

REGISTRY = {
    "type": "quay",
    "host": "quay.io",
    "url": "https://quay.io",
    "image_prefix": "quay.io/org/c-h-",
    "username": "org+robot",
    "password": "robot-token",
    "pull_secret_required": True,
}


def test_empty_file_gets_chart_keys_registry_and_token() -> None:
    desired = f.hub_sealed_values(None, registry=REGISTRY, tokens=[{"path": TOKEN, "length": 64}])
    assert set(desired) == {"jupyterhub", "binderhub-service", "dask-gateway"}
    assert desired["binderhub-service"] == {
        "config": {"DockerRegistry": {"password": "robot-token"}},
        "buildPodsRegistryCredentials": {"password": "robot-token"},
    }
    assert desired["jupyterhub"]["imagePullSecret"] == {"username": "org+robot", "password": "robot-token"}
    assert re.fullmatch(r"[0-9a-f]{64}", get_path(desired, TOKEN))
    assert desired["dask-gateway"] == {}


def test_no_pull_secret_unless_required() -> None:
    desired = f.hub_sealed_values({}, registry={**REGISTRY, "pull_secret_required": False})
    assert "imagePullSecret" not in desired["jupyterhub"]


def test_undefined_registry_leaves_registry_keys() -> None:
    current = {"binderhub-service": {"config": {"DockerRegistry": {"password": "old"}}}}
    assert f.hub_sealed_values(current, registry=None) == {**current, "jupyterhub": {}, "dask-gateway": {}}
    no_password = f.hub_sealed_values(current, registry={**REGISTRY, "password": ""})
    assert no_password["binderhub-service"] == current["binderhub-service"]


def test_existing_token_and_person_keys_are_kept() -> None:
    current = {
        "jupyterhub": {
            "hub": {"services": {"binder": {"apiToken": "a" * 64}}, "config": {"GitHubOAuthenticator": {"client_secret": "gh"}}}
        },
        "binderhub-service": {},
        "dask-gateway": {"gateway": {"auth": {"jupyterhub": {"apiToken": "person"}}}},
    }
    desired = f.hub_sealed_values(current, tokens=[{"path": TOKEN}])
    assert desired == current
    assert f.hub_sealed_values_changed(current, desired) == []


def test_rotation_replaces_only_generated_tokens() -> None:
    current = {"jupyterhub": {"hub": {"services": {"binder": {"apiToken": "a" * 64}}, "config": {"X": {"client_secret": "s"}}}}}
    desired = f.hub_sealed_values(current, tokens=[TOKEN], rotate=True)
    assert get_path(desired, TOKEN) != "a" * 64
    assert get_path(desired, "jupyterhub.hub.config.X.client_secret") == "s"
    assert f.hub_sealed_values_changed(current, desired) == ["binderhub-service", "dask-gateway", TOKEN]


def test_input_is_not_modified() -> None:
    current = {"jupyterhub": {"hub": {}}}
    f.hub_sealed_values(current, registry=REGISTRY, tokens=[TOKEN])
    assert current == {"jupyterhub": {"hub": {}}}


def test_extra_values_win() -> None:
    extra = {"jupyterhub": {"hub": {"config": {"GitHubOAuthenticator": {"client_secret": "from-vault"}}}}}
    current = {"jupyterhub": {"hub": {"config": {"GitHubOAuthenticator": {"client_secret": "old", "client_id": "id"}}}}}
    desired = f.hub_sealed_values(current, extra=extra)
    assert desired["jupyterhub"]["hub"]["config"]["GitHubOAuthenticator"] == {"client_secret": "from-vault", "client_id": "id"}


@pytest.mark.parametrize("length", [16, 63])
def test_bad_token_length_is_refused(length: int) -> None:
    with pytest.raises(AnsibleFilterError):
        f.hub_sealed_values({}, tokens=[{"path": TOKEN, "length": length}])


def test_non_mapping_content_is_refused_without_showing_it() -> None:
    with pytest.raises(AnsibleFilterError) as err:
        f.hub_sealed_values(["secret-in-a-list"])
    assert "secret-in-a-list" not in str(err.value)


def test_changed_lists_names_only() -> None:
    changed = f.hub_sealed_values_changed({"a": {"b": "old", "c": "same"}}, {"a": {"b": "new-value", "c": "same"}, "d": {}})
    assert changed == ["a.b", "d"]


SOPS_YAML = {
    "jupyterhub": "ENC[AES256_GCM,data:xx,iv:yy,tag:zz,type:str]",
    "sops": {"age": [], "lastmodified": "2026-01-01T00:00:00Z", "mac": "ENC[...]", "version": "3.11.0"},
}


@pytest.mark.parametrize(
    ("name", "content", "encrypted"),
    [
        ("enc-a.secret.values.yaml", yaml.safe_dump(SOPS_YAML), True),
        ("enc-a.secret.values.json", '{"data": "ENC[..]", "sops": {"mac": "m", "lastmodified": "t"}}', True),
        # sops JSON re-indented with tabs (not YAML: YAML forbids tabs in indentation), with a leading
        # newline, and as a YAML flow mapping: sops metadata in any formatting
        ("enc-a.secret.values.json", json.dumps(SOPS_YAML, indent="\t"), True),
        ("enc-a.secret.values.yaml", "\n" + json.dumps(SOPS_YAML, indent="\t"), True),
        ("enc-a.secret.values.yaml", "{jupyterhub: 'ENC[x]', sops: {mac: m, lastmodified: t}}\n", True),
        ("enc-a.secret.values.json", json.dumps({"password": "hunter2"}, indent="\t"), False),
        ("a.secret.env", "password=ENC[..]\nsops_mac=ENC[..]\nsops_lastmodified=2026\n", True),
        ("a.secret.ini", "[app]\npassword = ENC[..]\n[sops]\nmac = m\nlastmodified = t\n", True),
        ("enc-a.secret.values.yaml", "jupyterhub:\n  password: hunter2\n", False),
        ("enc-a.secret.values.yaml", "sops: true\n", False),
        ("enc-a.secret.values.yaml", "sops: {version: 3.11.0}\n", False),
        ("enc-a.secret.values.yaml", "password: [unclosed\n", False),
        ("a.secret.env", "password=hunter2\n", False),
        ("a.secret.ini", "[app]\npassword = hunter2\n", False),
        ("a.secret.bin", "\udcff", False),
    ],
)
def test_is_sops_encrypted(tmp_path: Path, name: str, content: str, encrypted: bool) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    assert sops_files.is_sops_encrypted(str(path)) is encrypted


def test_find_leaks_by_name(tmp_path: Path) -> None:
    (tmp_path / "secrets" / "sub").mkdir(parents=True)
    (tmp_path / "secrets" / "enc-ok.secret.values.yaml").write_text(yaml.safe_dump(SOPS_YAML))
    (tmp_path / "secrets" / "sub" / "Hub.SECRET.yaml").write_text("password: x\n")
    (tmp_path / "secrets" / "notes.yaml").write_text("password: not named like a secret\n")
    (tmp_path / "secrets" / ".git").mkdir()
    (tmp_path / "secrets" / ".git" / "secret-object").write_text("ignored\n")
    values = tmp_path / "hub.secret.values.yaml"
    values.write_text("password: y\n")
    checked, leaked = sops_files.find_leaks([str(tmp_path / "secrets"), str(values), str(tmp_path / "missing")])
    assert sorted(Path(p).name for p in checked) == ["Hub.SECRET.yaml", "enc-ok.secret.values.yaml", "hub.secret.values.yaml"]
    assert sorted(Path(p).name for p in leaked) == ["Hub.SECRET.yaml", "hub.secret.values.yaml"]


def test_leak_message_names_files_only() -> None:
    message = sops_files.leak_message("hub1", ["/inv/secrets/x.secret.yaml"])
    assert message.startswith("hub hub1:")
    assert "MAY HAVE LEAKED" in message and "/inv/secrets/x.secret.yaml" in message


def test_find_sops_config_searches_upwards(tmp_path: Path) -> None:
    (tmp_path / "inv" / "secrets").mkdir(parents=True)
    (tmp_path / "inv" / ".sops.yaml").write_text("creation_rules: []\n")
    assert sops_files.find_sops_config(str(tmp_path / "inv" / "secrets")) == str(tmp_path / "inv" / ".sops.yaml")
    new_file = tmp_path / "inv" / "secrets" / "new" / "f.yaml"
    assert sops_files.nearest_existing_dir(str(new_file)) == str(tmp_path / "inv" / "secrets")


def test_secret_values_file_is_one_rule_for_roles_and_scripts() -> None:
    assert f.hub_sealed_values_file("/fleet/secrets", "staging") == "/fleet/secrets/enc-staging.secret.values.yaml"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "hub-secrets"), "path", "staging", "-i",
                           str(ROOT / "inventories" / "local")], capture_output=True, text=True, check=False)
    assert proc.stdout.strip() == f.hub_sealed_values_file(str(ROOT / "inventories" / "local" / "secrets"), "staging")


def test_a_bad_token_path_is_refused_by_name() -> None:
    with pytest.raises(AnsibleFilterError, match=re.escape("invalid key path 'a..b'")):
        f.hub_sealed_values({}, tokens=["a..b"])


def test_no_plaintext_data_file_of_the_repository_is_named_like_a_secret() -> None:
    """The leak guard's rule on the repository itself: a YAML/JSON file whose name says "secret"
    (documentation files of filters included) is sops-encrypted."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    named = [name for name in listed if Path(name).suffix in (".yml", ".yaml", ".json") and sops_files.name_looks_secret(name)]
    assert [name for name in named if not sops_files.is_sops_encrypted(str(ROOT / name))] == []
