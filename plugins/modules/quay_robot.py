#!/usr/bin/python
"""Ansible module quay_robot: a robot account of a Quay organization and its token."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: quay_robot
short_description: Look up, create or regenerate a robot account of a Quay organization
description:
  - Uses the documented Quay API with an OAuth access token that has the C(org:admin) scope
    C(GET /api/v1/organization/{orgname}/robots/{robot_shortname}) to look the robot up,
    C(PUT) on the same path to create it when it is missing, and
    C(POST .../robots/{robot_shortname}/regenerate) to give it a new token.
  - Returns the robot's full name C(<org>+<robot>) and its token. Run it with C(no_log) since
    the token is a secret.
  - In check mode only the lookup runs; a robot that would be created or regenerated is
    reported as changed, without a token.
version_added: "1.0.0"
author:
  - imagebuilding-hubs developers (@imagebuilding-hubs)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  api_url:
    description: Base URL of the Quay instance; the API lives under C(/api/v1).
    type: str
    default: https://quay.io
  api_token:
    description: OAuth access token of an application of the organization, scope C(org:admin).
    type: str
    required: true
  organization:
    description: Organization that owns the robot.
    type: str
    required: true
  robot:
    description: Robot short name, without the C(<org>+) prefix (C(^[a-z][a-z0-9_]{1,254}$)).
    type: str
    required: true
  description:
    description: Description given to a robot this module creates.
    type: str
    default: ""
  state:
    description:
      - V(present) looks the robot up and creates it when it is missing.
      - V(regenerated) also replaces its token (the old one stops working).
    type: str
    choices: [present, regenerated]
    default: present
  validate_certs:
    description: Verify the TLS certificate of O(api_url).
    type: bool
    default: true
  ca_file:
    description: CA bundle for O(api_url).
    type: path
  timeout:
    description: Timeout of each API request in seconds.
    type: float
    default: 30
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
- name: Look up or create the hub's robot account
  quay_robot:
    organization: myorg
    robot: mycluster_research
    api_token: "{{ registry_quay_api_token }}"
  register: robot
  no_log: true
"""

RETURN = r"""
name:
  description: Full robot name, the registry username.
  type: str
  returned: success
  sample: myorg+mycluster_research
token:
  description: The robot's token, the registry password (absent in check mode when it would change).
  type: str
  returned: success and not check mode
created:
  description: Whether the robot was created.
  type: bool
  returned: success
regenerated:
  description: Whether the robot's token was regenerated.
  type: bool
  returned: success
"""

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import run_as_module
from ansible_collections.imagebuilding.hubs.plugins.module_utils.quay_robot import LOGIC


def main() -> None:
    run_as_module(LOGIC)


if __name__ == "__main__":
    main()
