"""STAND-IN for the Quay API (quay.io cannot be reached from the test machines).

A small local HTTP server on 127.0.0.1 that answers only the three robot endpoints the
``quay_robot`` module calls, with the response shapes of the Quay API documentation:

* ``GET  /api/v1/organization/{orgname}/robots/{robot_shortname}``  -> 200 robot, 404
* ``PUT  /api/v1/organization/{orgname}/robots/{robot_shortname}``  -> 201 robot
  (optional JSON body ``{"description": ..., "unstructured_metadata": {...}}``)
* ``POST /api/v1/organization/{orgname}/robots/{robot_shortname}/regenerate`` -> 201 robot

A robot is ``{"name": "<org>+<short>", "created": ..., "last_accessed": null,
"description": ..., "token": ..., "unstructured_metadata": {...}}``; errors are ApiError
objects ``{"status", "type", "title", "detail", "error_message", "error_type"}``. A request
without ``Authorization: Bearer <token>`` of a known OAuth token gets 401, a token of
another organization 403. It is a test double, not an implementation of Quay.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROBOT_PATH = re.compile(r"^/api/v1/organization/(?P<org>[^/]+)/robots/(?P<robot>[^/]+)(?P<regenerate>/regenerate)?$")


@dataclass
class QuayState:
    """Organizations, their robots and the OAuth tokens allowed to administer them."""

    tokens: dict[str, str] = field(default_factory=dict)  # OAuth token -> organization
    robots: dict[str, dict[str, dict]] = field(default_factory=dict)  # org -> short name -> robot
    calls: list[tuple[str, str]] = field(default_factory=list)

    def add_robot(self, org: str, short: str, token: str | None = None, description: str = "") -> dict:
        robot = {
            "name": f"{org}+{short}",
            "created": formatdate(),
            "last_accessed": None,
            "description": description,
            "token": token or new_robot_token(),
            "unstructured_metadata": {},
        }
        self.robots.setdefault(org, {})[short] = robot
        return robot


def new_robot_token() -> str:
    return secrets.token_hex(32).upper()[:64]


def api_error(status: int, error_type: str, detail: str) -> dict:
    titles = {400: "bad_request", 401: "unauthorized", 403: "insufficient_scope", 404: "not_found"}
    return {
        "status": status,
        "type": f"https://quay.io/api/v1/error/{error_type}",
        "title": titles.get(status, "error"),
        "detail": detail,
        "error_message": detail,
        "error_type": error_type,
    }


class QuayHandler(BaseHTTPRequestHandler):
    server: QuayServer

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized_org(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.server.state.tokens.get(header[len("Bearer "):])

    def handle_robot(self, method: str) -> None:
        state = self.server.state
        state.calls.append((method, self.path))
        match = ROBOT_PATH.match(self.path.split("?", 1)[0])
        if not match or (method == "POST") != bool(match["regenerate"]):
            self.reply(404, api_error(404, "not_found", "Not Found"))
            return
        org_of_token = self.authorized_org()
        if org_of_token is None:
            self.reply(401, api_error(401, "invalid_token", "Requires authentication"))
            return
        org, short = match["org"], match["robot"]
        if org_of_token != org:
            self.reply(403, api_error(403, "insufficient_scope", "Unauthorized"))
            return
        robot = state.robots.get(org, {}).get(short)
        if method == "GET":
            missing = api_error(404, "not_found", "Could not find robot with specified username")
            self.reply(*((200, robot) if robot else (404, missing)))
        elif method == "PUT":
            if robot:
                self.reply(400, api_error(400, "invalid_request", f"Existing robot with name: {org}+{short}"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            self.reply(201, state.add_robot(org, short, description=body.get("description", "")))
        elif robot is None:
            self.reply(404, api_error(404, "not_found", "Could not find robot with specified username"))
        else:
            robot["token"] = new_robot_token()
            self.reply(201, robot)

    def do_GET(self) -> None:
        self.handle_robot("GET")

    def do_PUT(self) -> None:
        self.handle_robot("PUT")

    def do_POST(self) -> None:
        self.handle_robot("POST")


class QuayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: QuayState) -> None:
        super().__init__(("127.0.0.1", 0), QuayHandler)
        self.state = state

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextmanager
def serve(state: QuayState) -> Iterator[QuayServer]:
    """Run the stand-in in a thread for the duration of the ``with`` block."""
    server = QuayServer(state)
    thread = threading.Thread(target=server.serve_forever, name="quay-api-stand-in", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
