"""scripts/local-age-key.sh and scripts/hub-secrets with real sops and age keys made at test time."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml


@pytest.fixture(scope="session")
def age_keygen(tool_bin: Path) -> Path:
    path = tool_bin / "age-keygen"
    if not path.exists():
        pytest.skip("age-keygen is not built: run `make tools`")
    return path


def make_key(repo_root: Path, age_keygen: Path, inventory: Path, key_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo_root / "scripts" / "local-age-key.sh"), "--inventory", str(inventory), "--key-file", str(key_file)],
        env=dict(os.environ, IBH_BIN=str(age_keygen.parent)),
        capture_output=True,
        text=True,
        check=True,
    )


def sops_env(repo_root: Path, key_file: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PATH=f"{repo_root / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        SOPS_AGE_KEY_FILE=str(key_file),
        SOPS_DISABLE_VERSION_CHECK="1",
    )


@pytest.fixture
def hub_inventory(tmp_path: Path, repo_root: Path, age_keygen: Path) -> tuple[Path, Path]:
    """An inventory with a .sops.yaml and hub1's encrypted secret values file."""
    inventory, key_file = tmp_path / "inventory", tmp_path / "age" / "keys.txt"
    make_key(repo_root, age_keygen, inventory, key_file)
    secrets = inventory / "secrets"
    secrets.mkdir()
    encrypted = subprocess.run(
        [
            str(repo_root / ".venv" / "bin" / "sops"),
            "encrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--filename-override",
            "enc-hub1.secret.values.yaml",
            "/dev/stdin",
        ],
        cwd=secrets,
        env=sops_env(repo_root, key_file),
        input="jupyterhub:\n  hub:\n    services:\n      binder:\n        apiToken: original-token\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (secrets / "enc-hub1.secret.values.yaml").write_text(encrypted)
    return inventory, key_file


def hub_secrets(
    repo_root: Path, key_file: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo_root / "scripts" / "hub-secrets"), *args],
        env={**sops_env(repo_root, key_file), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_local_age_key_creates_key_and_rules_once(tmp_path: Path, repo_root: Path, age_keygen: Path) -> None:
    inventory, key_file = tmp_path / "inventory", tmp_path / "age" / "keys.txt"
    make_key(repo_root, age_keygen, inventory, key_file)
    config = inventory / ".sops.yaml"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    recipient = subprocess.run([str(age_keygen), "-y", str(key_file)], capture_output=True, text=True, check=True).stdout.strip()
    rules = yaml.safe_load(config.read_text())["creation_rules"]
    assert rules == [{"path_regex": r"secrets/enc-.*\.secret\.values\.yaml$", "age": recipient}]
    assert re.search(rules[0]["path_regex"], "secrets/enc-hub1.secret.values.yaml")
    key_before, config_before = key_file.read_bytes(), config.read_bytes()
    mtime = config.stat().st_mtime_ns
    second = make_key(repo_root, age_keygen, inventory, key_file)
    assert second.stdout == ""
    assert key_file.read_bytes() == key_before
    assert config.read_bytes() == config_before and config.stat().st_mtime_ns == mtime


def test_local_age_key_warns_about_files_for_another_key(
    hub_inventory: tuple[Path, Path], repo_root: Path, age_keygen: Path
) -> None:
    inventory, key_file = hub_inventory
    proc = make_key(repo_root, age_keygen, inventory, key_file.parent / "new-keys.txt")
    assert "WARNING" in proc.stdout and "enc-hub1.secret.values.yaml" in proc.stdout


def test_view_and_path(hub_inventory: tuple[Path, Path], repo_root: Path) -> None:
    inventory, key_file = hub_inventory
    path = hub_secrets(repo_root, key_file, "path", "hub1", "-i", str(inventory))
    assert path.stdout.strip() == str(inventory / "secrets" / "enc-hub1.secret.values.yaml")
    view = hub_secrets(repo_root, key_file, "view", "hub1", "-i", str(inventory))
    assert view.returncode == 0, view.stderr
    assert yaml.safe_load(view.stdout)["jupyterhub"]["hub"]["services"]["binder"]["apiToken"] == "original-token"


def test_set_adds_a_key_without_touching_others(hub_inventory: tuple[Path, Path], repo_root: Path) -> None:
    inventory, key_file = hub_inventory
    key = "jupyterhub.hub.config.GitHubOAuthenticator.client_secret"
    proc = hub_secrets(repo_root, key_file, "set", "hub1", key, "-i", str(inventory), stdin='value with "quotes"\n')
    assert proc.returncode == 0, proc.stderr
    assert "quotes" not in proc.stdout + proc.stderr
    file_text = (inventory / "secrets" / "enc-hub1.secret.values.yaml").read_text()
    assert "quotes" not in file_text
    values = yaml.safe_load(hub_secrets(repo_root, key_file, "view", "hub1", "-i", str(inventory)).stdout)
    assert values["jupyterhub"]["hub"]["config"]["GitHubOAuthenticator"]["client_secret"] == 'value with "quotes"'
    assert values["jupyterhub"]["hub"]["services"]["binder"]["apiToken"] == "original-token"


def test_edit_uses_a_memory_backed_temp_dir(hub_inventory: tuple[Path, Path], repo_root: Path, tmp_path: Path) -> None:
    if not Path("/dev/shm").is_dir():
        pytest.skip("no /dev/shm here")
    inventory, key_file = hub_inventory
    seen = tmp_path / "editor-saw"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > {seen}\nsed -i "s/original-token/edited-token/" "$1"\n')
    editor.chmod(0o755)
    proc = hub_secrets(
        repo_root, key_file, "edit", "hub1", "-i", str(inventory), env={"EDITOR": str(editor), "XDG_RUNTIME_DIR": ""}
    )
    assert proc.returncode == 0, proc.stderr
    edited_path = Path(seen.read_text().strip())
    assert str(edited_path).startswith("/dev/shm/hub-secrets-")
    assert not edited_path.exists() and not edited_path.parent.parent.exists(), "the private temp dir is removed"
    values = yaml.safe_load(hub_secrets(repo_root, key_file, "view", "hub1", "-i", str(inventory)).stdout)
    assert values["jupyterhub"]["hub"]["services"]["binder"]["apiToken"] == "edited-token"
    assert "edited-token" not in (inventory / "secrets" / "enc-hub1.secret.values.yaml").read_text()


def test_missing_file_and_bad_hub_name(hub_inventory: tuple[Path, Path], repo_root: Path) -> None:
    inventory, key_file = hub_inventory
    missing = hub_secrets(repo_root, key_file, "view", "hub2", "-i", str(inventory))
    assert missing.returncode == 2 and "playbooks/seal.yml -l hub2" in missing.stderr
    bad = hub_secrets(repo_root, key_file, "view", "../hub1", "-i", str(inventory))
    assert bad.returncode == 2 and "not a DNS label" in bad.stderr
