"""sops-encrypted entries of hub_values_files: decrypted in memory, layered in their listed order.

Each test encrypts its files with sops to an age key generated for the session; the
plaintext only goes through pipes. Decryption failures name the hub and the file and hold
no secret value; nothing decrypted is ever written under the test's temporary directories.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import SopsDecryptError, sops_decrypt
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model, decrypt_values_files
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import registry_view
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import render_values
from fleet_support import AgeKey, make_age_key, sops_encrypt_to
from support import project_env, run_playbook
from test_hub_model import valid_variables

HUB = "research"
REGISTRY = {"type": "generic", "host": "127.0.0.1:5443", "url": "https://127.0.0.1:5443",
            "image_prefix": "127.0.0.1:5443/research/", "username": "research", "pull_secret_required": False}


@pytest.fixture(scope="session")
def age_key(tmp_path_factory: pytest.TempPathFactory, tool_bin: Path) -> AgeKey:
    return make_age_key(tmp_path_factory.mktemp("values-key"), tool_bin)


@pytest.fixture(scope="session")
def other_key(tmp_path_factory: pytest.TempPathFactory, tool_bin: Path) -> AgeKey:
    return make_age_key(tmp_path_factory.mktemp("other-key"), tool_bin)


@pytest.fixture
def layered_files(tmp_path: Path, age_key: AgeKey) -> tuple[Path, dict[str, Any], str]:
    """plain, encrypted, plain: the encrypted file sets a secret and a value the last file overrides."""
    token = secrets.token_hex(20)
    directory = tmp_path / "inventory"
    directory.mkdir()
    (directory / "first.values.yaml").write_text(yaml.safe_dump(
        {"jupyterhub": {"cull": {"timeout": 100, "every": 10}}}))
    sops_encrypt_to(directory / "enc-research.secret.values.yaml", {
        "jupyterhub": {"cull": {"timeout": 200}, "hub": {"extraEnv": {"SHARED_TOKEN": token}}},
        "binderhub-service": {"config": {"GitHubRepoProvider": {"access_token": token[::-1]}}},
    }, age_key)
    (directory / "last.values.yaml").write_text(yaml.safe_dump({"jupyterhub": {"cull": {"every": 30}}}))
    variables = copy.deepcopy(valid_variables())
    variables["hub_values_files"] = ["first.values.yaml", "enc-research.secret.values.yaml", "last.values.yaml"]
    return directory, variables, token


def _model(directory: Path, variables: dict[str, Any]) -> Any:  # noqa: ANN401 - a HubModel
    return build_model(variables, base_dir=str(directory))


def _files_holding(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_encrypted_file_is_listed_but_not_read_by_the_model(layered_files) -> None:
    directory, variables, token = layered_files
    model = _model(directory, variables)
    assert [(Path(f.path).name, f.encrypted) for f in model.values_files] == [
        ("first.values.yaml", False), ("enc-research.secret.values.yaml", True), ("last.values.yaml", False)]
    assert model.values_files[1].content == {}
    assert token not in json.dumps(model.to_dict())
    rendered = render_values(model, registry_view(REGISTRY, HUB))
    assert rendered["jupyterhub"]["cull"] == {"timeout": 100, "every": 30}


def test_decrypted_in_memory_and_layered_in_listed_order(layered_files, age_key: AgeKey,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    directory, variables, token = layered_files
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(age_key.key_file))
    model = decrypt_values_files(_model(directory, variables), sops_decrypt)
    assert model.values_files[1].encrypted
    rendered = render_values(model, registry_view(REGISTRY, HUB))
    # first sets timeout 100 and every 10, the encrypted file timeout 200, last every 30.
    assert rendered["jupyterhub"]["cull"] == {"timeout": 200, "every": 30}
    assert rendered["jupyterhub"]["hub"]["extraEnv"]["SHARED_TOKEN"] == token
    assert rendered["binderhub-service"]["config"]["GitHubRepoProvider"]["access_token"] == token[::-1]
    assert not _files_holding(tmp_path, token), "decrypted values were written to disk"


def test_wrong_key_names_hub_and_file_without_secrets(layered_files, other_key: AgeKey,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    directory, variables, token = layered_files
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other_key.key_file))
    with pytest.raises(HubModelError) as raised:
        decrypt_values_files(_model(directory, variables), sops_decrypt)
    message = str(raised.value)
    assert raised.value.hub == HUB
    assert f"hub {HUB!r}: hub_values_files[1]: sops could not decrypt {directory / 'enc-research.secret.values.yaml'}" \
        in message
    assert token not in message


def test_missing_sops_binary_is_a_clear_error(layered_files) -> None:
    directory, _, _ = layered_files
    with pytest.raises(SopsDecryptError, match=r"sops could not decrypt .*not on PATH"):
        sops_decrypt(str(directory / "enc-research.secret.values.yaml"), binary="no-such-sops-binary")


def test_decrypted_values_are_checked_like_plain_ones(tmp_path: Path, age_key: AgeKey,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sops_encrypt_to(tmp_path / "enc-x.secret.values.yaml", {"basehub": {"jupyterhub": {"x": "hidden-value"}}}, age_key)
    variables = copy.deepcopy(valid_variables())
    variables["hub_values_files"] = ["enc-x.secret.values.yaml"]
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(age_key.key_file))
    with pytest.raises(HubModelError) as raised:
        decrypt_values_files(_model(tmp_path, variables), sops_decrypt)
    assert "hub_values_files[0]: basehub: top-level key 'basehub'" in str(raised.value)
    assert "hidden-value" not in str(raised.value)


def _write_playbook(directory: Path, variables: dict[str, Any]) -> tuple[Path, Path]:
    (directory / "host_vars").mkdir(parents=True, exist_ok=True)
    (directory / "host_vars" / f"{HUB}.yml").write_text(yaml.safe_dump({**variables, "ansible_connection": "local"}))
    inventory = directory / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {HUB: None}}}))
    playbook = directory / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Decrypt values files", "hosts": HUB, "gather_facts": False,
        "tasks": [
            {"name": "Render without decrypting", "imagebuilding.hubs.hub_values": {"registry": REGISTRY}, "register": "public"},
            {"name": "Decrypting without no_log is refused",
             "imagebuilding.hubs.hub_values": {"registry": REGISTRY, "decrypt": True},
             "register": "refused", "ignore_errors": True},
            {"name": "Decrypt", "imagebuilding.hubs.hub_values": {"registry": REGISTRY, "decrypt": True}, "register": "layered",
             "no_log": True, "failed_when": False},
            {"name": "Report", "ansible.builtin.fail": {"msg": "{{ layered.decrypt_error }}"},
             "when": "layered.decrypt_error is defined"},
            {"name": "Check", "ansible.builtin.assert": {"quiet": True, "that": [
                "public.encrypted_values_files | length == 1",
                "'SHARED_TOKEN' not in public['values']['jupyterhub'].get('hub', {}).get('extraEnv', {})",
                "refused is failed and 'needs no_log' in refused.msg",
                "layered['values']['jupyterhub']['hub']['extraEnv']['SHARED_TOKEN'] | length == 40",
                "layered.secret_values | length == 1",
            ]}},
        ],
    }]))
    return inventory, playbook


@pytest.mark.parametrize("key", ["right", "wrong"])
def test_action_plugin_keeps_secrets_out_of_output_and_disk(layered_files, age_key: AgeKey, other_key: AgeKey,
                                                           tmp_path: Path, key: str) -> None:
    directory, variables, token = layered_files
    variables["hub_values_files"] = [str(directory / name) for name in variables["hub_values_files"]]
    inventory, playbook = _write_playbook(tmp_path / "play", variables)
    local_temp = tmp_path / "ansible-tmp"
    env = project_env(SOPS_AGE_KEY_FILE=str((age_key if key == "right" else other_key).key_file),
                      ANSIBLE_LOCAL_TEMP=str(local_temp), ANSIBLE_REMOTE_TEMP=str(local_temp), TMPDIR=str(local_temp))
    local_temp.mkdir()
    run = run_playbook("-vvv", "-i", str(inventory), str(playbook), env=env)
    assert token not in run.output
    assert token[::-1] not in run.output
    assert not _files_holding(tmp_path, token)
    assert not _files_holding(Path(os.environ.get("HOME", "/nonexistent")) / ".ansible" / "tmp", token)
    if key == "right":
        assert run.rc == 0, run.output[-4000:]
    else:
        assert run.rc != 0
        assert f"hub {HUB!r}: hub_values_files[1]: sops could not decrypt {directory}/enc-research" in run.output


def test_render_decrypts_with_the_given_age_key_file(layered_files, age_key: AgeKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets role's sops options (secrets_sops_age_keyfile) reach the decryption of values files."""
    from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_environment
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, render_model

    directory, variables, token = layered_files
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    with pytest.raises(RenderError):  # no key anywhere: sops cannot decrypt
        render_model(variables, REGISTRY, base_dir=str(directory), decrypt=True, env=sops_environment(None))
    rendering = render_model(variables, REGISTRY, base_dir=str(directory), decrypt=True,
                             env=sops_environment(str(age_key.key_file)))
    assert rendering.values["jupyterhub"]["hub"]["extraEnv"]["SHARED_TOKEN"] == token
