"""The boot's spec: everything ``inner`` needs, derived from the deployed hub (``deployed``).

The hub container's command, environment and mounts and the proxy container's are taken as
they are deployed; the test bed changes only where processes listen and what stands in for
fake pods: the proxy's empty ``--ip``/``--api-ip`` become the proxy's own address, and a drop-in
in ``jupyterhub_config.d`` (which the chart's config loads) points KubeSpawner at the stand-in.
"""

from __future__ import annotations

import base64
import re
import socket
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

from hub_boot import addresses
from hub_boot.deployed import DeployedHub, DeployedHubError

OVERLAY_ROOT = PurePosixPath("/usr/local/etc")
# The hub image's working directory, where z2jh mounts the hub-db-dir claim (sqlite-pvc).
HUB_WORKDIR = "/srv/jupyterhub"
DROP_IN = "jupyterhub/jupyterhub_config.d/zz-test-bed.py"
DROP_IN_TEXT = f'''# The test bed's hub boot only (scripts/hub_boot): user servers are fake kwok pods whose IPs
# lead nowhere, so the hub reaches them at the stand-in server's address instead.
c.KubeSpawner.pod_connect_ip = "{addresses.USER_SERVERS}"
'''
KUBE_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of command, args and env values."""
    return KUBE_VAR.sub(lambda m: env.get(m[1], m[0]), value)


def _labels_match(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _container_port(pod: Mapping[str, Any], target: int | str) -> int:
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in pod["spec"]["containers"]:
        for port in container.get("ports", []):
            if port.get("name") == target:
                return int(port["containerPort"])
    raise DeployedHubError(f"no container port named {target!r}")


def service_plan(hub: DeployedHub) -> tuple[dict[str, str], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each Service's address, the port forwards to the hub and the proxy, and the stand-ins."""
    where: dict[str, str] = {}
    forwards: list[dict[str, Any]] = []
    stand_ins: list[dict[str, Any]] = []
    others = 0
    for service in sorted(hub.services, key=lambda s: s["metadata"]["name"]):
        name, selector = service["metadata"]["name"], service["spec"].get("selector")
        backend = next(((pod, address) for pod, address in ((hub.hub_pod, addresses.HUB), (hub.proxy_pod, addresses.PROXY))
                        if _labels_match(selector, pod["metadata"].get("labels", {}))), None)
        if backend is None:
            where[name] = addresses.service_address(others)
            others += 1
            stand_ins += [{"name": name, "listen": tcp(where[name], p["port"])} for p in service["spec"]["ports"]]
            continue
        pod, where[name] = backend
        for port in service["spec"]["ports"]:
            target = _container_port(pod, port.get("targetPort", port["port"]))
            if target != port["port"]:
                forwards.append({"listen": tcp(where[name], port["port"]), "target": tcp(where[name], target)})
    return where, forwards, stand_ins


def tcp(host: str, port: int) -> dict[str, Any]:
    return {"kind": "tcp", "host": host, "port": int(port)}


def service_env(hub: DeployedHub, where: Mapping[str, str]) -> dict[str, str]:
    """The variables kubelet gives a pod for each Service of its namespace (enableServiceLinks)."""
    env: dict[str, str] = {}
    for service in hub.services:
        prefix = service["metadata"]["name"].upper().replace("-", "_")
        address, ports = where[service["metadata"]["name"]], service["spec"]["ports"]
        env[f"{prefix}_SERVICE_HOST"] = address
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        env[f"{prefix}_PORT"] = f"tcp://{address}:{ports[0]['port']}"
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
            base = f"{prefix}_PORT_{port['port']}_TCP"
            env.update({base: f"tcp://{address}:{port['port']}", f"{base}_PROTO": "tcp",
                        f"{base}_PORT": str(port["port"]), f"{base}_ADDR": address})
    return env


def container_env(hub: DeployedHub, container: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    for item in container.get("env", []):
        source = item.get("valueFrom")
        if source is None:
            value = expand(item.get("value", ""), env)
        elif "secretKeyRef" in source:
            value = hub.secret_value(source["secretKeyRef"]["name"], source["secretKeyRef"]["key"]).decode()
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            value = hub.namespace
        elif "configMapKeyRef" in source and source["configMapKeyRef"]["name"] == "hub":
            value = hub.config_map[source["configMapKeyRef"]["key"]]
        else:
            raise DeployedHubError(f"the test bed cannot set {item['name']} from {source}")
        env[item["name"]] = value
    return env


def hub_files(hub: DeployedHub) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The files the hub container mounts under /usr/local/etc (relative paths), and the host
    directory of the claim mounted on the working directory, if any."""
    volumes = {v["name"]: v for v in hub.hub_pod["spec"].get("volumes", [])}
    files: dict[str, dict[str, Any]] = {}
    workdir = None
    for mount in hub.container("hub", "hub").get("volumeMounts", []):
        volume, path = volumes[mount["name"]], PurePosixPath(mount["mountPath"])
        if "persistentVolumeClaim" in volume and str(path) == HUB_WORKDIR:
            workdir = hub.claims[volume["persistentVolumeClaim"]["claimName"]]
            continue
        if OVERLAY_ROOT not in path.parents:
            raise DeployedHubError(f"the test bed lays out mounts under {OVERLAY_ROOT} only, not {path} ({mount['name']})")
        if "configMap" in volume:
            data = {k: v.encode() for k, v in hub.config_map.items()}
            mode = volume["configMap"].get("defaultMode", 0o644)
        elif "secret" in volume:
            data, mode = hub.secrets[volume["secret"]["secretName"]], volume["secret"].get("defaultMode", 0o644)
        else:
            raise DeployedHubError(f"the test bed cannot lay out volume {mount['name']} ({sorted(volume)})")
        relative = path.relative_to(OVERLAY_ROOT)
        items = {mount["subPath"]: relative} if mount.get("subPath") else {key: relative / key for key in data}
        for key, target in items.items():
            files[str(target)] = {"content": base64.b64encode(data[key]).decode(), "mode": mode}
    files[DROP_IN] = {"content": base64.b64encode(DROP_IN_TEXT.encode()).decode(), "mode": 0o644}
    return files, workdir


def hosts_file(namespace: str, where: Mapping[str, str]) -> str:
    lines = [f"127.0.0.1\tlocalhost {socket.gethostname()}", "::1\tlocalhost ip6-localhost ip6-loopback"]
    for name, address in sorted(where.items()):
        lines.append(f"{address}\t{name} {name}.{namespace} {name}.{namespace}.svc {name}.{namespace}.svc.cluster.local")
    return "\n".join(lines) + "\n"


def kubeconfig(hub: DeployedHub) -> str:
    """A kubeconfig of the hub pod's ServiceAccount: the hub's KubeSpawner acts with the chart's RBAC."""
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "hub",
        "clusters": [{"name": "cluster", "cluster": {"server": hub.server, "certificate-authority-data": hub.ca_data}}],
        "users": [{"name": "hub", "user": {"token": hub.token}}],
        "contexts": [{"name": "hub", "context": {"cluster": "cluster", "user": "hub", "namespace": hub.namespace}}],
    })


def proxy_argv(container: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    argv = [expand(a, env) for a in container.get("command", []) + container.get("args", [])]
    return [f"{a}{addresses.PROXY}" if a in ("--ip=", "--api-ip=") else a for a in argv]


def public_port(argv: list[str]) -> int:
    ports = [int(a.split("=", 1)[1]) for a in argv if a.startswith("--port=")]
    return ports[-1] if ports else 8000


def build(hub: DeployedHub, state_dir: Path, runtime: Path) -> dict[str, Any]:
    where, forwards, stand_ins = service_plan(hub)
    stand_ins.append({"name": "user-servers", "listen": tcp(addresses.USER_SERVERS, addresses.USER_SERVER_PORT)})
    base = {"PATH": f"{runtime / 'venv/bin'}:{runtime / 'node_modules/.bin'}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8", **service_env(hub, where)}
    hub_container, proxy_container = hub.container("hub", "hub"), hub.container("proxy", "chp")
    hub_env = container_env(hub, hub_container, base)
    proxy_env = container_env(hub, proxy_container, base)
    files, workdir = hub_files(hub)
    argv = proxy_argv(proxy_container, proxy_env)
    api = urlsplit(hub.server)
    values = yaml.safe_load(hub.secret_value("hub", "values.yaml"))
    return {
        "state_dir": str(state_dir),
        "namespace": hub.namespace,
        "files": files,
        "hosts": hosts_file(hub.namespace, where),
        "kubeconfig": kubeconfig(hub),
        "jupyterhub_version": str(values.get("Chart", {}).get("AppVersion", "")),
        "kube_api": {"host": tcp(api.hostname or "127.0.0.1", api.port or 443),
                     "inside": tcp(api.hostname or "127.0.0.1", api.port or 443),
                     "socket": {"kind": "unix", "path": str(state_dir / "kube-api.sock")}},
        "public": {"inside": tcp(addresses.PROXY, public_port(argv)),
                   "socket": {"kind": "unix", "path": str(state_dir / "public.sock")}},
        "forwards": forwards,
        "stand_ins": stand_ins,
        "hub": {"argv": [expand(a, hub_env) for a in hub_container.get("command", []) + hub_container.get("args", [])],
                "env": hub_env, "cwd": workdir},
        "proxy": {"argv": argv, "env": proxy_env},
        "services": where,
    }
