#!/usr/bin/python
"""Ansible module registry_login: log in to an OCI registry as the build pods would."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_login
short_description: Log in to an OCI distribution registry with push credentials, as build pods would
description:
  - Calls C(GET /v2/) of the registry. A registry that answers 401 with a C(Basic) challenge is
    asked again with basic credentials; one that answers with a C(Bearer realm=...,service=...)
    challenge gets a token request with the basic credentials and a
    C(repository:<name>:pull,push) scope for a repository under O(image_prefix), then
    C(GET /v2/) again with the token.
  - Fails with the hub and the registry named and says whether the credentials were wrong, the
    host unknown or unreachable, or TLS failed (untrusted certificate, plain HTTP on a TLS url).
  - The password is never logged nor returned.
  - Changes nothing; runs in check mode too.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  url:
    description: Registry API base URL, C(https://host[:port]) (no path).
    type: str
    required: true
  username:
    description: User that build pods push as.
    type: str
    required: true
  password:
    description: Password or token of O(username).
    type: str
    required: true
  image_prefix:
    description:
      - BinderHub's image prefix. The token scope and the push check use the repository
        C(<prefix path>registry-check) under it.
    type: str
    required: true
  ca_file:
    description: CA bundle that signs the registry's TLS certificate; the system CAs when omitted.
    type: path
  validate_certs:
    description: Verify TLS certificates. Only for debugging.
    type: bool
    default: true
  check_push:
    description:
      - Also start a blob upload under the prefix (the first step of a push) and cancel it,
        proving the user may push there.
    type: bool
    default: false
  hub:
    description: Hub name used in messages.
    type: str
    default: ""
  timeout:
    description: Timeout of each HTTP request in seconds.
    type: float
    default: 20
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
- name: Log in to the hub's registry as the build pods would
  registry_login:
    url: "{{ registry_definition.url }}"
    username: "{{ registry_definition.username }}"
    password: "{{ registry_definition.password }}"
    image_prefix: "{{ registry_definition.image_prefix }}"
    ca_file: "{{ registry_definition.ca_file | default(omit) }}"
    hub: "{{ inventory_hostname }}"
  no_log: true
"""

RETURN = r"""
scheme:
  description: How the registry authenticated the user.
  type: str
  returned: success
  sample: bearer
repository:
  description: Repository used for the token scope and the push check.
  type: str
  returned: success
  sample: local-research/registry-check
push_checked:
  description: Whether a blob upload was started and cancelled successfully.
  type: bool
  returned: success
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_login import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
