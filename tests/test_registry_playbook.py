"""playbooks/registry.yml: every selected hub is validated before any registry changes."""

from __future__ import annotations

import json
from pathlib import Path

from support import VENV_BIN, run_playbook


def inventory(tmp_path: Path, hubs: dict[str, dict]) -> Path:
    # The hubs build images (hub_image_building: enabled): a hub that builds none has no registry to check.
    common = {"ansible_connection": "local", "ansible_python_interpreter": str(VENV_BIN / "python"),
              "hub_image_building": "enabled"}
    data = {
        "all": {
            "children": {
                "local": {
                    "vars": {"cluster_name": "local", "secrets_dir": str(tmp_path / "secrets")},
                    "hosts": {name: {**common, **hub} for name, hub in hubs.items()},
                }
            }
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps(data))
    return path


def test_an_invalid_hub_stops_the_run_before_anything_changes(tmp_path: Path) -> None:
    htpasswd = tmp_path / "htpasswd"
    good = {"registry_type": "generic", "registry_host": "127.0.0.1:5443", "registry_htpasswd_file": str(htpasswd)}
    bad = {**good, "registry_image_prefix": "127.0.0.1:5000/local-physics/"}
    path = inventory(tmp_path, {"research": good, "physics": bad})
    run = run_playbook("-i", str(path), "playbooks/registry.yml")
    assert run.rc != 0
    assert "hub 'physics': invalid registry settings (generic)" in run.output
    expected = "registry_image_prefix '127.0.0.1:5000/local-physics/' must start with the registry host '127.0.0.1:5443/'"
    assert expected in run.output
    assert not htpasswd.exists(), "the valid hub must not have been set up either"
    assert "Set up and verify the registries" not in run.output


def test_missing_type_specific_settings_are_named(tmp_path: Path) -> None:
    hubs = {
        "gcphub": {"registry_type": "gcp", "registry_gcp_region": "us-central1"},
        "quayhub": {"registry_type": "quay", "registry_quay_org": "myorg"},
        "generichub": {"registry_type": "generic", "registry_host": "ghcr.io", "registry_image_prefix": "ghcr.io/myorg/x-"},
    }
    run = run_playbook("-i", str(inventory(tmp_path, hubs)), "playbooks/registry.yml")
    assert run.rc != 0
    assert "hub 'gcphub'" in run.output and "registry_gcp_project is required" in run.output
    assert "registry_terraform_vars_file is required for gcp" in run.output
    assert "hub 'quayhub'" in run.output and "registry_quay_robot_token or registry_quay_api_token is required" in run.output
    assert "hub 'generichub'" in run.output and "registry_username is required for a generic registry" in run.output


def test_argument_specs_name_the_variable(tmp_path: Path) -> None:
    hubs = {"research": {"registry_type": "ecr"}}
    run = run_playbook("-i", str(inventory(tmp_path, hubs)), "playbooks/registry.yml")
    assert run.rc != 0
    assert "registry_type" in run.output and "ecr" in run.output and "[research]" in run.output
