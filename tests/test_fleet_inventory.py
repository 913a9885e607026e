"""The hub_fleet_config inventory plugin on fleets in the config/clusters/<cluster>/cluster.yaml layout.

The sample fleet (tests/data/fleet) is copied to a temporary directory and its secret files
are made there, sops-encrypted to an age key generated for the test session.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.fleet_config import load_fleet, stage_of
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.adoption import adoption_report
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.auth import AUTH_TYPES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import registry_view
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import render_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import (
    auth_secret_keys,
    release_values,
)
from fleet_support import (
    BAD_CASES,
    CLUSTERS,
    NON_BUILDING_HOSTS,
    SAMPLE_CLUSTERS,
    SAMPLE_HOSTS,
    AgeKey,
    Expected,
    make_age_key,
    make_bad_fleet,
    materialize_fleet,
    sops_decrypt,
    sops_encrypt_to,
)
from hub_support import (
    SHARED_CHARTS,
    InventoryHub,
    load_yaml,
    local_registry_definition,
    merged_with_defaults,
    placeholder_secret_values,
)
from support import ROOT, VENV_BIN, project_env, run_playbook, secret_strings

LOCAL_VALUES = ROOT / "inventories" / "local" / "values" / "local-cluster.values.yaml"
E2E_HUB = "delta-binder"  # a hub name nobody else's tests deploy (its namespace)
E2E_HOST = f"onprem-delta-{E2E_HUB}"
STAGING_HOSTS = {"gke-atlas-atlas-staging", "eks-bering-bering-staging", "aks-coral-staging", "3-fjord-staging"}


# ---------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fleet_key(tmp_path_factory: pytest.TempPathFactory, tool_bin: Path) -> AgeKey:
    return make_age_key(tmp_path_factory.mktemp("fleet-key"), tool_bin)


@pytest.fixture(scope="session")
def sample_fleet(tmp_path_factory: pytest.TempPathFactory, fleet_key: AgeKey) -> Path:
    """The sample fleet with its secret files (read-only for the tests: copy before editing)."""
    return materialize_fleet(tmp_path_factory.mktemp("fleet") / "fleet", fleet_key)


def ansible_inventory(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "ansible-inventory"), *args], cwd=ROOT, env=env or project_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def inventory_list(source: Path) -> dict[str, Any]:
    """``--list`` output; values from the plugin (not trusted as templates) as plain values."""
    proc = ansible_inventory("-i", str(source), "--list")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout, object_hook=lambda d: d["__ansible_unsafe"] if set(d) == {"__ansible_unsafe"} else d)


def host_vars(source: Path, host: str) -> dict[str, Any]:
    proc = ansible_inventory("-i", str(source), "--host", host)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def graph_children(graph: str) -> dict[str, set[str]]:
    """``ansible-inventory --graph`` output as parent -> direct children (groups as @name)."""
    children: dict[str, set[str]] = {}
    stack: list[tuple[int, str]] = []
    for line in graph.splitlines():
        if not line.strip():
            continue
        depth = line.count("|")
        name = (line.split("|--", 1)[1] if "|--" in line else line).strip().rstrip(":")
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            children.setdefault(stack[-1][1], set()).add(name)
        stack.append((depth, name))
    return children


def write_source(directory: Path, options: dict[str, Any], name: str = "test.fleet.yml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump({"plugin": "imagebuilding.hubs.hub_fleet_config", **options}, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------
# The sample fleet: groups and variables
# ---------------------------------------------------------------------------------------


def test_graph_shows_providers_clusters_hubs_and_stages(sample_fleet: Path) -> None:
    proc = ansible_inventory("-i", str(sample_fleet / "hubs.fleet.yml"), "--graph")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    children = graph_children(proc.stdout)
    for cluster, (provider, hubs) in SAMPLE_CLUSTERS.items():
        group = "@cluster_" + cluster.replace("-", "_")
        assert group in children[f"@provider_{provider}"], proc.stdout
        assert children[group] == {f"{cluster}-{hub}" for hub in hubs}, proc.stdout
    assert children["@stage_staging"] == STAGING_HOSTS
    assert children["@stage_production"] == set(SAMPLE_HOSTS) - STAGING_HOSTS


def test_host_shows_hub_variables_and_where_the_stage_came_from(sample_fleet: Path) -> None:
    clusters = sample_fleet / CLUSTERS
    staging = host_vars(sample_fleet / "hubs.fleet.yml", "gke-atlas-atlas-staging")
    assert staging["hub_name"] == staging["hub_namespace"] == "atlas-staging"
    assert staging["hub_domain"] == "staging.atlas.hubs.example.org"
    assert staging["hub_stage"] == "staging"
    assert staging["fleet_hub_stage_source"] == "name contains 'staging' (imported convention)"
    assert staging["hub_values_files"] == [str(clusters / "gke-atlas" / name) for name in (
        "common.values.yaml", "atlas-staging.values.yaml", "enc-atlas-staging.secret.values.yaml")]
    assert staging["hub_dask_gateway_enabled"] is False
    assert staging["fleet_helm_chart"] == "basehub"
    assert staging["cluster_name"] == "gke-atlas" and staging["cluster_provider"] == "gcp"
    assert staging["cluster_local"] is False
    assert staging["cluster_kubeconfig"] == ""
    assert staging["cluster_kube_context"] == "gke_atlas-hubs-4242_us-central1-b_atlas-cluster"
    assert staging["secrets_dir"] == str(clusters / "gke-atlas")
    assert staging["ansible_connection"] == "local"
    # group_vars beside the source add what the layout does not carry
    assert staging["registry_type"] == "gcp" and staging["jupyterhub_auth"]["type"] == "github"

    course = host_vars(sample_fleet / "hubs.fleet.yml", "eks-bering-course")
    assert course["hub_stage"] == "production"
    assert course["fleet_hub_stage_source"] == "name does not contain 'staging' (imported convention)"
    # listed order kept, a shared secret file first
    assert [Path(p).name for p in course["hub_values_files"]] == [
        "enc-common.secret.values.yaml", "course.values.yaml", "enc-course.secret.values.yaml"]
    assert course["cluster_kube_context"] == "arn:aws:eks:us-west-2:111122223333:cluster/bering"
    assert course["jupyterhub_auth"]["type"] == "cilogon"  # host_vars beside the source

    climate = host_vars(sample_fleet / "hubs.fleet.yml", "gke-atlas-climate")
    assert climate["hub_dask_gateway_enabled"] is True and climate["fleet_helm_chart"] == "daskhub"

    # The umbrella chart's switches in plain values files give the hub those releases, saying where from.
    ocean = host_vars(sample_fleet / "hubs.fleet.yml", "gke-atlas-ocean")
    assert ocean["fleet_helm_chart"] == "basehub" and ocean["hub_dask_gateway_enabled"] is True
    assert ocean["fleet_chart_switches"] == {
        "dask-gateway": f"{clusters / 'gke-atlas' / 'ocean.values.yaml'}: dask-gateway.enabled"}
    assert "hub_image_building" not in ocean and "hub_image_building" not in climate

    bio = host_vars(sample_fleet / "hubs.fleet.yml", "aks-coral-bio")
    assert bio["cluster_provider"] == "azure" and bio["cluster_kube_context"] == "coral-aks"

    delta = host_vars(sample_fleet / "hubs.fleet.yml", E2E_HOST)
    assert delta["cluster_provider"] == "kubeconfig"
    assert delta["hub_image_building"] == "enabled"
    assert list(delta["fleet_chart_switches"]) == ["binderhub-service"]
    # the credentials file is sops-encrypted, so helm cannot read it: a named context instead
    assert delta["fleet_cluster_kubeconfig_encrypted"] is True
    assert delta["cluster_kubeconfig"] == "" and delta["cluster_kube_context"] == "onprem-delta"
    assert delta["fleet_cluster_credentials_file"] == str(clusters / "onprem-delta" / "enc-deployer-credentials.secret.yaml")


def test_secret_files_are_paths_never_values(sample_fleet: Path, fleet_key: AgeKey) -> None:
    proc = ansible_inventory("-i", str(sample_fleet / "hubs.fleet.yml"), "--list")
    assert proc.returncode == 0, proc.stderr
    for path in sorted((sample_fleet / CLUSTERS).glob("*/enc-*")):
        assert str(path) in proc.stdout or path.name.startswith("enc-deployer")
        # tokens, not names: strings of 24 characters or more
        leaked = [value for value in secret_strings(sops_decrypt(path, fleet_key), 24) if value in proc.stdout]
        assert not leaked, f"a decrypted value of {path.name} is in the inventory"


def test_a_fleet_directory_works_as_the_source(sample_fleet: Path, tmp_path: Path) -> None:
    """-i <config dir> without a source file: every file under config/clusters is claimed, read once."""
    bare = tmp_path / "fleet"
    shutil.copytree(sample_fleet, bare)
    (bare / "hubs.fleet.yml").unlink()
    listing = inventory_list(bare)
    assert sorted(listing["_meta"]["hostvars"]) == SAMPLE_HOSTS
    assert listing["_meta"]["hostvars"]["gke-atlas-ocean"]["registry_type"] == "gcp"  # bare/group_vars loaded
    proc = ansible_inventory("-i", str(bare), "--graph")
    assert "Failed to parse" not in proc.stderr, proc.stderr
    # the directory with its source file: the source file's options win, nothing read twice
    assert sorted(inventory_list(sample_fleet)["_meta"]["hostvars"]) == SAMPLE_HOSTS


def test_a_broken_fleet_directory_adds_nothing_and_says_why(sample_fleet: Path, tmp_path: Path) -> None:
    """No other plugin gets to read a values file as an inventory when the fleet has problems."""
    bare = tmp_path / "fleet"
    shutil.copytree(sample_fleet, bare)
    (bare / "hubs.fleet.yml").unlink()
    BAD_CASES["missing-name"](bare)  # a hub entry without a name: no hub to stop, the fleet fails
    proc = ansible_inventory("-i", str(bare), "--list")
    assert proc.returncode == 0, proc.stderr
    assert f"[ERROR]: hub_fleet_config: no hubs added from {bare}" in proc.stderr
    assert proc.stderr.count("hubs[2] (no name): name: is missing") == 1, proc.stderr
    listing = json.loads(proc.stdout)
    assert set(listing) <= {"_meta", "all", "ungrouped"}, sorted(listing)
    assert not listing["_meta"]["hostvars"]


def test_ansible_doc_shows_the_plugin() -> None:
    proc = subprocess.run([str(VENV_BIN / "ansible-doc"), "-t", "inventory", "-j", "imagebuilding.hubs.hub_fleet_config"],
                          cwd=ROOT, env=project_env(), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["imagebuilding.hubs.hub_fleet_config"]["doc"]
    assert {"config_dir", "kubeconfig_override", "kube_context_override", "kubeconfig_overrides", "staging_pattern",
            "local", "host_names", "hub_vars"} <= set(doc["options"])


# ---------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------


def test_overrides_point_every_cluster_at_one_kubeconfig(sample_fleet: Path, tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {
        "config_dir": str(sample_fleet), "local": True,
        "kubeconfig_override": "kube/config", "kube_context_override": "",
        "kubeconfig_overrides": {"aks-coral": {"kubeconfig": "/elsewhere/aks.yaml", "context": "aks"}},
        "prepend_values_files": ["cluster-defaults.values.yaml"],
        "staging_pattern": "^(atlas|course)",
        "hub_vars": {"eks-bering-bering-staging": {"hub_stage": "production"}},
        "cluster_vars": {"gke-atlas": {"cluster_node_pools": {"core": {"pool": "core"}, "user": {"pool": "user"}}}},
        "provider_vars": {"aws": {"registry_type": "quay"}},
        "fleet_vars": {"hub_charts_source": "directory", "hub_charts_dir": str(SHARED_CHARTS)},
    })
    hostvars = inventory_list(source)["_meta"]["hostvars"]
    for hub in SAMPLE_HOSTS:
        variables = hostvars[hub]
        assert variables["cluster_local"] is True
        assert variables["hub_charts_source"] == "directory"
        assert variables["jupyterhub_release_name"] == variables["hub_name"]
        assert variables["hub_values_files"][0] == str(tmp_path / "src" / "cluster-defaults.values.yaml")
        if variables["cluster_name"] == "aks-coral":
            assert (variables["cluster_kubeconfig"], variables["cluster_kube_context"]) == ("/elsewhere/aks.yaml", "aks")
        else:
            assert (variables["cluster_kubeconfig"], variables["cluster_kube_context"]) == (
                str(tmp_path / "src" / "kube" / "config"), "")
    assert hostvars["gke-atlas-ocean"]["cluster_node_pools"]["core"] == {"pool": "core"}
    assert hostvars["eks-bering-course"]["registry_type"] == "quay"
    # a regular expression as the convention, and an explicit stage that says so
    assert hostvars["gke-atlas-atlas-staging"]["hub_stage"] == "staging"
    assert hostvars["eks-bering-course"]["hub_stage"] == "staging"
    assert hostvars["eks-bering-course"]["fleet_hub_stage_source"] == (
        "name matches the pattern '^(atlas|course)' (imported convention)")
    assert hostvars["eks-bering-bering-staging"]["hub_stage"] == "production"
    assert hostvars["eks-bering-bering-staging"]["fleet_hub_stage_source"] == (
        "hub_vars.eks-bering-bering-staging.hub_stage of the inventory source (explicit)")


def test_repeated_hub_names_load_by_default_with_the_incumbents_names(sample_fleet: Path, tmp_path: Path) -> None:
    """Hub names repeat across clusters (staging on aks-coral and 3-fjord): every hub loads, as host
    <cluster>-<hub>, its namespace, release and secret file named as the incumbent names them."""
    hostvars = inventory_list(sample_fleet / "hubs.fleet.yml")["_meta"]["hostvars"]
    assert sorted(hostvars) == SAMPLE_HOSTS
    for host, cluster in (("aks-coral-staging", "aks-coral"), ("3-fjord-staging", "3-fjord")):
        variables = hostvars[host]
        assert (variables["hub_name"], variables["hub_namespace"], variables["jupyterhub_release_name"]) == (
            "staging", "staging", "staging")
        assert variables["cluster_name"] == cluster and variables["hub_stage"] == "staging"
        assert variables["secrets_dir"] == str(sample_fleet / CLUSTERS / cluster)
        assert variables["hub_domain"].startswith("staging.")
    # The other naming, for fleets whose hub names are unique, refuses them (no hub could be one host).
    source = write_source(tmp_path, {"config_dir": str(sample_fleet), "host_names": "hub"})
    proc = ansible_inventory("-i", str(source), "--graph")
    assert proc.returncode != 0
    assert "hub name 'staging' is also used by cluster '3-fjord'" in proc.stderr
    assert "host_names: cluster_hub, the default" in proc.stderr


def test_the_validate_play_takes_repeated_hub_names_on_different_clusters(sample_fleet: Path) -> None:
    """The duplicate check's identity is cluster + hub name (+ namespace per cluster)."""
    from ansible_collections.imagebuilding.hubs.plugins.filter.hub_duplicates import hub_duplicates

    hostvars = inventory_list(sample_fleet / "hubs.fleet.yml")["_meta"]["hostvars"]
    assert hub_duplicates(SAMPLE_HOSTS, hostvars) == {}
    same_cluster = {**hostvars, "3-fjord-staging": {**hostvars["3-fjord-staging"], "cluster_name": "aks-coral",
                                                     "secrets_dir": "/elsewhere"}}
    found = hub_duplicates(SAMPLE_HOSTS, same_cluster)
    assert set(found) == {"aks-coral-staging", "3-fjord-staging"}
    assert "hub_name: 'staging' is also the hub_name of host(s) '3-fjord-staging' on cluster 'aks-coral'" in (
        found["aks-coral-staging"][0])


def test_options_naming_what_the_fleet_lacks_are_refused(sample_fleet: Path, tmp_path: Path) -> None:
    source = write_source(tmp_path, {"config_dir": str(sample_fleet), "cluster_vars": {"gke-atlsa": {}},
                                     "hub_vars": {"gke-atlas-ocean": {"hub_stage": "canary"}}})
    proc = ansible_inventory("-i", str(source), "--graph")
    assert "cluster_vars.gke-atlsa: 'gke-atlsa' is not in the fleet" in proc.stderr
    assert "hub_vars.gke-atlas-ocean.hub_stage: 'canary' is not a stage" in proc.stderr


def test_stage_convention() -> None:
    assert stage_of("r-staging") == ("staging", "name contains 'staging' (imported convention)")
    assert stage_of("prod")[0] == "production"
    assert stage_of("canary-1", r"^canary-\d$")[0] == "staging"


# ---------------------------------------------------------------------------------------
# Validation: every rule has a failing case naming file, cluster, hub and key
# ---------------------------------------------------------------------------------------


def _problem_matches(problem: str, clusters_dir: Path, expected: Expected) -> bool:
    return (problem.startswith(f"{clusters_dir / expected.file}: cluster {expected.cluster!r}, ")
            and expected.hub in problem
            and f": {expected.key}: " in problem
            and all(word in problem for word in expected.words))


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_validation_rule(case: str, sample_fleet: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    expected = make_bad_fleet(sample_fleet, fleet, case)
    problems = [str(problem) for problem in load_fleet(fleet, "hub" if case == "duplicate-hub-across-fleet" else
                                                        "cluster_hub").problems]
    assert any(_problem_matches(p, fleet / CLUSTERS, expected) for p in problems), "\n".join(problems)


def test_a_hubs_problems_stop_that_hub_only_each_named_once(sample_fleet: Path, tmp_path: Path) -> None:
    """Problems of hubs in several clusters: those hubs load with their problems (fleet_problems) and
    fail the validate play, the others load clean; nothing is dropped without a word."""
    fleet = tmp_path / "fleet"
    shutil.copytree(sample_fleet, fleet)
    cases = {"values-file-missing": "gke-atlas-ocean", "secret-not-encrypted": "gke-atlas-climate",
             "provider-block-key-missing": "aks-coral-bio", "duplicate-domain": "onprem-delta-delta-binder",
             "hub-name-not-dns-label": "eks-bering-Glacier_Lab"}
    expectations = {host: BAD_CASES[case](fleet) for case, host in cases.items()}
    proc = ansible_inventory("-i", str(fleet / "hubs.fleet.yml"), "--list")
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout, object_hook=lambda d: d["__ansible_unsafe"] if set(d) == {"__ansible_unsafe"} else d)
    hostvars = listing["_meta"]["hostvars"]
    refused = {host for host, variables in hostvars.items() if variables.get("fleet_problems")}
    # the provider block is the cluster's: both hubs of aks-coral stop; the duplicate domain, both users
    assert refused == {*cases.values(), "aks-coral-staging", "aks-coral-bio"}
    for host, expected in expectations.items():
        assert any(_problem_matches(p, fleet / CLUSTERS, expected) for p in hostvars[host]["fleet_problems"]), host
    assert "stop hub(s) " in proc.stderr and "gke-atlas-ocean" in proc.stderr
    assert "ocean.values.yaml does not exist" not in proc.stderr  # named once: by the hub's failure
    assert set(listing["fleet_refused"]["hosts"]) == refused
    run = run_playbook("-i", str(fleet / "hubs.fleet.yml"), "playbooks/hub.yml", "-l", "gke-atlas-ocean")
    assert run.rc != 0
    assert run.recap()["gke-atlas-ocean"]["failed"] == 1
    # named by the hub's failure only (ansible-core shows a failed task as an error and as 'fatal')
    fatal = [line for line in run.output.splitlines() if line.startswith("fatal: [gke-atlas-ocean]")]
    assert len(fatal) == 1 and fatal[0].count("ocean.values.yaml does not exist") == 1, run.output[-3000:]
    assert "ocean.values.yaml does not exist" not in run.output.split("PLAY [")[0]


def test_problems_no_hub_can_carry_fail_the_source_each_listed_once(sample_fleet: Path, tmp_path: Path) -> None:
    """A hub entry without a name leaves no hub to stop: the source fails; every problem is listed
    once (Ansible's auto plugin reads the source again: it refers to the list, not repeats it)."""
    fleet = tmp_path / "fleet"
    shutil.copytree(sample_fleet, fleet)
    nameless, missing = BAD_CASES["missing-name"](fleet), BAD_CASES["values-file-missing"](fleet)
    for unparsed_is_failed in ("true", "false"):
        env = project_env(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=unparsed_is_failed)
        proc = ansible_inventory("-i", str(fleet / "hubs.fleet.yml"), "--graph", env=env)
        problems = [line[2:] for line in proc.stderr.splitlines() if line.startswith("- /")]
        for expected in (nameless, missing):
            assert sum(_problem_matches(p, fleet / CLUSTERS, expected) for p in problems) == 1, proc.stderr
        assert not any(host in proc.stdout for host in SAMPLE_HOSTS)
        assert (proc.returncode != 0) is (unparsed_is_failed == "true")


def test_sample_fleet_as_committed_lacks_only_the_secret_files(repo_root: Path) -> None:
    problems = load_fleet(repo_root / "tests" / "data" / "fleet").problems
    assert problems
    assert all(p.key.startswith("helm_chart_values_files[") and any(
        f".secret.values.{kind} does not exist" in p.message for kind in ("yaml", "json")) for p in problems), (
        "\n".join(map(str, problems)))


# ---------------------------------------------------------------------------------------
# The sample hubs against the hub model and the real charts' schemas
# ---------------------------------------------------------------------------------------


def _templated_hub_vars(source: Path) -> dict[str, dict[str, Any]]:
    """Every hub's variables as the roles see them (templated), via Ansible's own managers."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager
    from hub_support import _plain

    init_plugin_loader()
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(source)])
    variables = VariableManager(loader=loader, inventory=manager)
    result = {}
    for host in manager.get_hosts():
        raw = variables.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=raw)
        result[host.name] = _plain({k: templar.template(v) for k, v in raw.items()
                                    if k.startswith(("hub_", "cluster_", "jupyterhub_", "binderhub_service_", "registry_"))})
    return result


def test_sample_hubs_build_valid_models_and_schema_valid_values(sample_fleet: Path, shared_schemas: Path) -> None:
    hubs = _templated_hub_vars(sample_fleet / "hubs.fleet.yml")
    if not hubs:
        pytest.skip("the inventory plugin is not enabled for in-process use (ANSIBLE_CONFIG)")
    assert sorted(hubs) == SAMPLE_HOSTS
    validators = {chart: (jsonschema.Draft7Validator(load_yaml(shared_schemas / f"{chart}.values.schema.yaml")),
                          load_yaml(shared_schemas / f"{chart}.values.yaml"))
                  for chart in ("jupyterhub", "binderhub-service")}
    logins = set()
    for name, variables in hubs.items():
        model_vars = {k: v for k, v in variables.items() if not k.startswith("registry_")}
        model = build_model(model_vars)
        logins.add(model.jupyterhub.auth.type)
        # The secret values files are listed but not read: the hub roles decrypt them in memory
        # at deploy time (hub_values with decrypt: true).
        assert [(f.path, f.encrypted) for f in model.values_files] == [
            (p, "secret" in Path(p).name) for p in variables["hub_values_files"]]
        assert all(f.content == {} for f in model.values_files if f.encrypted)
        registry_vars = {k: v for k, v in variables.items() if k.startswith("registry_")}
        hub = InventoryHub(name, model_vars, str(sample_fleet), registry_vars.get("registry_type") == "quay", registry_vars)
        # A hub that builds no images has no registry, no BinderHub and no build wiring.
        assert model.hub.image_building is (name not in NON_BUILDING_HOSTS), name
        registry = registry_view(local_registry_definition(hub), model.hub.name) if model.hub.image_building else None
        rendered = render_values(model, registry)
        assert ("binderhub-service" in rendered) is model.hub.image_building
        assert ("binder" in rendered["jupyterhub"]["hub"]["services"]) is model.hub.image_building
        secrets = placeholder_secret_values(auth_secret_keys(model), registry is not None and registry.pull_secret_required)
        for chart, (validator, defaults) in validators.items():
            if chart not in rendered:
                continue
            final = json.loads(json.dumps(merged_with_defaults(defaults, release_values(rendered[chart], secrets, chart))))
            errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(final)]
            assert not errors, f"{name} {chart}: {errors}"
        assert ("dask-gateway" in model.releases) is variables["hub_dask_gateway_enabled"]
    # Every login method of real fleets (dummy is the end-to-end test's, on the local cluster).
    assert logins == set(AUTH_TYPES) - {"dummy"}, logins


# ---------------------------------------------------------------------------------------
# Adopting the umbrella chart's values: mapped, honoured, or refused with the list to decide
# ---------------------------------------------------------------------------------------


def test_umbrella_values_are_unwrapped_and_reported(sample_fleet: Path) -> None:
    hubs = _templated_hub_vars(sample_fleet / "hubs.fleet.yml")
    if not hubs:
        pytest.skip("the inventory plugin is not enabled for in-process use (ANSIBLE_CONFIG)")
    glacier = hubs["eks-bering-glacier"]
    assert glacier["hub_adoption_umbrella"] == "basehub"
    model = build_model({k: v for k, v in glacier.items() if not k.startswith("registry_")})
    values = sample_fleet / CLUSTERS / "eks-bering" / "glacier.values.yaml"
    content = next(f.content for f in model.values_files if f.path == str(values))
    # basehub: unwrapped, the umbrella's custom value kept inert on the operator's word
    assert sorted(content) == ["binderhub-service", "dask-gateway", "jupyterhub"]
    assert content["jupyterhub"]["singleuser"]["defaultUrl"] == "/lab"
    assert content["binderhub-service"]["config"]["KubernetesBuildExecutor"]["memory_limit"] == "3G"
    report = adoption_report(model)
    assert f"{values}: basehub.jupyterhub -> jupyterhub (umbrella nesting unwrapped)" in report
    assert f"{values}: basehub.binderhub-service -> binderhub-service (umbrella nesting unwrapped)" in report
    assert any("jupyterhub.custom.homepage kept inert" in line for line in report), report
    assert f"{values}: binderhub-service, dask-gateway, jupyterhub carried over" in report


def test_chart_override_pins_the_hubs_charts(sample_fleet: Path) -> None:
    climate = host_vars(sample_fleet / "hubs.fleet.yml", "gke-atlas-climate")
    chart = sample_fleet / "helm-charts" / "daskhub-previous" / "Chart.yaml"
    assert climate["jupyterhub_chart_version"] == "4.3.5"
    assert climate["jupyterhub_dask_gateway_chart_version"] == "2026.3.0"
    assert climate["fleet_chart_pins"]["jupyterhub_chart_version"] == f"4.3.5 (chart_override: {chart})"
    ocean = host_vars(sample_fleet / "hubs.fleet.yml", "gke-atlas-ocean")
    assert "jupyterhub_chart_version" not in ocean and "fleet_chart_pins" not in ocean


def test_a_chart_override_that_pins_nothing_stops_that_hub_only(sample_fleet: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    shutil.copytree(sample_fleet, fleet)
    (fleet / "helm-charts" / "daskhub-previous" / "Chart.yaml").write_text("apiVersion: v2\nname: daskhub\n")
    listing = inventory_list(fleet / "hubs.fleet.yml")
    problems = listing["_meta"]["hostvars"]["gke-atlas-climate"]["fleet_problems"]
    assert any("chart_override" in p and "pins no jupyterhub dependency" in p for p in problems), problems
    assert "fleet_problems" not in listing["_meta"]["hostvars"]["gke-atlas-ocean"]


def test_umbrella_only_values_are_refused_with_every_decision_listed(sample_fleet: Path) -> None:
    hubs = _templated_hub_vars(sample_fleet / "hubs.fleet.yml")
    if not hubs:
        pytest.skip("the inventory plugin is not enabled for in-process use (ANSIBLE_CONFIG)")
    glacier = {k: v for k, v in hubs["eks-bering-glacier"].items() if not k.startswith("registry_")}
    values = Path(glacier["hub_values_files"][0]).parent / "adopted.values.yaml"
    values.write_text(yaml.safe_dump({
        "basehub": {"jupyterhub": {"custom": {"2i2c": {"add_staff_user_ids_to_admin_users": True}}}},
        "jupyterhub-home-nfs": {"enabled": True, "quotaEnforcer": {"hardQuota": "10"}},
        "nfs": {"enabled": True}}))
    try:
        with pytest.raises(HubModelError) as raised:
            build_model({**glacier, "hub_values_files": [*glacier["hub_values_files"], str(values)],
                         "hub_adoption_accepted": []})
    finally:
        values.unlink()
    errors = "\n".join(raised.value.errors)
    index = len(glacier["hub_values_files"])
    for key in ("jupyterhub-home-nfs", "nfs"):
        assert f"hub_values_files[{index}]: {key}: top-level key {key!r} in {values} is not a chart of the hub" in errors
        assert "carry it over as a companion release of the hub (hub_companion_releases: " in errors
        assert "or list it in hub_adoption_accepted to deploy without it" in errors
    assert f"hub_values_files[{index}]: jupyterhub.custom.2i2c: in {values} is read by the basehub chart's" in errors
    # the glacier file's own custom.homepage needs the decision too once it is not accepted
    assert "jupyterhub.custom.homepage: in" in errors


# ---------------------------------------------------------------------------------------
# The generator's large fleet
# ---------------------------------------------------------------------------------------


def test_generated_fleet_of_95_hubs_parses(tmp_path: Path, record_property) -> None:
    """The benchmark's fleet. Without secret files here: 107 sops runs would dominate the test's time."""
    output = tmp_path / "big"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate-fleet.py"), "--output", str(output)],
                          cwd=ROOT, env=project_env(), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["per_cluster"]["big"] == 95
    started = time.monotonic()
    listing = inventory_list(output / "hubs.fleet.yml")
    seconds = time.monotonic() - started
    record_property("fleet_inventory_seconds", round(seconds, 2))
    print(f"\nansible-inventory --list of {summary['hubs']} hubs on {summary['clusters']} clusters: {seconds:.2f}s")
    assert len(listing["cluster_big"]["hosts"]) == 95
    assert len(listing["_meta"]["hostvars"]) == summary["hubs"]
    assert set(listing["stage_staging"]["hosts"]) == {"big-staging"} | {f"small-{i}-staging" for i in range(1, 5)}
    assert all(Path(p).is_file() for v in listing["_meta"]["hostvars"].values() for p in v["hub_values_files"])


# ---------------------------------------------------------------------------------------
# End to end: one imagebuilding hub of the sample fleet on the embedded local cluster
# ---------------------------------------------------------------------------------------


def _local_source(directory: Path, fleet: Path, hub_vars: dict[str, Any] | None = None) -> Path:
    """A source that points every cluster of ``fleet`` at the embedded cluster, with local settings."""
    local = ROOT / ".local"
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    (directory / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "jupyterhub_auth": {"type": "dummy", "allowed_users": ["alice"]},
        "jupyterhub_storage": {"type": "dynamic", "capacity": "1Gi"},
        "cluster_node_pools": {"core": {"hub.jupyter.org/node-purpose": "core"},
                               "user": {"hub.jupyter.org/node-purpose": "user"}},
        "registry_type": "generic", "registry_host": "127.0.0.1:5443", "registry_url": "https://127.0.0.1:5443",
        "registry_ca_file": str(local / "cluster" / "pki" / "ca.crt"),
        "registry_htpasswd_file": str(local / "registry" / "htpasswd"),
    }))
    options: dict[str, Any] = {
        "config_dir": str(fleet), "local": True,
        "kubeconfig_override": str(local / "cluster" / "kubeconfig"), "kube_context_override": "",
        "prepend_values_files": [str(LOCAL_VALUES)],
        "fleet_vars": {"hub_charts_source": "directory", "hub_charts_dir": str(SHARED_CHARTS)},
    }
    if hub_vars:
        options["hub_vars"] = hub_vars
    return write_source(directory, options, "local.fleet.yml")


@pytest.mark.slow
def test_deploy_one_sample_hub_to_the_local_cluster(sample_fleet: Path, fleet_key: AgeKey, tmp_path: Path,
                                                    kubeconfig: Path) -> None:
    """The hub's sops-encrypted values files are decrypted in memory and layered in their order."""
    fleet = tmp_path / "fleet"
    shutil.copytree(sample_fleet, fleet)
    cluster_dir = fleet / CLUSTERS / "onprem-delta"
    # One more encrypted values file, listed before the hub's own: its value must reach the release.
    token = secrets.token_hex(16)
    sops_encrypt_to(cluster_dir / "enc-common.secret.values.yaml",
                    {"jupyterhub": {"hub": {"extraEnv": {"FLEET_SHARED_TOKEN": token}}}}, fleet_key)
    cluster = yaml.safe_load((cluster_dir / "cluster.yaml").read_text())
    cluster["hubs"][0]["helm_chart_values_files"].insert(2, "enc-common.secret.values.yaml")
    (cluster_dir / "cluster.yaml").write_text(yaml.safe_dump(cluster, sort_keys=False))
    env = project_env(SOPS_AGE_KEY_FILE=str(fleet_key.key_file), KUBECONFIG=str(kubeconfig))
    source = _local_source(tmp_path / "src", fleet)
    first = run_playbook("-i", str(source), "playbooks/hub.yml", "-l", E2E_HOST, "--diff", env=env)
    assert first.rc == 0, first.output[-6000:]
    assert first.recap()[E2E_HOST]["failed"] == 0
    assert token not in first.output
    # the adoption report, before any change: the umbrella's switch mapped to the hub's release
    assert ("delta-binder.values.yaml: binderhub-service.enabled -> the hub's binderhub-service release is deployed"
            in first.output), first.output[-6000:]
    second = run_playbook("-i", str(source), "playbooks/hub.yml", "-l", E2E_HOST, env=env)
    assert second.rc == 0, second.output[-6000:]
    assert second.recap()[E2E_HOST]["changed"] == 0, second.output[-6000:]
    releases = subprocess.run(["helm", "list", "-n", E2E_HUB, "-o", "json"], env=env, capture_output=True, text=True,
                              check=True)
    # The incumbent's release name (the hub's), kept by the inventory plugin.
    assert {r["name"] for r in json.loads(releases.stdout)} == {E2E_HUB, f"{E2E_HUB}-binderhub"}
    deployed = subprocess.run(["helm", "get", "values", E2E_HUB, "-n", E2E_HUB, "-o", "json"], env=env,
                              capture_output=True, text=True, check=True)
    hub_values = json.loads(deployed.stdout)
    assert hub_values["hub"]["extraEnv"]["FLEET_SHARED_TOKEN"] == token
    own = sops_decrypt(cluster_dir / f"enc-{E2E_HUB}.secret.values.yaml", fleet_key)
    assert hub_values["hub"]["services"]["binder"]["apiToken"] == own["jupyterhub"]["hub"]["services"]["binder"]["apiToken"]
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
