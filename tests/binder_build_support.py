"""Helpers of the build-path tests: throwaway copies of the demo hubs, a git repository served on
loopback by ``git daemon``, BinderHub's event stream read through the hub, build pods watched."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, watch
from support import LOCAL_INVENTORY, local_hub_vars

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from binder_boot import control as binder_control  # noqa: E402 - scripts/ is not a package
from build_node import control as node_control  # noqa: E402

__all__ = ["binder_control", "node_control"]

REGISTRY = "127.0.0.1:5443"
REGISTRY_CA = ROOT / ".local" / "cluster" / "pki" / "ca.crt"
BUILD_PODS = "component=binderhub-build"
PUSH_SECRET = "build-pods-docker-config"
# Throwaway copy -> the demo hub it copies.
COPIES = {"bstaging": "staging", "bresearch": "research"}
PATH_KEYS = ("hub_domain", "hub_charts_dir", "cluster_kubeconfig", "registry_ca_file", "registry_htpasswd_file")


def copy_vars(copy: str) -> dict[str, Any]:
    """The demo hub's host variables under another name (and, for research, its own NFS path)."""
    demo = yaml.safe_load((LOCAL_INVENTORY / "host_vars" / f"{COPIES[copy]}.yml").read_text())
    paths = {k: v for k, v in local_hub_vars(copy).items() if k in PATH_KEYS}
    variables = {**{k: v for k, v in demo.items() if k != "hub_domain"}, **paths}
    if demo.get("jupyterhub_storage", {}).get("type") == "nfs":
        variables["jupyterhub_storage"] = {**demo["jupyterhub_storage"], "path": f"/exports/{copy}"}
    return variables


@dataclass
class GitRepo:
    url: str
    sha: str


@contextlib.contextmanager
def git_daemon(directory: Path) -> Iterator[GitRepo]:
    """A one-commit repository served read-only on loopback by ``git daemon``."""
    repo = directory / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "requirements.txt").write_text("numpy\n")
    git = ["git", "-C", str(repo), "-c", "user.email=test@bed", "-c", "user.name=test bed"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a repository to build"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--base-path={directory}", "--export-all",
                               "--listen=127.0.0.1", f"--port={port}", str(directory)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"git://127.0.0.1:{port}/repo"
    try:
        deadline = time.monotonic() + 15
        while subprocess.run(["git", "ls-remote", url], capture_output=True, check=False).returncode != 0:
            assert time.monotonic() < deadline, "git daemon did not serve the repository"
            time.sleep(0.2)
        yield GitRepo(url, sha)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


def build_events(hub_url: str, token: str, repo: GitRepo, timeout: float = 120) -> tuple[int, list[dict[str, Any]]]:
    """Ask BinderHub, through the hub, to build ``repo`` at its SHA (``build_only``); the HTTP status
    and the events up to the first ``ready`` or ``failed``."""
    spec = urllib.parse.quote(repo.url, safe="")
    request = urllib.request.Request(f"{hub_url}/services/binder/build/git/{spec}/{repo.sha}?build_only=true",
                                     headers={"Accept": "text/event-stream", "Authorization": f"token {token}"})
    events: list[dict[str, Any]] = []
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            for raw in answer:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                event = json.loads(line.removeprefix("data:"))
                events.append(event)
                if event.get("phase") in ("ready", "failed"):
                    break
            return answer.status, events
    except urllib.error.HTTPError as error:
        return error.code, events


@dataclass
class PodWatch:
    """Build pods seen in a namespace while it runs (their specs as first seen)."""

    core: client.CoreV1Api
    namespace: str
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.is_set():
            stream = watch.Watch()
            with contextlib.suppress(Exception):
                for event in stream.stream(self.core.list_namespaced_pod, self.namespace, label_selector=BUILD_PODS,
                                           timeout_seconds=2):
                    pod = event["object"]
                    self.pods.setdefault(pod.metadata.name, self.core.api_client.sanitize_for_serialization(pod))
                    if self._stop.is_set():
                        break

    @contextlib.contextmanager
    def running(self) -> Iterator[PodWatch]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        time.sleep(0.5)
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=10)


def push_credentials(core: client.CoreV1Api, namespace: str, secret: str = PUSH_SECRET) -> tuple[str, str]:
    """The user and password of the build pods' push Secret for the test registry."""
    config = json.loads(base64.b64decode(core.read_namespaced_secret(secret, namespace).data["config.json"]))
    auth = config["auths"].get(REGISTRY) or config["auths"][f"https://{REGISTRY}"]
    user, _, password = base64.b64decode(auth["auth"]).decode().partition(":")
    return user, password


def manifest_status(image: str, user: str, password: str) -> tuple[int, str]:
    """HEAD of the image's manifest in the test registry (its own CA), with Docker and OCI accept headers."""
    repository, _, tag = image.removeprefix(f"{REGISTRY}/").rpartition(":")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    accept = ", ".join(["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"])
    request = urllib.request.Request(f"https://{REGISTRY}/v2/{repository}/manifests/{tag}", method="HEAD",
                                     headers={"Authorization": f"Basic {token}", "Accept": accept})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(REGISTRY_CA)),
                                    timeout=20) as answer:
            return answer.status, answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, ""
