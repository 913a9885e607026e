"""The rollout lock of a hub: a coordination.k8s.io Lease in the hub's namespace.

A rollout takes the lock before it changes anything of the hub and gives it back at the end,
so two rollouts of one hub never run helm on it at once: the second fails, naming the holder.
The holder is ``<controller host>:<ansible-playbook pid>``, prefixed with the job that runs it
where one is set (``awx-job-<JOB_ID>@``, ``github-run-<GITHUB_RUN_ID>.<attempt>@``,
``gitlab-job-<CI_JOB_ID>@``): every AWX job or CI job is a fresh container, so the job names
the run where a host name and pid alone would not. A lock is stale - and taken over - when its
lease has expired, or when its holder ran on this host and that process is gone (a killed run
of this controller). Another controller, an AWX job in another container included, takes over
only an expired lease: it cannot see whether the holding job still runs. A rollout that took
over a stale lock may clear releases that run left pending.
"""

from __future__ import annotations

import datetime
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEASE_NAME = "imagebuilding-hubs-rollout"


# environment variable -> the job label it gives a holder (AWX / Automation Platform, GitHub Actions, GitLab CI)
JOB_VARIABLES = (("JOB_ID", "awx-job"), ("GITHUB_RUN_ID", "github-run"), ("CI_JOB_ID", "gitlab-job"))


def job_label(env: Mapping[str, str] | None = None) -> str:
    """The job running this controller, e.g. ``awx-job-1234`` ('' outside AWX and CI)."""
    env = os.environ if env is None else env
    for variable, label in JOB_VARIABLES:
        if env.get(variable):
            attempt = f".{env['GITHUB_RUN_ATTEMPT']}" if variable == "GITHUB_RUN_ID" and env.get("GITHUB_RUN_ATTEMPT") else ""
            return f"{label}-{env[variable]}{attempt}"
    return ""


def holder_identity(pid: int | None = None, env: Mapping[str, str] | None = None) -> str:
    """This run: its job (when one is set), the controller's host name and the ansible-playbook
    process (a worker's parent)."""
    job = job_label(env)
    return f"{job + '@' if job else ''}{socket.gethostname()}:{pid if pid is not None else os.getppid()}"


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def micro_time(moment: datetime.datetime) -> str:
    """A Lease's MicroTime."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: object) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Holder:
    identity: str
    renewed: datetime.datetime | None
    duration: int

    @classmethod
    def from_lease(cls, lease: dict[str, Any]) -> Holder:
        spec = lease.get("spec") or {}
        renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
        return cls(str(spec.get("holderIdentity") or ""), renewed, int(spec.get("leaseDurationSeconds") or 0))

    def stale_reason(self, at: datetime.datetime, host: str | None = None) -> str:
        """Why the lock can be taken over, or '' while its holder may still be deploying."""
        if not self.identity:
            return "it has no holder"
        if self.renewed is None or (at - self.renewed).total_seconds() > self.duration:
            return "its lease expired"
        owner_host, _, pid = self.identity.rpartition("@")[2].rpartition(":")
        if owner_host == (host or socket.gethostname()) and pid.isdigit() and not process_alive(int(pid)):
            return f"its holder (process {pid} on this host) is gone"
        return ""


def lease_body(identity: str, duration: int, at: datetime.datetime, resource_version: str = "") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": LEASE_NAME, "labels": {"app.kubernetes.io/managed-by": "imagebuilding-hubs"}}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
            "spec": {"holderIdentity": identity, "leaseDurationSeconds": duration, "acquireTime": micro_time(at),
                     "renewTime": micro_time(at)}}
