"""What the cluster holds of a deployed binderhub-service release, read with the admin kubeconfig."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from hub_boot.deployed import TOKEN_SECONDS, api_client
from kubernetes import client

# The chart's pod label (binderhub-service: appLabels plus the component; the Deployment has no component label).
COMPONENT_LABEL = ("app.kubernetes.io/component", "binderhub")
CONTAINER = "binderhub"


class DeployedBinderError(Exception):
    """The namespace holds no binderhub-service release the test bed can start."""


@dataclass(frozen=True)
class DeployedBinder:
    namespace: str
    pod: dict[str, Any]  # the Deployment's pod template (API field names)
    service: dict[str, Any]  # the Service that selects the pod
    secrets: dict[str, dict[str, bytes]]  # Secret name -> decoded data, for the pod's secret volumes
    token: str  # a token of the pod's ServiceAccount
    server: str
    ca_data: str

    @property
    def container(self) -> dict[str, Any]:
        return next(c for c in self.pod["spec"]["containers"] if c["name"] == CONTAINER)


def read(namespace: str, kubeconfig: str | None = None) -> DeployedBinder:
    api = api_client(kubeconfig)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    key, value = COMPONENT_LABEL
    deployments = [d for d in apps.list_namespaced_deployment(namespace).items
                   if (d.spec.template.metadata.labels or {}).get(key) == value]
    if len(deployments) != 1:
        raise DeployedBinderError(f"namespace {namespace!r} has {len(deployments)} Deployments of pods labelled "
                                  f"{key}={value}, expected 1 (the binderhub-service release's)")
    pod = api.sanitize_for_serialization(deployments[0].spec.template)
    labels = pod["metadata"].get("labels", {})
    services = [api.sanitize_for_serialization(s) for s in core.list_namespaced_service(namespace).items]
    service = next((s for s in services if s["spec"].get("selector")
                    and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())), None)
    if service is None:
        raise DeployedBinderError(f"no Service of {namespace!r} selects the binderhub pod")
    names = {v["secret"]["secretName"] for v in pod["spec"].get("volumes", []) if "secret" in v}
    secrets = {name: {k: base64.b64decode(v) for k, v in (core.read_namespaced_secret(name, namespace).data or {}).items()}
               for name in sorted(names)}
    account = pod["spec"].get("serviceAccountName") or "default"
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=TOKEN_SECONDS))
    token = core.create_namespaced_service_account_token(account, namespace, request).status.token
    with open(api.configuration.ssl_ca_cert, "rb") as ca:
        ca_data = base64.b64encode(ca.read()).decode()
    return DeployedBinder(namespace, pod, service, secrets, token, api.configuration.host, ca_data)
