"""A small client of a JupyterHub's REST API (``<url>/hub/api/...``) with a service's token.

The token goes in the Authorization header only: it is never part of an error, a URL or a result.
"""

from __future__ import annotations

import json
import urllib.error
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ansible.module_utils.urls import open_url


class HubAPIError(Exception):
    """The hub could not be reached, or answered with something that is not JSON."""


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any  # the decoded JSON body (None when empty)

    @property
    def message(self) -> str:
        """The hub's error message, if it gave one."""
        return str(self.data.get("message", "")) if isinstance(self.data, dict) else ""


@dataclass(frozen=True)
class HubAPI:
    url: str  # the hub's public URL, e.g. https://hub.example.org
    token: str = field(repr=False)
    validate_certs: bool = True
    timeout: float = 30

    def request(self, method: str, path: str, body: object = None) -> Answer:
        """``path`` below ``/hub/api`` (e.g. ``/users/x``): the status and decoded body; raises
        HubAPIError when the hub cannot be reached."""
        headers = {"Authorization": f"token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        target = f"{self.url.rstrip('/')}/hub/api{path}"
        try:
            # validate_certs off only when asked for (a test hub with a self-signed certificate).
            with open_url(target, data=data, headers=headers, method=method, timeout=self.timeout,
                          validate_certs=self.validate_certs) as answer:
                return Answer(answer.status, _decode(answer.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _decode(error.read()))
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise HubAPIError(f"{method} {target} failed: {reason}") from None

    def user_path(self, user: str, rest: str = "") -> str:
        return f"/users/{quote(user, safe='')}{rest}"


def _decode(body: bytes) -> Any:  # noqa: ANN401 - any JSON document
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {"message": body[:200].decode("utf-8", errors="replace")}
