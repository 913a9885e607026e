"""The logic of the module ``quay_robot`` (a robot account of a Quay organization and its
token), as plain functions: ``LOGIC.run(params, context)``, run by the module and by its action plugin."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.plain_module import (
    ModuleFailure,
    ModuleLogic,
    RunContext,
)
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_client import RegistryLoginError, request, ssl_context
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import QUAY_ORG_RE, QUAY_ROBOT_RE

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "api_url": {"type": "str", "default": "https://quay.io"},
    "api_token": {"type": "str", "required": True, "no_log": True},
    "organization": {"type": "str", "required": True},
    "robot": {"type": "str", "required": True},
    "description": {"type": "str", "default": ""},
    "state": {"type": "str", "choices": ["present", "regenerated"], "default": "present"},
    "validate_certs": {"type": "bool", "default": True},
    "ca_file": {"type": "path"},
    "timeout": {"type": "float", "default": 30.0},
}


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


def robot_state(params: dict[str, Any], api: QuayApi, check_mode: bool) -> dict[str, Any]:
    """Look the robot up; create it or regenerate its token as asked (not in check mode)."""
    org, robot = params["organization"], params["robot"]
    result: dict[str, Any] = {"changed": False, "created": False, "regenerated": False, "name": f"{org}+{robot}"}
    existing = api.get(org, robot)
    if existing is None:
        # A new robot has a fresh token: creating it is all that "regenerated" asks for too.
        result.update(changed=True, created=True)
        if not check_mode:
            result.update(robot_result(api.create(org, robot, params["description"]), org, robot))
        return result
    if params["state"] == "present":
        result.update(robot_result(existing, org, robot))
        return result
    result.update(changed=True, regenerated=True)
    if not check_mode:
        result.update(robot_result(api.regenerate(org, robot), org, robot))
    return result


def run(params: dict[str, Any], context: RunContext) -> dict[str, Any]:
    if not QUAY_ORG_RE.match(params["organization"]):
        raise ModuleFailure(f"organization '{params['organization']}' is not a valid quay organization name")
    if not QUAY_ROBOT_RE.match(params["robot"]):
        raise ModuleFailure(f"robot '{params['robot']}' is not a valid robot short name (^[a-z][a-z0-9_]{{1,254}}$)")
    api = QuayApi(params["api_url"], params["api_token"], params["validate_certs"], params["ca_file"], params["timeout"])
    try:
        return robot_state(params, api, context.check_mode)
    except QuayError as error:
        raise ModuleFailure(str(error)) from None


LOGIC = ModuleLogic(name="quay_robot", argument_spec=ARGUMENT_SPEC, run=run)
