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
author: imagebuilding-hubs
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

import json
import urllib.parse
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_client import RegistryLoginError, request, ssl_context
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import QUAY_ORG_RE, QUAY_ROBOT_RE


class QuayError(Exception):
    pass


class QuayApi:
    """The three robot endpoints this module needs."""

    def __init__(self, api_url: str, token: str, validate_certs: bool, ca_file: str | None, timeout: float) -> None:
        self.base = api_url.rstrip("/") + "/api/v1"
        self.token = token
        self.context = ssl_context(ca_file, validate_certs)
        self.timeout = timeout

    def robot_path(self, org: str, robot: str) -> str:
        return f"{self.base}/organization/{urllib.parse.quote(org)}/robots/{urllib.parse.quote(robot)}"

    def call(self, method: str, url: str, body: dict | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        try:
            resp = request(method, url, self.context, headers, data=data, timeout=self.timeout)
        except RegistryLoginError as exc:
            raise QuayError(f"the Quay API at {self.base} cannot be reached: {exc.message}") from None
        try:
            payload = json.loads(resp.body.decode("utf-8")) if resp.body else {}
        except (UnicodeDecodeError, ValueError):
            payload = {}
        return resp.status, payload if isinstance(payload, dict) else {}

    def get(self, org: str, robot: str) -> dict[str, Any] | None:
        status, payload = self.call("GET", self.robot_path(org, robot))
        if status == 404:
            return None
        return self.expect(status, payload, (200,), f"looking up robot {org}+{robot}")

    def create(self, org: str, robot: str, description: str) -> dict[str, Any]:
        status, payload = self.call("PUT", self.robot_path(org, robot), {"description": description})
        return self.expect(status, payload, (200, 201), f"creating robot {org}+{robot}")

    def regenerate(self, org: str, robot: str) -> dict[str, Any]:
        status, payload = self.call("POST", self.robot_path(org, robot) + "/regenerate")
        return self.expect(status, payload, (200, 201), f"regenerating the token of robot {org}+{robot}")

    def expect(self, status: int, payload: dict[str, Any], ok: tuple[int, ...], doing: str) -> dict[str, Any]:
        if status in ok:
            return payload
        detail = payload.get("detail") or payload.get("error_message") or payload.get("message") or ""
        hints = {
            401: "the API token (registry_quay_api_token) is invalid or expired",
            403: "the API token lacks the org:admin scope for this organization",
            404: "the organization does not exist or the token cannot see it",
        }
        hint = hints.get(status, "unexpected answer")
        raise QuayError(f"{doing} failed with HTTP {status}: {hint}" + (f" ({detail})" if detail else ""))


def robot_result(payload: dict[str, Any], org: str, robot: str) -> dict[str, Any]:
    token = payload.get("token")
    if not isinstance(token, str) or not token:
        raise QuayError(f"the Quay API returned robot {org}+{robot} without a token")
    return {"name": payload.get("name") or f"{org}+{robot}", "token": token}


def run(module: AnsibleModule, api: QuayApi) -> dict[str, Any]:
    params = module.params
    org, robot = params["organization"], params["robot"]
    result: dict[str, Any] = {"changed": False, "created": False, "regenerated": False, "name": f"{org}+{robot}"}
    existing = api.get(org, robot)
    if existing is None:
        # A new robot has a fresh token: creating it is all that "regenerated" asks for too.
        result.update(changed=True, created=True)
        if not module.check_mode:
            result.update(robot_result(api.create(org, robot, params["description"]), org, robot))
        return result
    if params["state"] == "present":
        result.update(robot_result(existing, org, robot))
        return result
    result.update(changed=True, regenerated=True)
    if not module.check_mode:
        result.update(robot_result(api.regenerate(org, robot), org, robot))
    return result

def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "api_url": {"type": "str", "default": "https://quay.io"},
            "api_token": {"type": "str", "required": True, "no_log": True},
            "organization": {"type": "str", "required": True},
            "robot": {"type": "str", "required": True},
            "description": {"type": "str", "default": ""},
            "state": {"type": "str", "choices": ["present", "regenerated"], "default": "present"},
            "validate_certs": {"type": "bool", "default": True},
            "ca_file": {"type": "path"},
            "timeout": {"type": "float", "default": 30.0},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not QUAY_ORG_RE.match(params["organization"]):
        module.fail_json(msg=f"organization '{params['organization']}' is not a valid quay organization name")
    if not QUAY_ROBOT_RE.match(params["robot"]):
        module.fail_json(msg=f"robot '{params['robot']}' is not a valid robot short name (^[a-z][a-z0-9_]{{1,254}}$)")
    api = QuayApi(params["api_url"], params["api_token"], params["validate_certs"], params["ca_file"], params["timeout"])
    try:
        result = run(module, api)
    except QuayError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
