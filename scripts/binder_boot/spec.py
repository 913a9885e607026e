"""The binder boot's spec: what ``supervisor`` and ``inner`` need, derived from the deployed release
(``deployed``) and the booted hub it joins (``hub_boot.control.Boot``).

The BinderHub container's command (the image's, when the Deployment gives none), environment and
mounted Secret are taken as deployed; the test bed adds only where BinderHub listens inside the
hub's network namespace and a bridge to the registry when it is on this machine's loopback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml
from hub_boot import spec as hub_spec
from hub_boot.control import Boot
from hub_boot.stand_in import takeover_file

from binder_boot.deployed import DeployedBinder, DeployedBinderError

# The binderhub-service image's command (its Dockerfile's CMD): the chart's Deployment gives none.
IMAGE_COMMAND = ["python3", "-m", "binderhub", "--config", "/etc/binderhub/mounted-secret/binderhub_config.py"]
# Where the layout goes: an overlay on /etc (the mounted Secret, the hosts file).
OVERLAY_ROOT = PurePosixPath("/etc")
# BinderHub's own address inside the hub's network namespace (it listens on every address).
LISTEN_ADDRESS = "127.0.4.1"
LOOPBACK = ("127.0.0.1", "localhost")


def secret_files(binder: DeployedBinder) -> dict[str, dict[str, Any]]:
    """The files of the container's Secret mounts, relative to /etc."""
    volumes = {v["name"]: v for v in binder.pod["spec"].get("volumes", [])}
    files: dict[str, dict[str, Any]] = {}
    for mount in binder.container.get("volumeMounts", []):
        volume, path = volumes[mount["name"]], PurePosixPath(mount["mountPath"])
        if "secret" not in volume or OVERLAY_ROOT not in path.parents:
            raise DeployedBinderError(f"the test bed lays out Secret mounts under {OVERLAY_ROOT} only, not "
                                      f"{mount['name']} on {path}")
        data, mode = binder.secrets[volume["secret"]["secretName"]], volume["secret"].get("defaultMode", 0o644)
        items = {mount["subPath"]: path} if mount.get("subPath") else {key: path / key for key in data}
        for key, target in items.items():
            files[str(target.relative_to(OVERLAY_ROOT))] = {"content": base64.b64encode(data[key]).decode(), "mode": mode}
    return files


def container_env(binder: DeployedBinder, base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    for item in binder.container.get("env", []):
        source = item.get("valueFrom")
        if source is None:
            env[item["name"]] = hub_spec.expand(item.get("value", ""), env)
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[item["name"]] = binder.namespace
        else:
            raise DeployedBinderError(f"the test bed cannot set {item['name']} from {source}")
    return env


def chart_config(binder: DeployedBinder) -> dict[str, Any]:
    for data in binder.secrets.values():
        if "chart-config.yaml" in data:
            return yaml.safe_load(data["chart-config.yaml"]) or {}
    raise DeployedBinderError(f"no Secret of the binderhub pod of {binder.namespace!r} holds chart-config.yaml")


def registry_bridge(config: Mapping[str, Any], state_dir: Path) -> dict[str, Any] | None:
    """A bridge to the registry when it listens on this machine's loopback (the test bed's)."""
    url = urlsplit(str(config.get("config", {}).get("DockerRegistry", {}).get("url", "")))
    if url.hostname not in LOOPBACK:
        return None
    port = url.port or 443
    return {"inside": hub_spec.tcp(url.hostname, port), "host": hub_spec.tcp(url.hostname, port),
            "socket": {"kind": "unix", "path": str(state_dir / "registry.sock")}}


def kubeconfig(binder: DeployedBinder) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "binderhub",
        "clusters": [{"name": "cluster", "cluster": {"server": binder.server, "certificate-authority-data": binder.ca_data}}],
        "users": [{"name": "binderhub", "user": {"token": binder.token}}],
        "contexts": [{"name": "binderhub", "context": {"cluster": "cluster", "user": "binderhub",
                                                       "namespace": binder.namespace}}],
    })


def container_port(binder: DeployedBinder) -> int:
    return next(int(p["containerPort"]) for p in binder.container.get("ports", []) if p.get("name") == "http")


def build(binder: DeployedBinder, hub: Boot, state_dir: Path, runtime: Path) -> dict[str, Any]:
    venv = runtime / "venv" / "bin"
    base = {"PATH": f"{venv}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    env = container_env(binder, base)
    argv = [hub_spec.expand(a, env) for a in binder.container.get("command", []) + binder.container.get("args", [])]
    argv = argv or list(IMAGE_COMMAND)
    if argv[0] in ("python", "python3"):
        argv[0] = str(venv / "python")
    service = binder.service["metadata"]["name"]
    return {
        "state_dir": str(state_dir),
        "namespace": binder.namespace,
        "hub_net": f"/proc/{hub_inner_pid(hub)}/ns/net",
        "files": secret_files(binder),
        "hosts": hub_spec.hosts_file(binder.namespace, hub.services),
        "kubeconfig": kubeconfig(binder),
        "registry": registry_bridge(chart_config(binder), state_dir),
        "takeover": {"file": str(takeover_file(hub.state_dir, service)),
                     "endpoint": hub_spec.tcp(LISTEN_ADDRESS, container_port(binder))},
        "service": service,
        "binderhub": {"argv": argv, "env": env},
    }


def hub_inner_pid(hub: Boot) -> int:
    pid = int(json.loads((hub.state_dir / "endpoint.json").read_text()).get("inner_pid") or 0)
    if not pid:
        raise DeployedBinderError(f"the hub boot of {hub.namespace!r} recorded no process of its network namespace")
    return pid
