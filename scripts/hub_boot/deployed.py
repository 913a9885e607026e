"""What the cluster holds of a deployed hub: read through the Kubernetes API with the admin
kubeconfig, never rendered again from the inventory."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

# The hub ServiceAccount's token lives this long (a boot stopped earlier leaves it unused).
TOKEN_SECONDS = 12 * 3600


class DeployedHubError(Exception):
    """The namespace holds no hub the test bed can boot."""


@dataclass(frozen=True)
class DeployedHub:
    namespace: str
    config_map: dict[str, str]  # the hub ConfigMap's data
    secrets: dict[str, dict[str, bytes]]  # Secret name -> decoded data, for every Secret the hub pod uses
    hub_pod: dict[str, Any]  # the hub Deployment's pod template (API field names)
    proxy_pod: dict[str, Any]  # the proxy Deployment's pod template
    services: list[dict[str, Any]]
    claims: dict[str, str]  # claim name -> host directory of its bound hostPath volume
    token: str  # a token of the hub pod's ServiceAccount
    server: str  # the kube-apiserver's URL
    ca_data: str  # base64 of the cluster CA

    def container(self, pod: str, name: str) -> dict[str, Any]:
        spec = (self.hub_pod if pod == "hub" else self.proxy_pod)["spec"]
        return next(c for c in spec["containers"] if c["name"] == name)

    def secret_value(self, name: str, key: str) -> bytes:
        return self.secrets[name][key]


def api_client(kubeconfig: str | None = None) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


def _plain(api: client.ApiClient, obj: object) -> dict[str, Any]:
    return api.sanitize_for_serialization(obj)


def read(namespace: str, kubeconfig: str | None = None) -> DeployedHub:
    api = api_client(kubeconfig)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    try:
        hub_deployment = _plain(api, apps.read_namespaced_deployment("hub", namespace))
        proxy_deployment = _plain(api, apps.read_namespaced_deployment("proxy", namespace))
    except client.ApiException as err:
        raise DeployedHubError(
            f"namespace {namespace!r} has no z2jh hub and proxy Deployments ({err.status} {err.reason})") from err
    hub_pod = hub_deployment["spec"]["template"]
    volumes = hub_pod["spec"].get("volumes", [])
    config_map_names = {v["configMap"]["name"] for v in volumes if "configMap" in v}
    if config_map_names != {"hub"}:
        raise DeployedHubError(f"the hub pod of {namespace!r} mounts ConfigMaps {sorted(config_map_names)}, expected ['hub']")
    secret_names = {v["secret"]["secretName"] for v in volumes if "secret" in v}
    for container in hub_pod["spec"]["containers"] + proxy_deployment["spec"]["template"]["spec"]["containers"]:
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                secret_names.add(ref["name"])
    secrets = {name: {k: base64.b64decode(v) for k, v in (core.read_namespaced_secret(name, namespace).data or {}).items()}
               for name in sorted(secret_names)}
    claims = {}
    for volume in volumes:
        claim = volume.get("persistentVolumeClaim")
        if claim:
            claims[claim["claimName"]] = _claim_directory(core, namespace, claim["claimName"])
    account = hub_pod["spec"].get("serviceAccountName") or "default"
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=TOKEN_SECONDS))
    token = core.create_namespaced_service_account_token(account, namespace, request).status.token
    return DeployedHub(
        namespace=namespace,
        config_map=core.read_namespaced_config_map("hub", namespace).data or {},
        secrets=secrets,
        hub_pod=hub_pod,
        proxy_pod=proxy_deployment["spec"]["template"],
        services=[_plain(api, s) for s in core.list_namespaced_service(namespace).items],
        claims=claims,
        token=token,
        server=api.configuration.host,
        ca_data=base64.b64encode(Path(api.configuration.ssl_ca_cert).read_bytes()).decode(),
    )


def _claim_directory(core: client.CoreV1Api, namespace: str, name: str) -> str:
    claim = core.read_namespaced_persistent_volume_claim(name, namespace)
    if claim.status.phase != "Bound":
        raise DeployedHubError(f"claim {namespace}/{name} of the hub pod is {claim.status.phase}, not Bound")
    volume = core.read_persistent_volume(claim.spec.volume_name)
    if not volume.spec.host_path:
        raise DeployedHubError(f"claim {namespace}/{name} is bound to {volume.metadata.name}, which is no hostPath volume")
    return volume.spec.host_path.path
