"""Helpers of the booted-hub tests: a JupyterHub client (REST API with a token, pages with a login
session) and what a spawn of each profile choice must give, derived from the inventory.

The hub is the genuine one (``scripts/hub_boot``), reached through its proxy.
"""

from __future__ import annotations

import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import build_model  # noqa: E402
from hub_boot import control  # noqa: E402 - scripts/ is not a package
from hub_support import LOCAL_INVENTORY, InventoryHub, inventory_hub  # noqa: E402

__all__ = ["control"]


def hub_vars(hub: str) -> InventoryHub:
    """A demo hub's variables, as the hub_model action plugin sees them."""
    return inventory_hub(hub, LOCAL_INVENTORY)


def namespace_of(hub: str) -> str:
    variables = hub_vars(hub)
    return build_model(variables.variables, base_dir=variables.inventory_dir).hub.namespace

# An image each demo hub's validation regex accepts, and one each rejects (no tag).
GOOD_UNLISTED_IMAGE = "quay.io/jupyter/base-notebook:2024-03-18"
BAD_UNLISTED_IMAGE = "quay.io/jupyter/base-notebook"
# KubeSpawner's byte units (ByteSpecification): binary multiples.
UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:  # noqa: ANN401 - urllib's signature
        return None


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:  # noqa: ANN401 - any JSON document
        return json.loads(self.body)


@dataclass
class HubClient:
    """The booted hub's proxy: its REST API and its pages, no redirect followed."""

    url: str
    cookies: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def request(self, method: str, path: str, *, token: str | None = None, body: Any = None,  # noqa: ANN401 - JSON
                form: dict[str, str] | None = None) -> Answer:
        headers = {"Authorization": f"token {token}"} if token else {}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(self.cookies))
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with opener.open(request, timeout=30) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def token(self, user: str) -> str:
        """An API token of ``user``, asked for with the user's credentials (the dummy authenticator)."""
        answer = self.request("POST", f"/hub/api/users/{user}/tokens",
                              body={"auth": {"username": user, "password": "test-bed"}, "note": "hub boot tests"})
        assert answer.status == 201, (answer.status, answer.body[:500])
        return answer.json()["token"]

    def login(self, user: str) -> HubClient:
        """A browser-like session of ``user``: the login form with its XSRF token."""
        session = HubClient(self.url)
        page = session.request("GET", "/hub/login")
        assert page.status == 200, page.status
        xsrf = next(c.value for c in session.cookies if c.name == "_xsrf")
        answer = session.request("POST", "/hub/login", form={"username": user, "password": "test-bed", "_xsrf": xsrf})
        assert answer.status == 302, (answer.status, answer.body[:500])
        return session


def wait_for_spawn(client: HubClient, token: str, user: str, timeout: float = 60) -> dict[str, Any] | None:
    """The user's default server once it is ready, or None once the spawn has failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = client.request("GET", f"/hub/api/users/{user}", token=token).json()["servers"]
        server = servers.get("")
        if server is None:
            return None
        if server["ready"]:
            return server
        time.sleep(0.3)
    raise AssertionError(f"the server of {user} was neither ready nor failed within {timeout} s")


def wait_stopped(client: HubClient, token: str, user: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.request("GET", f"/hub/api/users/{user}", token=token).json()["servers"]:
        assert time.monotonic() < deadline, f"the server of {user} did not stop within {timeout} s"
        time.sleep(0.3)


def to_bytes(value: str | int | None) -> int | None:
    """KubeSpawner's reading of a memory size (``2G`` is 2 GiB)."""
    if value is None:
        return None
    text = str(value)
    return int(float(text[:-1]) * UNITS[text[-1]]) if text[-1] in UNITS else int(float(text))


def quantity_bytes(value: str | None) -> int | None:
    """A Kubernetes memory quantity as the API returns it for what KubeSpawner sent (plain bytes)."""
    return None if value is None else to_bytes(value)


def quantity_cpu(value: str | None) -> float | None:
    if value is None:
        return None
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


@dataclass(frozen=True)
class SpawnCase:
    """One way to start a server: the user options sent and what the pod must then be."""

    name: str
    user_options: dict[str, str]
    overrides: dict[str, Any]  # the kubespawner_override keys the profile and its choices set
    fails: bool = False  # the spawn must fail and create no pod


def _choice_overrides(choice: dict[str, Any]) -> dict[str, Any]:
    """A choice's overrides, with the toolkit's ``image`` shorthand."""
    overrides = dict(choice.get("kubespawner_override", {}))
    if "image" in choice:
        overrides["image"] = choice["image"]
    return overrides


def _default_choice(option: dict[str, Any]) -> str:
    return next((key for key, choice in option["choices"].items() if choice.get("default")), next(iter(option["choices"])))


def spawn_cases(profiles: list[dict[str, Any]]) -> list[SpawnCase]:
    """For each profile: every choice of every option (the others at their default), a valid and an
    invalid custom image where an unlisted choice is enabled; a profile without options as it is."""
    cases = []
    for profile in profiles:
        slug, options = profile["slug"], profile.get("options", {})
        base = dict(profile.get("kubespawner_override", {}))
        defaults = {name: _default_choice(option) for name, option in options.items()}
        if not options:
            cases.append(SpawnCase(slug, {"profile": slug}, base))
        for name, option in options.items():
            for key in option["choices"]:
                picked = {**defaults, name: key}
                overrides = dict(base)
                for option_name, choice in picked.items():
                    overrides.update(_choice_overrides(options[option_name]["choices"][choice]))
                cases.append(SpawnCase(f"{slug}-{name}-{key}", {"profile": slug, **picked}, overrides))
            if option.get("unlisted_choice", {}).get("enabled"):
                others = {k: v for k, v in defaults.items() if k != name}
                overrides = dict(base)
                for option_name, choice in others.items():
                    overrides.update(_choice_overrides(options[option_name]["choices"][choice]))
                unlisted = f"{name}--unlisted-choice"
                cases.append(SpawnCase(f"{slug}-{name}-custom", {"profile": slug, **others, unlisted: GOOD_UNLISTED_IMAGE},
                                       {**overrides, "image": GOOD_UNLISTED_IMAGE}))
                cases.append(SpawnCase(f"{slug}-{name}-invalid-custom", {"profile": slug, **others, unlisted: BAD_UNLISTED_IMAGE},
                                       overrides, fails=True))
    return cases


def expected_resources(overrides: dict[str, Any], singleuser: dict[str, Any]) -> dict[str, Any]:
    """Limits and requests of the user container: the chart's singleuser values, then the overrides.
    Kubernetes sets a missing request to the limit."""
    cpu_limit = overrides.get("cpu_limit", singleuser["cpu"].get("limit"))
    cpu_request = overrides.get("cpu_guarantee", singleuser["cpu"].get("guarantee"))
    mem_limit = to_bytes(overrides.get("mem_limit", singleuser["memory"].get("limit")))
    mem_guarantee = to_bytes(overrides.get("mem_guarantee", singleuser["memory"].get("guarantee")))
    return {
        "limits": {"cpu": None if cpu_limit is None else float(cpu_limit), "memory": mem_limit},
        "requests": {"cpu": _or_limit(cpu_request, cpu_limit), "memory": _or_limit(mem_guarantee, mem_limit)},
    }


def _or_limit(request: float | str | None, limit: float | str | None) -> float | None:
    """Kubernetes sets a missing request to the limit."""
    value = request if request is not None else limit
    return None if value is None else float(value)


def pod_resources(container: dict[str, Any]) -> dict[str, Any]:
    resources = container.get("resources", {})
    return {kind: {"cpu": quantity_cpu(resources.get(kind, {}).get("cpu")),
                   "memory": quantity_bytes(resources.get(kind, {}).get("memory"))} for kind in ("limits", "requests")}
