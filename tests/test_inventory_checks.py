"""Inventory files that are not valid YAML, unknown variables and variables a hub does not read.

- plugin_utils/yaml_problems: what the parser found and where (line, column), duplicate keys
  refused, Ansible's tags accepted, never a value of the file in the message;
- the hub_inventory_yaml vars plugin: a host_vars/group_vars file that is not valid YAML stops
  ``ansible-inventory`` naming the hub (or group), the file and the line;
- hub_values_files entries that are not valid YAML name the hub, the entry, the file and the line;
- check_unknown_variables: every prefix of the toolkit, with the nearest known name;
- registry variables of another registry type are warned about (registry_check), never
  for the demo and example inventories, whose group_vars set registry settings per group;
- the tables of known variables are the roles' argument specs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils import registry_check
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import (
    VARIABLE_TYPES,
    ignored_variables,
    ignored_variables_warning,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import (
    Errors,
    HubModelError,
    build_model,
    collect_variables,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import (
    KNOWN_VARIABLES,
    SECRETS_VARIABLES,
    check_unknown_variables,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import check_text, describe_yaml_error, load_strict
from hub_support import _ansible_managers, _plain
from support import ROOT, VENV_BIN, project_env
from test_hub_model import HUB, valid_variables

SECRET = "value-never-shown-5e1f"


def _registry_check_module() -> Any:  # noqa: ANN401 - the module object
    """The registry_check module's logic (plugins/module_utils/registry_check.py)."""
    return registry_check


# ---------------------------------------------------------------------------------------
# yaml_problems
# ---------------------------------------------------------------------------------------

YAML_CASES = {
    "undefined alias": ("a: 1\nb: *nosuch\n", "found undefined alias at line 2, column 4"),
    "tab": ("a:\n  b: 1\n\tc: 2\n", "a tab character"),
    "duplicate key": ("a: 1\nb: {c: 1}\na: 2\n", "found duplicate key 'a' (first at line 1) at line 3, column 1"),
    "nested duplicate key": ("a:\n  b: 1\n  b: 2\n", "found duplicate key 'b' (first at line 2) at line 3, column 3"),
    "unclosed bracket": ("a: [1, 2\n", "did not find expected ',' or ']'"),
    "unclosed quote": (f"password: '{SECRET}\n", "found unexpected end of stream at line 2, column 1"),
    "mapping in a scalar": (f"token: {SECRET}: x\n", "mapping values are not allowed in this context at line 1"),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_yaml_problem_says_what_and_where_never_the_value(case: str) -> None:
    text, expected = YAML_CASES[case]
    problem = check_text(text)
    assert expected in problem
    assert SECRET not in problem


@pytest.mark.parametrize("text", [
    "x: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\ny: !unsafe '{{ x }}'\n",  # Ansible's tags
    "base: &b {k: 1}\nd:\n  <<: *b\n  k: 2\n",  # a merge key and a key it overrides
    "a: 1\n---\na: 2\n",  # the same key in two documents
    "",
])
def test_valid_inventory_yaml_has_no_problem(text: str) -> None:
    assert check_text(text) == ""


def test_strict_loading_refuses_duplicate_keys_and_describes_them(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(f"jupyterhub:\n  cull: {{timeout: 60}}\n  cull: {{timeout: {SECRET}}}\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as raised:
        load_strict(str(path))
    described = describe_yaml_error(raised.value)
    assert described == "found duplicate key 'cull' (first at line 2) at line 3, column 3"
    path.write_text("jupyterhub:\n  cull: {timeout: 60}\n", encoding="utf-8")
    assert load_strict(str(path)) == {"jupyterhub": {"cull": {"timeout": 60}}}


# ---------------------------------------------------------------------------------------
# hub_values_files
# ---------------------------------------------------------------------------------------

VALUES_CASES = {
    "undefined alias": ("jupyterhub:\n  cull:\n    timeout: *t\n", "found undefined alias at line 3, column 14"),
    "tab": ("jupyterhub:\n  cull:\n\ttimeout: 60\n", "a tab character"),
    "duplicate key": ("jupyterhub: {}\njupyterhub: {cull: {}}\n", "found duplicate key 'jupyterhub'"),
    "secret on the faulty line": (f"jupyterhub:\n  hub:\n    config:\n      X: {{client_secret: '{SECRET}}}\n",
                                  "at line 4"),
}


@pytest.mark.parametrize("case", sorted(VALUES_CASES))
def test_values_file_yaml_error_names_hub_entry_file_and_line(case: str, tmp_path: Path) -> None:
    text, expected = VALUES_CASES[case]
    (tmp_path / "good.values.yaml").write_text("jupyterhub: {}\n", encoding="utf-8")
    (tmp_path / "bad.values.yaml").write_text(text, encoding="utf-8")
    variables = {**valid_variables(), "hub_values_files": ["good.values.yaml", "bad.values.yaml"]}
    with pytest.raises(HubModelError) as raised:
        build_model(variables, base_dir=str(tmp_path))
    [error] = raised.value.errors
    assert error.startswith(f"hub '{HUB}': hub_values_files[1]: {tmp_path / 'bad.values.yaml'} is not valid YAML: ")
    assert expected in error
    assert SECRET not in error


# ---------------------------------------------------------------------------------------
# Unknown variables: one rule for every prefix of the toolkit
# ---------------------------------------------------------------------------------------

TYPOS = {
    "hub_domian": "hub_domain",
    "cluster_kube_contxt": "cluster_kube_context",
    "jupyterhub_admin_user": "jupyterhub_admin_users",
    "binderhub_service_docker_cache": "binderhub_service_docker_cache_size",
    "registry_namespce": "registry_namespace",
    "registry_gcp_projekt": "registry_gcp_project",
    "secrets_sops_age_key_file": "secrets_sops_age_keyfile",
}


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_unknown_prefixed_variable_is_an_error_with_the_nearest_name(typo: str) -> None:
    errs = Errors(hub=HUB)
    check_unknown_variables(errs, {**valid_variables(), typo: "x"})
    assert errs.messages == [f"hub '{HUB}': {typo}: unknown variable; expected one of the variables listed in the "
                             f"role READMEs (did you mean {TYPOS[typo]!r}?)"]


def test_known_variables_facts_and_unprefixed_variables_pass() -> None:
    errs = Errors(hub=HUB)
    names = {name: None for name in (*VARIABLE_TYPES, *SECRETS_VARIABLES, "registry_definition", "secrets_values_file",
                                     "fleet_admins", "local_cluster_name", "ansible_connection", "_registry_checked")}
    check_unknown_variables(errs, {**valid_variables(), **names})
    assert errs.messages == []


def test_collect_variables_lists_registry_and_secrets_variables_by_name_only() -> None:
    task_vars = {**valid_variables(), "registry_password": SECRET, "secrets_dirr": "/x", "fleet_admins": ["a"]}
    templated: list[object] = []
    variables = collect_variables(task_vars, lambda value: templated.append(value) or value)
    assert variables["registry_password"] is None and variables["secrets_dirr"] is None
    assert "fleet_admins" not in variables
    assert SECRET not in templated


def _argument_spec_options(role: str) -> set[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return {name for entry in specs["argument_specs"].values() for name in (entry.get("options") or {})}


def test_known_variable_tables_are_the_roles_argument_specs() -> None:
    assert set(VARIABLE_TYPES) == {n for n in _argument_spec_options("registry") if n.startswith("registry_")}
    assert set(SECRETS_VARIABLES) == {n for n in _argument_spec_options("secrets") if n.startswith("secrets_")}
    for role in ("binderhub_service", "jupyterhub"):
        assert _argument_spec_options(role) <= KNOWN_VARIABLES, role


# ---------------------------------------------------------------------------------------
# Registry variables of another registry type: ignored, with a warning
# ---------------------------------------------------------------------------------------


def test_variables_of_another_registry_type_are_named_with_the_types_that_read_them() -> None:
    given = ["registry_gcp_project", "registry_url", "registry_quay_robot_token", "registry_ca_file"]
    assert ignored_variables("quay", given) == [
        "registry_gcp_project (read by gcp registries)", "registry_url (read by generic registries)"]
    assert ignored_variables("gcp", given) == [
        "registry_quay_robot_token (read by quay registries)", "registry_url (read by generic registries)"]
    assert ignored_variables("generic", ["registry_password", "registry_host", "registry_rotate"]) == []
    assert ignored_variables("quay", ["registry_password"]) == ["registry_password (read by generic and gcp registries)"]
    warning = ignored_variables_warning("geo", "gcp", ["registry_url"])
    assert warning.startswith("hub 'geo': registry_type is 'gcp', so these variables given for the hub are ignored: "
                              "registry_url (read by generic registries)")
    assert ignored_variables_warning("geo", "generic", ["registry_url"]) == ""


def _registry_params(variables: dict[str, Any], hub: str) -> dict[str, Any]:
    """registry_check's options as roles/registry/tasks/validate.yml passes them."""
    option_of = {variable: option for option, (variable, _) in _registry_check_module().TYPED_OPTIONS.items()}
    params: dict[str, Any] = {"hub": hub}
    for variable, option in option_of.items():
        value = variables.get(variable, "")
        params[option] = bool(value) if option.endswith("_given") else value
    return params


def _hubs_with_registry_defaults(inventory: Path) -> dict[str, dict[str, Any]]:
    """Every hub's registry variables, templated over the registry role's defaults (as the validate play sees them)."""
    from ansible.template import Templar

    loader, manager, variable_manager = _ansible_managers([str(inventory / "hosts.yml")])
    defaults = loader.load_from_file(str(ROOT / "roles" / "registry" / "defaults" / "main.yml"), trusted_as_template=True)
    hubs = {}
    for host in manager.get_hosts():
        raw = {**defaults, **variable_manager.get_vars(host=host, include_hostvars=False)}
        templar = Templar(loader=loader, variables=raw)
        hubs[host.name] = _plain({k: templar.template(v) for k, v in raw.items()
                                  if k.startswith("registry_") or k in ("hub_name", "inventory_hostname")})
    return hubs


@pytest.mark.parametrize("inventory", ["local", "example"])
def test_demo_and_example_inventories_give_no_ignored_registry_variables(inventory: str) -> None:
    module = _registry_check_module()
    hubs = _hubs_with_registry_defaults(ROOT / "inventories" / inventory)
    assert hubs
    for host, variables in hubs.items():
        hub = str(variables.get("hub_name") or host)
        given = module.given_variables(_registry_params(variables, hub))
        assert ignored_variables_warning(hub, variables["registry_type"], given) == "", host
        # and a stray setting of another type on the same hub is named
        stray = "registry_url" if variables["registry_type"] != "generic" else "registry_gcp_project"
        given = module.given_variables(_registry_params({**variables, stray: "https://x.example.org"}, hub))
        assert stray in ignored_variables_warning(hub, variables["registry_type"], given), host


# ---------------------------------------------------------------------------------------
# host_vars and group_vars that are not valid YAML (the hub_inventory_yaml vars plugin)
# ---------------------------------------------------------------------------------------


def _inventory_copy(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "local", inventory, ignore=shutil.ignore_patterns("secrets"))
    return inventory


def _ansible_inventory(inventory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(inventory / "hosts.yml"), "--list"],
                          cwd=ROOT, env=project_env(), capture_output=True, text=True, check=False, timeout=120)


INVENTORY_CASES = {
    "host_vars alias": ("host_vars/research.yml", "hub_stage: *stage\n", "hub 'research': host_vars file",
                        "found undefined alias at line"),
    "host_vars duplicate secret": ("host_vars/research.yml", f"registry_password: {SECRET}\nregistry_password: x{SECRET}\n",
                                   "hub 'research': host_vars file", "found duplicate key 'registry_password'"),
    "group_vars tab": ("group_vars/cluster_local/cluster.yml", "\tcluster_local: true\n",
                       "group 'cluster_local' (hubs 'research', 'staging'): group_vars file", "a tab character"),
}


@pytest.mark.parametrize("case", sorted(INVENTORY_CASES))
def test_inventory_vars_file_that_is_not_yaml_names_hub_file_and_line(case: str, tmp_path: Path) -> None:
    rel, appended, who, problem = INVENTORY_CASES[case]
    inventory = _inventory_copy(tmp_path)
    assert _ansible_inventory(inventory).returncode == 0
    target = inventory / rel
    target.write_text(target.read_text(encoding="utf-8") + appended, encoding="utf-8")
    proc = _ansible_inventory(inventory)
    assert proc.returncode != 0
    assert f"{who} {target.resolve()} is not valid YAML: " in proc.stderr, proc.stderr
    assert problem in proc.stderr and " at line " in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout


# ---------------------------------------------------------------------------------------
# In a playbook run: the warning names the hub and the variables, never a value
# ---------------------------------------------------------------------------------------


def test_hub_yml_warns_about_registry_variables_of_another_type(kubeconfig: Path, tmp_path: Path) -> None:
    """The validate play of hub.yml (strict, with the catalog's sentinel: nothing is deployed)."""
    from bad_inputs_support import SENTINEL, Entry, build_inventory, deploy_play_ran
    from support import run_playbook

    del kubeconfig  # the embedded cluster runs (the validate play reads the hubs' namespaces)

    def entry(entry_id: str, host_vars: dict[str, Any]) -> Entry:
        return Entry(id=entry_id, description="", host_vars=host_vars, unset=[], files={}, copy_files={},
                     sops_files={}, extra_hosts={}, expect=[], xfail="")

    stray = entry("stray-registry", {"registry_gcp_project": "geo-project-1", "registry_quay_robot_token": SECRET})
    clean = entry("clean-registry", {})
    inventory = build_inventory(tmp_path, [stray, clean])
    run = run_playbook("-i", str(inventory / "hosts.yml"), "playbooks/hub.yml", "--check", "-e", "hub_rollout_strict=true",
                       "-l", ",".join([stray.host, clean.host, SENTINEL]), env=project_env(TMPDIR=str(tmp_path)))
    assert not deploy_play_ran(run.output)
    warnings = [line for line in run.output.splitlines() if "variables given for the hub are ignored" in line]
    assert warnings == [
        f"[WARNING]: hub '{stray.host}': registry_type is 'generic', so these variables given for the hub are ignored: "
        "registry_gcp_project (read by gcp registries), registry_quay_robot_token (read by quay registries); remove "
        "them, or set them only for the hubs whose registry reads them (e.g. in the group_vars of their provider or "
        "cluster)"], run.output[-3000:]
    assert SECRET not in run.output
