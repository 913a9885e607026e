"""A small Kubernetes API client for the controller-side plugins: JSON in, JSON out.

How the cluster is reached - a kubeconfig, a host and token, or the pod's service account - is
resolved by ``kube_auth`` from the task's options and the ``K8S_AUTH_*`` variables; a kubeconfig
is read by the Kubernetes client's loader (client certificates, tokens, exec plugins), but
requests go straight to its connection pool with plain JSON. The typed API
classes of the client (``CoreV1Api`` and its models) are not used: importing them costs
about 1.5 CPU-seconds, and Ansible forks a new process for every task of every hub.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import (
    KUBECONFIG,
    KubeAccess,
    KubeConfigError,
    bearer_token,
    check_kubeconfig,
    kube_access,
)

try:  # the kubernetes Python client (and its urllib3), as kubernetes.core requires them on the controller
    from kubernetes import config
    from kubernetes.client import ApiClient, Configuration
    from kubernetes.config.config_exception import ConfigException
    from urllib3 import Timeout
    from urllib3.exceptions import HTTPError

    KUBERNETES_MISSING = ""
except ImportError as missing:
    config = ApiClient = Configuration = None  # type: ignore[assignment,misc]
    KUBERNETES_MISSING = f"the kubernetes Python client is not installed on the controller ({missing})"

    class ConfigException(Exception):  # type: ignore[no-redef]
        """Stands in for the client's exception type so the except clauses stay valid."""

    class HTTPError(Exception):  # type: ignore[no-redef]
        """Stands in for urllib3's exception type so the except clauses stay valid."""

    def Timeout(**_: float) -> None:  # type: ignore[no-redef]
        """Stands in for urllib3's Timeout (never used without the client)."""

__all__ = ["HTTPError", "Kube", "KubeConfigError", "KubeError", "check_kubeconfig", "path"]

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
# Lists of metadata only: labels and annotations without the objects' data (helm's release blobs).
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
TIMEOUT = Timeout(connect=10, read=60)


class KubeError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, reason: str, body: str = "") -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.body = status, reason, body


def path(group_version: str, kind: str, namespace: str = "", name: str = "") -> str:
    """A resource path: ``path('v1', 'secrets', 'ns', 'x')``, ``path('apps/v1', 'deployments', 'ns')``."""
    root = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    parts = [root]
    if namespace:
        parts += ["namespaces", quote(namespace, safe="")]
    parts.append(kind)
    if name:
        parts.append(quote(name, safe=""))
    return "/".join(parts)


def configuration(access: KubeAccess) -> Configuration:
    """The API client's configuration for ``access`` (plugin_utils/kube_auth.py)."""
    if KUBERNETES_MISSING:
        raise KubeConfigError(KUBERNETES_MISSING + "; install it: pip install kubernetes")
    settings = Configuration()
    if access.mode == KUBECONFIG:
        try:
            config.load_kube_config(config_file=access.kubeconfig, context=access.context or None,
                                    client_configuration=settings, persist_config=False)
        except ConfigException as error:
            raise KubeConfigError(f"cluster_kubeconfig: {access.kubeconfig} cannot be used: {error}") from None
    if access.host:
        settings.host = access.host
    if access.ca_cert:
        settings.ssl_ca_cert = access.ca_cert
    if access.validate_certs is not None:
        settings.verify_ssl = access.validate_certs
    if access.api_key:
        settings.api_key = {"BearerToken": f"Bearer {access.api_key}"}
    elif access.token_file:  # in-cluster: the service account's token, read again before each request
        settings.api_key = {"BearerToken": f"Bearer {bearer_token(access)}"}
        settings.refresh_api_key_hook = _reread_token(access)
    return settings


def _reread_token(access: KubeAccess) -> Any:  # noqa: ANN401 - the client's hook type
    def refresh(settings: Configuration) -> None:
        settings.api_key = {"BearerToken": f"Bearer {bearer_token(access)}"}
    return refresh


class Kube:
    """Requests to one cluster, reached as ``access`` says (kubeconfig, host and token, or in-cluster)."""

    def __init__(self, access: KubeAccess) -> None:
        self.access = access
        self._client = ApiClient(configuration=configuration(access))

    @classmethod
    def from_args(cls, args: Mapping[str, object]) -> Kube:
        """From a task's access options and their K8S_AUTH_* fallbacks; raises KubeConfigError."""
        return cls(kube_access(args))

    def request(self, method: str, resource: str, *, query: dict[str, str] | None = None, body: object = None,
                content_type: str = JSON, accept: str = JSON) -> dict[str, Any]:
        """The decoded answer; raises KubeError for an error status, urllib3 errors when unreachable."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        method, url, headers, _, _ = self._client.param_serialize(
            method, resource, query_params=list((query or {}).items()), header_params=headers,
            auth_settings=["BearerToken"])
        data = json.dumps(body).encode() if body is not None else None
        response = self._client.rest_client.pool_manager.request(
            method, url, body=data, headers=headers, timeout=TIMEOUT, preload_content=True)
        text = response.data.decode("utf-8", errors="replace") if response.data else ""
        if not 200 <= response.status < 300:
            raise KubeError(response.status, response.reason or "", text)
        return json.loads(text) if text else {}

    def get(self, resource: str, **query: str) -> dict[str, Any]:
        return self.request("GET", resource, query=query)

    def get_or_none(self, resource: str) -> dict[str, Any] | None:
        try:
            return self.get(resource)
        except KubeError as error:
            if error.status == 404:
                return None
            raise

    def items(self, resource: str, **query: str) -> list[dict[str, Any]]:
        return list(self.get(resource, **query).get("items") or [])

    def metadata(self, resource: str, **query: str) -> list[dict[str, Any]]:
        """The listed objects' metadata only (``items[].metadata``)."""
        return list(self.request("GET", resource, query=query, accept=METADATA_LIST).get("items") or [])

    def create(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", resource, body=body)

    def replace(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", resource, body=body)

    def merge_patch(self, resource: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", resource, body=patch, content_type=MERGE_PATCH)

    def delete(self, resource: str) -> dict[str, Any]:
        return self.request("DELETE", resource)

    def ensure_namespace(self, namespace: str, labels: dict[str, str], annotations: dict[str, str] | None = None) -> bool:
        """Create the namespace when missing (True when created)."""
        if self.get_or_none(path("v1", "namespaces", name=namespace)) is not None:
            return False
        metadata = {"name": namespace, "labels": labels, **({"annotations": annotations} if annotations else {})}
        try:
            self.create(path("v1", "namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
        except KubeError as error:
            if error.status != 409:  # created meanwhile
                raise
        return True
