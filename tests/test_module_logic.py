"""The controller-side modules' logic as plain functions (plugins/module_utils/<module>.py):
one argument spec for the module and its action plugin, the same results in the task's worker
as from the module, secrets masked, and no private ansible-core names.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import ModuleFailure, RunContext
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.module_logic_action import (
    ModuleLogicAction,
    logic_params,
    logic_result,
)
from support import ROOT, VENV_BIN, project_env, run_playbook

MODULES = ("htpasswd_user", "registry_login", "terraform_container_repos", "sops_leak_guard", "registry_check",
           "quay_robot", "terraform_registry_keys", "sops_preflight")
SECRET = "SeCrEtPaSsWoRd42"


def _logic(name: str):  # noqa: ANN202 - a ModuleLogic
    module = __import__(f"ansible_collections.imagebuilding.hubs.plugins.module_utils.{name}", fromlist=["LOGIC"])
    return module.LOGIC


def test_every_logic_action_is_listed() -> None:
    """Each action plugin built on ModuleLogicAction runs the logic of the module of its name."""
    found = []
    for path in sorted((ROOT / "plugins" / "action").glob("*.py")):
        module = __import__(f"ansible_collections.imagebuilding.hubs.plugins.action.{path.stem}", fromlist=["ActionModule"])
        if issubclass(module.ActionModule, ModuleLogicAction):
            assert module.ActionModule.LOGIC.name == path.stem
            found.append(path.stem)
    assert sorted(found) == sorted(MODULES)


def test_documentation_matches_the_argument_spec() -> None:
    """ansible-doc's options of each module are its argument spec: names, types, required, defaults, choices."""
    proc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-j", "-t", "module", *(f"imagebuilding.hubs.{n}" for n in MODULES)],
                          cwd=ROOT, env=project_env(), capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    for name in MODULES:
        options = docs[f"imagebuilding.hubs.{name}"]["doc"]["options"]
        spec = _logic(name).argument_spec
        assert set(options) == set(spec), name
        for option, wanted in spec.items():
            doc = options[option]
            where = f"{name}.{option}"
            assert doc.get("type", "str") == wanted.get("type", "str"), where
            assert bool(doc.get("required")) == bool(wanted.get("required")), where
            assert doc.get("default") == wanted.get("default"), where
            assert doc.get("choices") == wanted.get("choices"), where
            assert doc.get("elements") == wanted.get("elements"), where


def test_no_private_ansible_core_names_in_plugins() -> None:
    private = ("_ANSIBLE_ARGS", "_ANSIBLE_PROFILE", "get_module_encoder", "_load_params", "_parse_returned_data",
               "_update_module_args")
    for path in (ROOT / "plugins").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [name for name in private if name in text], path


def test_logic_result_masks_no_log_values_and_keeps_warnings() -> None:
    logic = _logic("registry_login")
    params = logic_params(logic, {"url": "https://127.0.0.1:1", "username": "u", "password": SECRET,
                                  "image_prefix": "127.0.0.1:1/x/", "hub": SECRET, "timeout": 2})
    result = logic_result(logic, params, RunContext())
    assert result["failed"] is True and result["kind"] == "unreachable"
    assert SECRET not in json.dumps(result) and "hub '********'" in result["msg"]
    definition = _logic("registry_check")
    context = RunContext()
    ok = logic_result(definition, logic_params(definition, {
        "type": "generic", "hub": "research", "host": "127.0.0.1:5443", "namespace": "ns", "username": "research",
        "password_given": True, "rotate": True}), context)
    assert ok["changed"] is False and ok["password_source"] == "given"
    assert ok["warnings"] == context.warnings and "registry_rotate" in ok["warnings"][0]


def test_logic_params_apply_defaults_and_refuse_bad_arguments(tmp_path: Path) -> None:
    logic = _logic("htpasswd_user")
    params = logic_params(logic, {"path": str(tmp_path / "htpasswd"), "username": "alice", "password": "pw-12345678"})
    assert (params["state"], params["create"], params["cost"], params["mode"]) == ("present", True, 5, "0600")
    with pytest.raises(ModuleFailure, match="missing: password"):
        logic_params(logic, {"path": str(tmp_path / "htpasswd"), "username": "alice"})
    planned = logic.run(params, RunContext(check_mode=True, diff=True))
    assert planned["changed"] is True and planned["entry"] == "added" and not (tmp_path / "htpasswd").exists()
    written = logic.run({**params, "mode": "0640"}, RunContext())
    assert written["entry"] == "added" and (tmp_path / "htpasswd").stat().st_mode & 0o777 == 0o640


CASES = """\
- name: A definition with warnings
  imagebuilding.hubs.registry_check: {type: generic, hub: research, host: "127.0.0.1:5443", namespace: ns,
                                           username: research, password_given: true, rotate: true, quay_org: myorg}
  environment: "{{ env }}"
  register: r1
- name: An invalid definition
  imagebuilding.hubs.registry_check: {type: generic, hub: research, host: "bad host"}
  environment: "{{ env }}"
  register: r2
  ignore_errors: true
- name: A leaked secret file
  imagebuilding.hubs.sops_leak_guard: {paths: ["{{ playbook_dir }}/secrets"], hub: research}
  environment: "{{ env }}"
  register: r3
  ignore_errors: true
- name: A new htpasswd entry in check mode with a diff
  imagebuilding.hubs.htpasswd_user: {path: "{{ playbook_dir }}/htpasswd", username: alice, password: pw-alice-123456}
  environment: "{{ env }}"
  check_mode: true
  diff: true
  register: r4
- name: An htpasswd entry without a password
  imagebuilding.hubs.htpasswd_user: {path: "{{ playbook_dir }}/htpasswd", username: alice}
  environment: "{{ env }}"
  register: r5
  ignore_errors: true
- name: A failed login whose message holds the password
  imagebuilding.hubs.registry_login: {url: "https://127.0.0.1:1", username: u, password: SECRET,
                                      image_prefix: "127.0.0.1:1/x/", hub: SECRET, timeout: 2}
  environment: "{{ env }}"
  register: r6
  ignore_errors: true
- name: Exclusive options
  imagebuilding.hubs.terraform_registry_keys: {name: x, state_file: /nonexistent, project_path: /tmp}
  environment: "{{ env }}"
  register: r7
  ignore_errors: true
- name: An unknown option
  imagebuilding.hubs.sops_leak_guard: {paths: [/nonexistent], bogus: 1}
  environment: "{{ env }}"
  register: r8
  ignore_errors: true
- name: Save the results
  ansible.builtin.copy:
    dest: "{{ playbook_dir }}/result-{{ 'module' if env else 'action' }}.json"
    content: "{{ {'r1': r1, 'r2': r2, 'r3': r3, 'r4': r4, 'r5': r5, 'r6': r6, 'r7': r7, 'r8': r8} | to_json }}"
    mode: "0600"
""".replace("SECRET", SECRET)

PLAYBOOK = """\
- name: Each case in the task's worker (no environment) and as a module (an environment makes the action run it)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the cases
      ansible.builtin.include_tasks: cases.yml
      loop: [{}, {IBH_TEST: "1"}]
      loop_control:
        loop_var: env
"""


def test_action_gives_the_module_result(tmp_path: Path) -> None:
    """Every case returns the same result from the logic called in the worker as from the module."""
    (tmp_path / "cases.yml").write_text(CASES, encoding="utf-8")
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "hub.secret.yaml").write_text("password: plain\n", encoding="utf-8")
    run = run_playbook("-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={VENV_BIN / 'python'}",
                       str(tmp_path / "play.yml"))
    assert run.rc == 0, run.output
    assert SECRET not in run.output
    action = json.loads((tmp_path / "result-action.json").read_text(encoding="utf-8"))
    module = json.loads((tmp_path / "result-module.json").read_text(encoding="utf-8"))
    assert action == module
    assert [action[f"r{i}"].get("failed", False) for i in range(1, 9)] == [False, True, True, False, True, True, True, True]
    assert len(action["r1"]["warnings"]) == 2 and action["r4"]["changed"] is True and "diff" in action["r4"]
    assert action["r3"]["leaks"] == [str(tmp_path / "secrets" / "hub.secret.yaml")]
    assert action["r5"]["msg"] == "state is present but all of the following are missing: password"
    assert action["r8"]["msg"].startswith("Unsupported parameters for (imagebuilding.hubs.sops_leak_guard) module: bogus.")
    assert SECRET not in json.dumps(action) and "hub '********'" in action["r6"]["msg"]
    assert not (tmp_path / "htpasswd").exists()
