#!/usr/bin/python
"""Ansible module registry_check: validate a hub's registry settings, derive its definition."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_check
short_description: Validate a hub's registry settings and derive its registry definition
description:
  - Checks the registry role's variables of one hub across fields (what each registry type
    needs, host and url agreement, the image prefix rules of the type, files that must exist)
    and fails with the hub and the variables named before anything is changed.
  - Returns the public part of the C(registry_definition) fact (everything except the
    password) and where the password comes from.
  - Secrets are not passed in; only whether they are given (O(password_given),
    O(quay_robot_token_given), O(quay_api_token_given)), so the task needs no C(no_log) and its
    errors stay readable.
  - Changes nothing; runs in check mode too.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  type:
    description: Registry type.
    type: str
    required: true
    choices: [gcp, quay, generic]
  hub:
    description: Hub name, used in default names.
    type: str
    required: true
  label:
    description: How messages name the hub (the inventory hostname); default O(hub).
    type: str
    default: ""
  cluster:
    description: Cluster name (quay image prefix, default robot and namespace).
    type: str
    default: ""
  name:
    description: Repository name for gcp (the C(container_repos) entry).
    type: str
    default: ""
  image_prefix:
    description: Image prefix; empty for the type's default.
    type: str
    default: ""
  host:
    description: Registry host[:port] (generic).
    type: str
    default: ""
  url:
    description: Registry API URL (generic); empty for C(https://<host>).
    type: str
    default: ""
  namespace:
    description: Namespace of the default generic image prefix C(<host>/<namespace>/).
    type: str
    default: ""
  username:
    description: Registry user (generic).
    type: str
    default: ""
  password_given:
    description: Whether a registry password is given in inventory (C(registry_password)).
    type: bool
    default: false
  gcp_project:
    description: GCP project of the Artifact Registry.
    type: str
    default: ""
  gcp_region:
    description: GCP region of the Artifact Registry.
    type: str
    default: ""
  quay_org:
    description: Quay organization.
    type: str
    default: ""
  quay_robot:
    description: Quay robot short name.
    type: str
    default: ""
  quay_host:
    description: Quay registry host.
    type: str
    default: quay.io
  quay_api_url:
    description: Quay API base URL.
    type: str
    default: ""
  quay_robot_token_given:
    description: Whether a robot token is given in inventory (C(registry_quay_robot_token)).
    type: bool
    default: false
  quay_api_token_given:
    description: Whether a Quay OAuth API token is given (C(registry_quay_api_token)).
    type: bool
    default: false
  ca_file:
    description: CA file of the registry's TLS certificate; must exist.
    type: str
    default: ""
  pull_secret_required:
    description: Override whether pulls need an image pull secret (default by type).
    type: bool
  htpasswd_file:
    description: htpasswd file of a self-hosted registry whose users the role manages (generic only).
    type: str
    default: ""
  secrets_file:
    description: The hub's sops-encrypted secret values file, where a current password may be.
    type: str
    default: ""
  terraform_vars_file:
    description: Terraform variables file with C(container_repos) (gcp).
    type: str
    default: ""
  terraform_dir:
    description: Terraform working directory of the cluster (gcp).
    type: str
    default: ""
  terraform_state_file:
    description: Local terraform state file to read keys from (gcp).
    type: str
    default: ""
  terraform_apply:
    description: Whether terraform plan/apply is requested.
    type: bool
    default: false
  rotate:
    description: Whether new credentials are requested.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Check the registry settings of the hub
  imagebuilding.hubs.registry_check:
    type: generic
    hub: research
    cluster: local
    host: 127.0.0.1:5443
    namespace: local-research
    htpasswd_file: /srv/registry/htpasswd
  register: checked
"""

RETURN = r"""
definition:
  description: The registry definition without the password.
  type: dict
  returned: success
  sample:
    type: generic
    host: 127.0.0.1:5443
    url: https://127.0.0.1:5443
    image_prefix: 127.0.0.1:5443/local-research/
    username: research
    pull_secret_required: false
password_source:
  description: Where the role takes the password from.
  type: str
  returned: success
  choices: [given, terraform, quay_api, htpasswd, secrets_file]
htpasswd_managed:
  description: Whether the role manages the user in an htpasswd file.
  type: bool
  returned: success
secrets_file_exists:
  description: Whether the hub's secret values file exists.
  type: bool
  returned: success
name:
  description: Repository name (the C(container_repos) entry for gcp).
  type: str
  returned: success
quay_robot:
  description: Robot short name (derived C(<cluster>_<hub>) unless given).
  type: str
  returned: success
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_check import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
