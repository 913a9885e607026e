"""quay robot accounts through the Quay API, against a local stand-in of the API
(quay.io cannot be reached from here; see tests/fakes/quay_api.py)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.quay_api import QuayServer, QuayState, serve
from registry_support import run_module
from support import VENV_BIN, run_playbook

API_TOKEN = "oauth-token-of-myorg-0123456789"


@pytest.fixture
def quay() -> Iterator[QuayServer]:
    state = QuayState(tokens={API_TOKEN: "myorg", "oauth-token-of-otherorg-42": "otherorg"})
    state.add_robot("myorg", "eu_existing", token="EXISTINGTOKEN0123456789ABCDEF")
    with serve(state) as server:
        yield server


def robot_args(quay: QuayServer, robot: str, **extra: object) -> dict:
    return {"api_url": quay.url, "api_token": API_TOKEN, "organization": "myorg", "robot": robot, **extra}


def test_lookup_returns_the_existing_robot_token(quay: QuayServer) -> None:
    result = run_module("quay_robot", robot_args(quay, "eu_existing"))
    assert result.get("failed") is not True, result
    assert result["changed"] is False
    assert result["name"] == "myorg+eu_existing"
    assert result["token"] == "EXISTINGTOKEN0123456789ABCDEF"
    assert quay.state.calls == [("GET", "/api/v1/organization/myorg/robots/eu_existing")]
    assert API_TOKEN not in json.dumps(result), "the API token must not appear in the result"


def test_missing_robot_is_created_once(quay: QuayServer) -> None:
    first = run_module("quay_robot", robot_args(quay, "eu_research", description="BinderHub build pods of research"))
    assert first["changed"] is True and first["created"] is True
    assert first["name"] == "myorg+eu_research"
    created = quay.state.robots["myorg"]["eu_research"]
    assert first["token"] == created["token"]
    assert created["description"] == "BinderHub build pods of research"
    second = run_module("quay_robot", robot_args(quay, "eu_research"))
    assert second["changed"] is False and second["token"] == first["token"]
    assert [method for method, _ in quay.state.calls] == ["GET", "PUT", "GET"]


def test_check_mode_creates_nothing(quay: QuayServer) -> None:
    result = run_module("quay_robot", robot_args(quay, "eu_new"), check=True)
    assert result["changed"] is True and result["created"] is True
    assert "token" not in result
    assert "eu_new" not in quay.state.robots["myorg"]
    assert [method for method, _ in quay.state.calls] == ["GET"]


def test_regenerate_replaces_the_token(quay: QuayServer) -> None:
    result = run_module("quay_robot", robot_args(quay, "eu_existing", state="regenerated"))
    assert result["changed"] is True and result["regenerated"] is True
    assert result["token"] != "EXISTINGTOKEN0123456789ABCDEF"
    assert result["token"] == quay.state.robots["myorg"]["eu_existing"]["token"]
    assert quay.state.calls[-1] == ("POST", "/api/v1/organization/myorg/robots/eu_existing/regenerate")


def test_bad_api_token_fails_clearly(quay: QuayServer) -> None:
    result = run_module("quay_robot", {**robot_args(quay, "eu_existing"), "api_token": "wrong-token-123456"})
    assert result["failed"] is True
    assert "HTTP 401" in result["msg"] and "registry_quay_api_token" in result["msg"]


def test_token_of_another_organization_is_refused(quay: QuayServer) -> None:
    result = run_module("quay_robot", {**robot_args(quay, "eu_existing"), "api_token": "oauth-token-of-otherorg-42"})
    assert result["failed"] is True
    assert "HTTP 403" in result["msg"] and "org:admin" in result["msg"]


def test_invalid_robot_name_is_refused_before_any_call(quay: QuayServer) -> None:
    result = run_module("quay_robot", robot_args(quay, "eu-research"))
    assert result["failed"] is True and "not a valid robot short name" in result["msg"]
    assert quay.state.calls == []


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


def quay_inventory(tmp_path: Path, quay: QuayServer, **hostvars: object) -> Path:
    inventory = {
        "all": {
            "hosts": {
                "research": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": str(VENV_BIN / "python"),
                    "cluster_name": "eu",
                    "registry_type": "quay",
                    "registry_quay_org": "myorg",
                    "registry_quay_api_url": quay.url,
                    "registry_quay_api_token": API_TOKEN,
                    # quay.io cannot be reached from here: only the API stand-in is checked.
                    "registry_verify": False,
                    "secrets_dir": str(tmp_path / "secrets"),
                    **hostvars,
                }
            }
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps(inventory))
    return path


def test_role_creates_the_robot_and_publishes_the_definition(tmp_path: Path, quay: QuayServer) -> None:
    inventory = quay_inventory(tmp_path, quay)
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    run = run_playbook("-i", str(inventory), str(playbook), "-e", f"out_dir={tmp_path}")
    assert run.rc == 0, run.output
    definition = json.loads((tmp_path / "research.json").read_text())
    robot = quay.state.robots["myorg"]["eu_research"]
    assert definition == {
        "type": "quay",
        "host": "quay.io",
        "url": "https://quay.io",
        "image_prefix": "quay.io/myorg/eu-research-",
        "username": "myorg+eu_research",
        "password": robot["token"],
        "pull_secret_required": True,
    }
    assert robot["token"] not in run.output and API_TOKEN not in run.output


def test_role_rotation_regenerates_the_robot_token(tmp_path: Path, quay: QuayServer) -> None:
    quay.state.add_robot("myorg", "eu_research", token="OLDTOKEN0123456789")
    inventory = quay_inventory(tmp_path, quay)
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    run = run_playbook("-i", str(inventory), str(playbook), "-e", f"out_dir={tmp_path}", "-e", "registry_rotate=true")
    assert run.rc == 0, run.output
    definition = json.loads((tmp_path / "research.json").read_text())
    assert definition["password"] != "OLDTOKEN0123456789"
    assert definition["password"] == quay.state.robots["myorg"]["eu_research"]["token"]


def test_role_fails_with_hub_and_variable_named(tmp_path: Path, quay: QuayServer) -> None:
    inventory = quay_inventory(tmp_path, quay, registry_quay_robot="eu-research", registry_image_prefix="quay.io/other/x-")
    playbook = tmp_path / "play.yml"
    playbook.write_text(textwrap.dedent(PLAYBOOK))
    run = run_playbook("-i", str(inventory), str(playbook), "-e", f"out_dir={tmp_path}")
    assert run.rc != 0
    assert "hub 'research'" in run.output
    assert "registry_quay_robot 'eu-research' is invalid" in run.output
    assert quay.state.calls == [], "nothing may be called before the settings are valid"
