"""The build node's repo2docker: what a build pod would do, done on this machine from the pod's spec.

The image is small but real (one layer holding the build's record, Docker schema2 as ``docker
push`` makes them), pushed with crane using only what the pod mounts and what its docker-api
daemon mounts: never a credential of the test bed's own.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kubernetes import client

DOCKER_CONFIG_PATHS = (PurePosixPath("/root/.docker"), PurePosixPath("/root/.docker/config.json"))
CERTS_DIR = PurePosixPath("/etc/docker/certs.d")
# A tmpfs where there is one: the pod's credentials never reach a disk.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - a tmpfs, private files in a 0700 dir
RECORD_PATH = "srv/imagebuilding-hubs/build.json"


class BuildFailed(Exception):
    """The build failed; the message is what repo2docker would log."""


@dataclass(frozen=True)
class BuildRequest:
    namespace: str
    pod: str
    image: str
    ref: str
    repo: str
    push: bool
    docker_config_secret: str | None  # the Secret mounted at /root/.docker
    docker_socket_dir: str | None  # the hostPath of the docker-api socket

    @property
    def registry_host(self) -> str:
        return self.image.split("/", 1)[0]


def request_of(pod: client.V1Pod) -> BuildRequest:
    """Read a build pod the way repo2docker reads its command line and the mounts it uses."""
    container = pod.spec.containers[0]
    args = list(container.args or [])
    options = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in args if a.startswith("--") and "=" in a}
    volumes = {v.name: v for v in pod.spec.volumes or []}
    secret = socket_dir = None
    for mount in container.volume_mounts or []:
        volume = volumes.get(mount.name)
        if volume is None:
            continue
        # BinderHub mounts the push Secret's config.json (subPath) at /root/.docker/config.json.
        if PurePosixPath(mount.mount_path) in DOCKER_CONFIG_PATHS and volume.secret:
            secret = volume.secret.secret_name
        if volume.host_path and mount.mount_path.endswith(".sock"):
            socket_dir = str(PurePosixPath(volume.host_path.path).parent)
    if "--image" not in options or not args:
        raise BuildFailed(f"pod {pod.metadata.name} has no --image argument: not a repo2docker build pod")
    return BuildRequest(pod.metadata.namespace, pod.metadata.name, options["--image"], options.get("--ref", ""),
                        args[-1], "--push" in args, secret, socket_dir)


def _registry_ca(core: client.CoreV1Api, apps: client.AppsV1Api, request: BuildRequest) -> bytes | None:
    """The CA the pod's docker-api daemon trusts for the registry: the file its DaemonSet mounts at
    /etc/docker/certs.d/<host>/ca.crt (from its Secret), if any."""
    wanted = str(CERTS_DIR / request.registry_host / "ca.crt")
    for daemon_set in apps.list_namespaced_daemon_set(request.namespace).items:
        spec = daemon_set.spec.template.spec
        volumes = {v.name: v for v in spec.volumes or []}
        if not any(v.host_path and v.host_path.path == request.docker_socket_dir for v in volumes.values()):
            continue
        for container in spec.containers:
            for mount in container.volume_mounts or []:
                volume = volumes.get(mount.name)
                if mount.mount_path == wanted and volume is not None and volume.secret:
                    data = core.read_namespaced_secret(volume.secret.secret_name, request.namespace).data or {}
                    key = mount.sub_path or PurePosixPath(wanted).name
                    return base64.b64decode(data[key]) if key in data else None
    return None


def _layer(request: BuildRequest) -> bytes:
    record = json.dumps({"repo": request.repo, "ref": request.ref, "image": request.image,
                         "built_by": "imagebuilding-hubs test bed build node (no container engine)"}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(RECORD_PATH)
        info.size, info.mode = len(record), 0o644
        tar.addfile(info, io.BytesIO(record))
    return buffer.getvalue()


async def _run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def build(request: BuildRequest, api: client.ApiClient, crane: str, log: Callable[[str, str], None]) -> str:
    """Check the ref, make the image and push it; returns the pushed digest."""
    log("fetching", f"Picked Git content provider.\nCloning into '/tmp/repo2docker'... {request.repo} at {request.ref}\n")
    code, output = await _run("git", "ls-remote", request.repo)
    if code != 0:
        raise BuildFailed(f"Failed to fetch {request.repo}: {output.strip()}")
    if request.ref not in output.split() and not any(line.startswith(request.ref) for line in output.splitlines()):
        raise BuildFailed(f"Failed to check out ref {request.ref}: not in {request.repo}")
    log("building", f"Building the image {request.image} (test bed: one layer, no container engine)\n")
    if not request.push:
        return ""
    if not request.docker_config_secret:
        raise BuildFailed("--push without registry credentials: the pod mounts no Secret at /root/.docker/config.json")
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    config = (core.read_namespaced_secret(request.docker_config_secret, request.namespace).data or {}).get("config.json")
    if config is None:
        raise BuildFailed(f"Secret {request.docker_config_secret} has no config.json")
    scratch = Path(tempfile.mkdtemp(prefix="build-node-", dir=SCRATCH))
    try:
        (scratch / "config.json").write_bytes(base64.b64decode(config))
        (scratch / "layer.tar").write_bytes(_layer(request))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DOCKER_CONFIG": str(scratch), "HOME": str(scratch)}
        ca = _registry_ca(core, apps, request)
        if ca is not None:
            (scratch / "ca.crt").write_bytes(ca)
            env["SSL_CERT_FILE"] = str(scratch / "ca.crt")
        log("pushing", f"Pushing image {request.image}\n")
        code, output = await _run(crane, "append", "--new_layer", str(scratch / "layer.tar"), "--new_tag", request.image,
                                  env=env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if code != 0:
        raise BuildFailed(f"Error during push of {request.image}: {output.strip()[-500:]}")
    return output.strip().splitlines()[-1] if output.strip() else ""
