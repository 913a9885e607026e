"""One source of defaults: every role's argument specs carry the defaults, its
defaults/main.yml says the same, and the hub model reads them from the specs.

As prometheus-community/ansible's CI does for its roles: a default written twice that differs,
or an input a role uses without declaring it, fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROLES = sorted(p.parent.parent.name for p in Path(__file__).resolve().parent.parent.glob("roles/*/meta/argument_specs.yml"))


def _load(repo_root: Path, role: str, path: str) -> Any:  # noqa: ANN401 - YAML data
    return yaml.safe_load((repo_root / "roles" / role / path).read_text(encoding="utf-8")) or {}


@pytest.mark.parametrize("role", ROLES)
def test_defaults_file_and_specs_agree(repo_root: Path, role: str) -> None:
    defaults = _load(repo_root, role, "defaults/main.yml")
    for entry_point, spec in _load(repo_root, role, "meta/argument_specs.yml")["argument_specs"].items():
        options = spec.get("options") or {}
        for name, value in defaults.items():
            if entry_point == "main":
                assert name in options, f"roles/{role}/defaults/main.yml: {name} is not an option of the role's specs"
            if name in options:
                assert options[name].get("default") == value, (
                    f"roles/{role}: {name} defaults to {value!r} in defaults/main.yml but to "
                    f"{options[name].get('default')!r} in the {entry_point} entry point's argument spec")
        for name, option in options.items():
            if name.startswith(f"{role}_") and "default" in option:
                assert name in defaults, f"roles/{role}: {name} has a default in its spec but not in defaults/main.yml"
            assert not (option.get("required") and "default" in option), f"roles/{role}: {name} is required with a default"


def test_hub_roles_agree_on_shared_options(repo_root: Path) -> None:
    jupyterhub = _load(repo_root, "jupyterhub", "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    binderhub = _load(repo_root, "binderhub_service", "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    for name in set(jupyterhub) & set(binderhub):
        for key in ("type", "default", "required", "choices"):
            assert jupyterhub[name].get(key) == binderhub[name].get(key), f"{name}.{key} differs between the hub roles"


def test_hub_model_reads_its_defaults_from_the_specs(repo_root: Path) -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import DEFAULTS, MODEL_VARIABLES

    options = {**_load(repo_root, "binderhub_service", "meta/argument_specs.yml")["argument_specs"]["main"]["options"],
               **_load(repo_root, "jupyterhub", "meta/argument_specs.yml")["argument_specs"]["main"]["options"]}
    assert set(DEFAULTS) == set(MODEL_VARIABLES)
    for name in MODEL_VARIABLES:
        assert name in options, f"the hub model reads {name}, which no hub role declares"
        expected = None if options[name].get("required") else options[name].get("default")
        assert DEFAULTS[name] == expected, name
    # The hub model holds no table of default values of its own (only the names it reads).
    sources = sorted((repo_root / "plugins" / "plugin_utils" / "hub_model").glob("*.py"))
    assert len(sources) > 1
    for source in (path.read_text(encoding="utf-8") for path in sources):
        assert "DEFAULTS: dict[str, Any] = {\n" not in source and "quay.io/2i2c/pilot-hub" not in source


def _unvalidated_imports(tasks: list[Any]) -> list[dict[str, Any]]:
    """The role imports and includes of a task list (blocks walked) that skip the role's argument specs."""
    found: list[dict[str, Any]] = []
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            found += _unvalidated_imports(task.get(key) or [])
        for action in ("ansible.builtin.import_role", "ansible.builtin.include_role"):
            if action in task and task[action].get("rolespec_validate") is False:
                found.append(task)
    return found


def test_roles_imported_without_their_argument_specs_were_checked_by_hub_preflight(repo_root: Path) -> None:
    """playbooks/hub.yml imports the roles with rolespec_validate: false because the validate play's
    hub_preflight checked the hub's values against the same options: every option of such an entry
    point is checked there with the same spec, or is an input the playbook wires itself."""
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_inputs import REGISTRY_SPEC, SPECS
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.role_specs import role_options

    def rule(option: dict[str, Any]) -> dict[str, Any]:  # what the spec checks: its words aside
        return {key: value for key, value in option.items() if key != "description"}

    checked: dict[str, list[dict[str, Any]]] = {}
    for role, entry in (*SPECS, REGISTRY_SPEC):
        for name, option in role_options(role, entry).items():
            checked.setdefault(name, []).append(rule(option))
    plays = yaml.safe_load((repo_root / "playbooks" / "hub.yml").read_text(encoding="utf-8"))
    imports = [task for play in plays for part in ("pre_tasks", "tasks")
               for task in _unvalidated_imports(play.get(part) or [])]
    assert len(imports) >= 6, "hub.yml imports the roles without their argument specs (registry, secrets, hub roles)"
    for task in imports:
        spec = task.get("ansible.builtin.import_role") or task["ansible.builtin.include_role"]
        role, entry = spec["name"].rsplit(".", 1)[1], spec.get("tasks_from", "main")
        wired = set(task.get("vars") or {})
        for name, option in role_options(role, entry).items():
            if name in wired:
                continue
            assert name in checked, f"{task['name']}: option {name} of {role} ({entry}) is in no spec hub_preflight checks"
            assert rule(option) in checked[name], f"{task['name']}: {name} of {role} ({entry}) differs from those checked"
