"""Helpers of the build-path tests: throwaway copies of the demo hubs, a git repository served on
loopback by ``git daemon``, BinderHub's event stream read through the hub, build pods watched, the
registry made to refuse a hub's password for a while, the spawn form fancy-profiles posts for a
built image."""

from __future__ import annotations

import base64
import contextlib
import json
import os
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

import bcrypt
import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils.htpasswd_user import (
    exclusive_lock,
    find_user,
    read_lines,
    write_atomically,
)
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
PULL_SECRET = "image-pull-secret"
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


@dataclass(frozen=True)
class Credentials:
    """A registry user and password; the password is never in its repr (pytest shows call arguments
    when an assertion fails)."""

    user: str
    password: str = field(repr=False)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()


def _registry_auth(config_json: str) -> Credentials:
    auths = json.loads(base64.b64decode(config_json))["auths"]
    auth = auths.get(REGISTRY) or auths[f"https://{REGISTRY}"]
    user, _, password = base64.b64decode(auth["auth"]).decode().partition(":")
    return Credentials(user, password)


def push_credentials(core: client.CoreV1Api, namespace: str, secret: str = PUSH_SECRET) -> Credentials:
    """The build pods' push Secret's credentials for the test registry."""
    return _registry_auth(core.read_namespaced_secret(secret, namespace).data["config.json"])


def pull_credentials(core: client.CoreV1Api, namespace: str) -> Credentials:
    """The hub's image pull secret's (z2jh's ``image-pull-secret``) credentials for the test registry."""
    return _registry_auth(core.read_namespaced_secret(PULL_SECRET, namespace).data[".dockerconfigjson"])


def registry_status(credentials: Credentials) -> int:
    """The test registry's answer to ``GET /v2/`` with these credentials (200, or 401 when it refuses them)."""
    request = urllib.request.Request(f"https://{REGISTRY}/v2/", headers={"Authorization": credentials.basic()})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(REGISTRY_CA)),
                                    timeout=20) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _set_htpasswd_line(htpasswd: Path, user: str, line: str) -> str:
    """Replace ``user``'s line under the registry role's lock (module ``htpasswd_user``: hubs
    deployed meanwhile keep their lines); the line it replaced."""
    with exclusive_lock(htpasswd, timeout=60.0):
        lines = read_lines(str(htpasswd)) or []
        index = find_user(lines, user)
        assert index >= 0, f"{user} has no line in {htpasswd}"
        before, lines[index] = lines[index], line
        write_atomically(str(htpasswd), lines, None)
    return before


@contextlib.contextmanager
def wrong_registry_password(htpasswd: Path, user: str) -> Iterator[None]:
    """While it runs, the registry refuses ``user``'s password: the user's htpasswd line holds the
    hash of another (random, never known) password, and the registry re-reads its htpasswd file
    when the file's modification time changes. The line as it was afterwards, even on failure (a
    run killed in between leaves it wrong until the hub is deployed again: the registry role
    writes the hub's password back)."""
    other = bcrypt.hashpw(base64.b64encode(os.urandom(18)), bcrypt.gensalt(rounds=5)).decode()
    original = _set_htpasswd_line(htpasswd, user, f"{user}:{other}")
    try:
        yield
    finally:
        _set_htpasswd_line(htpasswd, user, original)


def building_profile(profiles: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """The first profile with an option fancy-profiles shows the build UI for (key ``image``,
    dynamic image building and the unlisted choice enabled), and that option's name."""
    for profile in profiles:
        option = profile.get("options", {}).get("image", {})
        if option.get("dynamic_image_building", {}).get("enabled") and option.get("unlisted_choice", {}).get("enabled"):
            return profile, "image"
    raise AssertionError("no profile offers to build an image")


def build_choice_form(profiles: list[dict[str, Any]], image: str, repo: GitRepo) -> dict[str, str]:
    """The spawn form fields jupyterhub-fancy-profiles 0.6.0 posts when a user picks "Build your
    own image" and the build gave ``image``: the profile, its image option set to the build choice
    (``--extra-selectable-item``), the repository and ref fields, the hidden unlisted-choice field
    holding the built image, the profile's other options at their defaults, and the profile radio
    buttons' field when there are several profiles (not a profile option; KubeSpawner ignores it).
    The test bed builds with BinderHub's ``git`` provider, so the repository field holds the
    loopback git URL where a user types a GitHub repository."""
    profile, option = building_profile(profiles)
    slug = profile["slug"]
    chosen = f"profile-option-{slug}--{option}"
    form = {"profile": slug, chosen: "--extra-selectable-item", f"{chosen}--unlisted-choice--repo": repo.url,
            f"{chosen}--unlisted-choice--ref": repo.sha, f"{chosen}--unlisted-choice": image}
    for name, other in profile.get("options", {}).items():
        if name != option:
            choices = other["choices"]
            form[f"profile-option-{slug}--{name}"] = next((k for k, c in choices.items() if c.get("default")),
                                                          next(iter(choices)))
    if len(profiles) > 1:
        form["select-profile"] = slug
    return form


def manifest_status(image: str, credentials: Credentials) -> tuple[int, str]:
    """HEAD of the image's manifest in the test registry (its own CA), with Docker and OCI accept headers."""
    repository, _, tag = image.removeprefix(f"{REGISTRY}/").rpartition(":")
    accept = ", ".join(["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"])
    request = urllib.request.Request(f"https://{REGISTRY}/v2/{repository}/manifests/{tag}", method="HEAD",
                                     headers={"Authorization": credentials.basic(), "Accept": accept})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(REGISTRY_CA)),
                                    timeout=20) as answer:
            return answer.status, answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, ""
