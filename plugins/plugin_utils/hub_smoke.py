"""The smoke check of a deployed hub, step by step, through its REST API and the cluster.

With the ``hub-smoke`` service's token (scopes limited to the smoke-test user): create the user,
then for each case (a profile at its default choices) start the user's server, wait until the hub
says it is ready, look at its pod (``hub_smoke_pod``), stop the server and wait until it is gone;
at the end (also after a failure) delete the user, which removes its home claim (KubeSpawner's
``delete_pvc``). The first failed step stops the check; ``SmokeFailure`` names it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_api import Answer, HubAPI, HubAPIError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_cases import SmokeCase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_pod import pod_problems
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import SMOKE_SERVICE, SMOKE_USER
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path

# Labels KubeSpawner gives a user's pods.
POD_SELECTOR = "component=singleuser-server,hub.jupyter.org/username={user}"


class SmokeFailure(Exception):
    """A step that failed: ``step``, the profile it was for ('' for the hub as a whole) and why."""

    def __init__(self, step: str, profile: str, problem: str) -> None:
        super().__init__(problem)
        self.step, self.profile, self.problem = step, profile, problem


@dataclass
class SmokeRun:
    """The check's record: each case's outcome, and the steps passed (for the report)."""

    profiles: list[dict[str, Any]] = field(default_factory=list)
    cleanup_problems: list[str] = field(default_factory=list)


@dataclass
class SmokeCheck:
    api: HubAPI
    kube: Kube
    namespace: str
    timeout: float = 300
    interval: float = 1.0
    user: str = SMOKE_USER
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def run(self, cases: list[SmokeCase]) -> SmokeRun:
        record = SmokeRun()
        self._reach()
        self._create_user()
        try:
            for case in cases:
                record.profiles.append(self._check_case(case))
        finally:
            record.cleanup_problems = self._remove_user()
        return record

    def _call(self, step: str, profile: str, method: str, rest: str = "", body: object = None) -> Answer:
        try:
            return self.api.request(method, self.api.user_path(self.user, rest), body)
        except HubAPIError as error:
            raise SmokeFailure(step, profile, str(error)) from None

    def _reach(self) -> None:
        try:
            answer = self.api.request("GET", "/user")
        except HubAPIError as error:
            raise SmokeFailure("reach the hub API", "", str(error)) from None
        if answer.status in (401, 403):
            raise SmokeFailure("reach the hub API", "", f"the hub refuses the {SMOKE_SERVICE} service's token "
                               f"({answer.status} {answer.message}); expected the token of the secret values file "
                               "to be deployed (run the rollout)")
        if answer.status != 200 or not isinstance(answer.data, dict) or answer.data.get("name") != SMOKE_SERVICE:
            raise SmokeFailure("reach the hub API", "", f"expected the hub to know the token as service "
                               f"{SMOKE_SERVICE!r}, it answered {answer.status} {answer.message}")

    def _create_user(self) -> None:
        step = "create the smoke-test user"
        found = self._call(step, "", "GET")
        if found.status == 200:  # left by a check that was killed: start from a stopped server
            self._stop(step, "")
            return
        created = self._call(step, "", "POST")
        if created.status != 201:
            raise SmokeFailure(step, "", f"creating user {self.user} was answered {created.status} {created.message}")

    def _check_case(self, case: SmokeCase) -> dict[str, Any]:
        started = time.monotonic()
        step = "start the server"
        answer = self._call(step, case.profile, "POST", "/server", case.user_options)
        if answer.status not in (201, 202):
            raise SmokeFailure(step, case.profile, f"the hub answered {answer.status} {answer.message} to the start "
                               f"with options {case.user_options}")
        try:
            self._wait_ready(case)
            pod = self._pod(case)
            problems = pod_problems(pod, case, self._claim_phase)
            if problems:
                first = problems[0][0]
                raise SmokeFailure(first, case.profile, "; ".join(p for s, p in problems if s == first) + (
                    "" if len(problems) == 1 else f" (also: {'; '.join(f'{s}: {p}' for s, p in problems[1:])})"))
        finally:
            self._stop("stop the server", case.profile)
        return {"profile": case.profile, "user_options": case.user_options, "pod": pod["metadata"]["name"],
                "image": case.image, "status": "passed", "duration": round(time.monotonic() - started, 1)}

    def _server(self, step: str, profile: str) -> dict[str, Any] | None:
        answer = self._call(step, profile, "GET")
        if answer.status != 200 or not isinstance(answer.data, dict):
            raise SmokeFailure(step, profile, f"reading user {self.user} was answered {answer.status} {answer.message}")
        return (answer.data.get("servers") or {}).get("")

    def _wait_ready(self, case: SmokeCase) -> None:
        step = "wait until the server is ready"
        deadline = self.clock() + self.timeout
        while True:
            server = self._server(step, case.profile)
            if server is None:
                raise SmokeFailure(step, case.profile, "the spawn failed (the hub has no server for the user any more)"
                                   + self._pod_state())
            if server.get("ready"):
                return
            if self.clock() >= deadline:
                raise SmokeFailure(step, case.profile, f"the server was not ready within {self.timeout:.0f} s "
                                   f"(pending: {server.get('pending')})" + self._pod_state())
            self.sleep(self.interval)

    def _pods(self) -> list[dict[str, Any]]:
        return self.kube.items(path("v1", "pods", self.namespace), labelSelector=POD_SELECTOR.format(user=self.user))

    def _pod(self, case: SmokeCase) -> dict[str, Any]:
        pods = [p for p in self._pods() if not (p.get("metadata") or {}).get("deletionTimestamp")]
        if len(pods) != 1:
            raise SmokeFailure("find the pod", case.profile, f"expected one pod of user {self.user} in namespace "
                               f"{self.namespace}, found {len(pods)}")
        return pods[0]

    def _pod_state(self) -> str:
        states = []
        for pod in self._pods():
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            waiting = [f"{s.get('name')}: {(s.get('state') or {}).get('waiting', {}).get('reason')}" for s in statuses
                       if (s.get("state") or {}).get("waiting")]
            states.append(f"pod {pod['metadata']['name']} {(pod.get('status') or {}).get('phase')}"
                          + (f" ({', '.join(waiting)})" if waiting else ""))
        return "; " + "; ".join(states) if states else "; no pod of the user exists"

    def _claim_phase(self, claim: str) -> str | None:
        found = self.kube.get_or_none(path("v1", "persistentvolumeclaims", self.namespace, claim))
        return None if found is None else str((found.get("status") or {}).get("phase"))

    def _stop(self, step: str, profile: str) -> None:
        if self._server(step, profile) is None:
            return
        answer = self._call(step, profile, "DELETE", "/server")
        if answer.status not in (202, 204):
            raise SmokeFailure(step, profile, f"the hub answered {answer.status} {answer.message} to the stop")
        deadline = self.clock() + self.timeout
        while self._server(step, profile) is not None:
            if self.clock() >= deadline:
                raise SmokeFailure(step, profile, f"the server did not stop within {self.timeout:.0f} s")
            self.sleep(self.interval)

    def _remove_user(self) -> list[str]:
        """Delete the user (its server stopped first); problems as text, the check's outcome stands."""
        try:
            self._stop("delete the smoke-test user", "")
            answer = self.api.request("DELETE", self.api.user_path(self.user))
        except (SmokeFailure, HubAPIError) as error:
            return [f"delete the smoke-test user: {error}"]
        if answer.status not in (204, 404):
            return [f"delete the smoke-test user: the hub answered {answer.status} {answer.message}"]
        return []
