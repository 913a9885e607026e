"""gcp registries: the container_repos edit of real HCL files, and registry_sa_keys read from
terraform's state (a state file in terraform's version 4 format, and `terraform output`)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import hcl2
import pytest
from registry_support import run_module
from support import VENV_BIN, run_playbook

TFVARS = """\
# Cluster "eu" on GCP: see terraform/gcp/README.md
prefix     = "eu"
project_id = "my-project-123"
region     = "us-central1"

# One Artifact Registry repository (<name>-registry) per hub
container_repos = [
  "staging", # the staging hub
  // "old-hub", removed in 2024
  "prod",
]

notebook_nodes = {
  "n2-highmem-4" : {
    min : 0,
    max : 100,
    machine_type : "n2-highmem-4",
    labels = { container_repos = "not this one" },
  },
}

/* enable_filestore = true */
hub_cloud_permissions = {
  "staging" : { bucket_admin_access : ["scratch-staging"] },
}
"""

EXPECTED = TFVARS.replace('  "prod",\n', '  "prod",\n  "research",\n')


def edit(path: Path, name: str = "research", **kwargs: object) -> dict:
    return run_module("terraform_container_repos", {"path": str(path), "name": name}, **kwargs)


def test_adds_once_and_keeps_comments_and_order(tmp_path: Path) -> None:
    tfvars = tmp_path / "eu.tfvars"
    tfvars.write_text(TFVARS)
    first = edit(tfvars)
    assert first["changed"] is True and first["edit"] == "appended", first
    assert first["repos"] == ["staging", "prod", "research"]
    assert tfvars.read_text() == EXPECTED
    parsed = hcl2.loads(tfvars.read_text(), serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
    assert parsed["container_repos"] == ["staging", "prod", "research"]

    mtime = tfvars.stat().st_mtime_ns
    second = edit(tfvars)
    assert second["changed"] is False and second["edit"] == "unchanged"
    assert tfvars.read_text() == EXPECTED and tfvars.stat().st_mtime_ns == mtime


def test_check_mode_changes_nothing_and_shows_the_diff(tmp_path: Path) -> None:
    tfvars = tmp_path / "eu.tfvars"
    tfvars.write_text(TFVARS)
    result = edit(tfvars, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"] == EXPECTED
    assert tfvars.read_text() == TFVARS


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('container_repos = []\n', 'container_repos = ["research"]\n'),
        ('container_repos = ["a", "b"] # inline\n', 'container_repos = ["a", "b", "research"] # inline\n'),
        ('container_repos = [\n  "a",\n  "b"\n]\n', 'container_repos = [\n  "a",\n  "b",\n  "research"\n]\n'),
        ('container_repos = [\n    # none yet\n]\n', 'container_repos = [\n    # none yet\n  "research",\n]\n'),
        ('region = "x"\n', 'region = "x"\n\ncontainer_repos = [\n  "research",\n]\n'),
        (
            'region = "x"\r\ncontainer_repos = [\r\n  "a",\r\n]\r\n',
            'region = "x"\r\ncontainer_repos = [\r\n  "a",\r\n  "research",\r\n]\r\n',
        ),
    ],
    ids=["empty-inline", "inline", "no-trailing-comma", "only-comments", "missing", "crlf"],
)
def test_list_styles(tmp_path: Path, before: str, after: str) -> None:
    tfvars = tmp_path / "x.tfvars"
    tfvars.write_bytes(before.encode())
    assert edit(tfvars)["changed"] is True
    assert tfvars.read_bytes().decode() == after
    assert edit(tfvars)["changed"] is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('container_repos = concat(var.a, ["b"])\n', "is not a literal list"),
        ('container_repos = ["a", var.b]\n', "not a quoted string"),
        ('container_repos = ["a"]\ncontainer_repos = ["b"]\n', "is set 2 times"),
        ('container_repos = ["a"\n', "unbalanced brackets"),
        ('x = {\n', "unbalanced brackets"),
    ],
)
def test_refuses_what_it_cannot_edit_safely(tmp_path: Path, text: str, message: str) -> None:
    tfvars = tmp_path / "x.tfvars"
    tfvars.write_text(text)
    result = edit(tfvars)
    assert result["failed"] is True and message in result["msg"], result
    assert "cannot add 'research' to container_repos" in result["msg"]
    assert tfvars.read_text() == text


# --- registry_sa_keys ---------------------------------------------------------------

def _test_private_key_pem() -> str:
    """A throwaway RSA key made at test time (never a committed key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


SA_KEY = {
    "type": "service_account",
    "project_id": "my-project-123",
    "private_key_id": "0123abcd",
    "private_key": _test_private_key_pem(),
    "client_email": "research-registry@my-project-123.iam.gserviceaccount.com",
}


def v4_state(outputs: dict) -> dict:
    """A state file as terraform >= 0.12 writes it (format version 4)."""
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 7,
        "lineage": "5f7c2d0e-2b8a-4f1e-9d3c-7a6b5c4d3e2f",
        "outputs": outputs,
        "resources": [],
        "check_results": None,
    }


def test_reads_the_key_from_a_version_4_state_file(tmp_path: Path) -> None:
    key_b64 = base64.b64encode(json.dumps(SA_KEY).encode()).decode()
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps(v4_state({
        "registry_sa_keys": {
            "value": {"research": key_b64, "staging": json.dumps(SA_KEY)},
            "type": ["object", {"research": "string", "staging": "string"}],
            "sensitive": True,
        },
    })))
    result = run_module("terraform_registry_keys", {"state_file": str(state), "name": "research"})
    assert result["found"] is True and json.loads(result["key"]) == SA_KEY
    assert result["names"] == ["research", "staging"]
    plain = run_module("terraform_registry_keys", {"state_file": str(state), "name": "staging"})
    assert json.loads(plain["key"]) == SA_KEY

    missing = run_module("terraform_registry_keys", {"state_file": str(state), "name": "newhub"})
    assert missing["failed"] is True
    assert "has no key for 'newhub'" in missing["msg"] and "run terraform apply" in missing["msg"]
    tolerated = run_module("terraform_registry_keys", {"state_file": str(state), "name": "newhub", "missing_ok": True})
    assert tolerated.get("failed") is not True and tolerated["found"] is False


def test_refuses_other_state_formats(tmp_path: Path) -> None:
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps({"version": 3, "modules": [{"path": ["root"], "outputs": {}}]}))
    result = run_module("terraform_registry_keys", {"state_file": str(state), "name": "research"})
    assert result["failed"] is True and "only version 4" in result["msg"]


# --- with the real terraform binary: a provider-less stand-in of the cluster's terraform

TERRAFORM = shutil.which("terraform")

STAND_IN_TF = """\
# Stand-in for the cluster's terraform (the real one needs the google provider and GCP):
# the same variable and output shape, with keys made up from the repository names.
variable "container_repos" {
  type    = list(string)
  default = []
}
variable "prefix" { type = string }
variable "project_id" { type = string }
variable "region" { type = string }
variable "notebook_nodes" { type = any }
variable "hub_cloud_permissions" { type = any }

output "registry_sa_keys" {
  value = {
    for repo in var.container_repos : repo => base64encode(jsonencode({
      type         = "service_account"
      project_id   = var.project_id
      client_email = "${repo}-registry@${var.project_id}.iam.gserviceaccount.com"
    }))
  }
  sensitive = true
}
"""


def terraform_env() -> dict[str, str]:
    return {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": "/dev/null"}


@pytest.fixture
def cluster_terraform(tmp_path: Path) -> Path:
    """The cluster's terraform directory (the stand-in configuration and its tfvars)."""
    directory = tmp_path / "terraform"
    directory.mkdir()
    (directory / "main.tf").write_text(STAND_IN_TF)
    (directory / "eu.tfvars").write_text(TFVARS)
    return directory


@pytest.fixture
def terraform_dir(cluster_terraform: Path) -> Path:
    if TERRAFORM is None:
        pytest.skip("terraform is not installed; the state-file tests above cover reading the keys")
    return cluster_terraform


def terraform(directory: Path, *args: str) -> None:
    subprocess.run([TERRAFORM, *args], cwd=directory, env=terraform_env(), check=True, capture_output=True, timeout=300)


def test_real_terraform_state_after_the_edit(terraform_dir: Path) -> None:
    assert edit(terraform_dir / "eu.tfvars")["changed"] is True
    terraform(terraform_dir, "init", "-input=false", "-no-color")
    terraform(terraform_dir, "apply", "-auto-approve", "-input=false", "-no-color", "-var-file=eu.tfvars")
    state = terraform_dir / "terraform.tfstate"
    assert json.loads(state.read_text())["version"] == 4
    from_state = run_module("terraform_registry_keys", {"state_file": str(state), "name": "research"})
    from_output = run_module("terraform_registry_keys", {"project_path": str(terraform_dir), "name": "research"})
    assert from_state["found"] is True and from_output["found"] is True
    assert from_state["key"] == from_output["key"]
    assert json.loads(from_state["key"])["client_email"] == "research-registry@my-project-123.iam.gserviceaccount.com"


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


def gcp_inventory(tmp_path: Path, terraform_dir: Path, **hostvars: object) -> Path:
    inventory = {"all": {"hosts": {"research": {
        "ansible_connection": "local",
        "ansible_python_interpreter": str(VENV_BIN / "python"),
        "cluster_name": "eu",
        "registry_type": "gcp",
        "registry_gcp_project": "my-project-123",
        "registry_gcp_region": "us-central1",
        "registry_terraform_vars_file": str(terraform_dir / "eu.tfvars"),
        "registry_terraform_dir": str(terraform_dir),
        # Artifact Registry cannot be reached from here.
        "registry_verify": False,
        "secrets_dir": str(tmp_path / "secrets"),
        **hostvars,
    }}}}
    path = tmp_path / "inventory.yml"
    path.write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(textwrap.dedent(PLAYBOOK))
    return path


def test_role_gcp_with_terraform_apply(tmp_path: Path, terraform_dir: Path) -> None:
    inventory = gcp_inventory(tmp_path, terraform_dir, registry_terraform_apply=True)
    check = run_playbook("-i", str(inventory), str(tmp_path / "play.yml"), "--check", "-e", f"out_dir={tmp_path}")
    assert check.rc == 0, check.output
    assert (terraform_dir / "eu.tfvars").read_text() == TFVARS, "check mode must not edit the tfvars"
    assert not (terraform_dir / "terraform.tfstate").exists(), "check mode must not apply"

    run = run_playbook("-i", str(inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}")
    assert run.rc == 0, run.output
    assert (terraform_dir / "eu.tfvars").read_text() == EXPECTED
    definition = json.loads((tmp_path / "research.json").read_text())
    key = definition.pop("password")
    assert json.loads(key)["client_email"] == "research-registry@my-project-123.iam.gserviceaccount.com"
    assert definition == {
        "type": "gcp",
        "host": "us-central1-docker.pkg.dev",
        "url": "https://us-central1-docker.pkg.dev",
        "image_prefix": "us-central1-docker.pkg.dev/my-project-123/research-registry/",
        "username": "_json_key",
        "pull_secret_required": False,
    }
    assert "research-registry@" not in run.output, "the key must not be printed"
    again = run_playbook("-i", str(inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}")
    assert again.rc == 0 and again.recap()["research"]["changed"] == 0, again.output


def test_role_says_apply_is_needed_without_terraform_apply(tmp_path: Path, terraform_dir: Path) -> None:
    inventory = gcp_inventory(tmp_path, terraform_dir)
    run = run_playbook("-i", str(inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}")
    assert run.rc != 0
    assert "run terraform apply for the cluster" in run.output
    assert "hub 'research'" in run.output
    assert (terraform_dir / "eu.tfvars").read_text() == EXPECTED


def test_role_reports_a_missing_terraform_binary(tmp_path: Path, cluster_terraform: Path) -> None:
    inventory = gcp_inventory(
        tmp_path, cluster_terraform, registry_terraform_apply=True, registry_terraform_binary="/nonexistent/terraform"
    )
    run = run_playbook("-i", str(inventory), str(tmp_path / "play.yml"), "-e", f"out_dir={tmp_path}")
    assert run.rc != 0
    assert "registry_terraform_apply is true but terraform ('/nonexistent/terraform') cannot be run" in run.output
