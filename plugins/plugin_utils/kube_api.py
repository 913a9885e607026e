"""A small Kubernetes API client for the controller-side plugins: JSON in, JSON out.

The kubeconfig is read by the Kubernetes client's loader (client certificates, tokens, exec
plugins), but requests go straight to its connection pool with plain JSON. The typed API
classes of the client (``CoreV1Api`` and its models) are not used: importing them costs
about 1.5 CPU-seconds, and Ansible forks a new process for every task of every hub.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from kubernetes import config
from kubernetes.config.config_exception import ConfigException
from urllib3 import Timeout

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


class KubeConfigError(ValueError):
    """The cluster's kubeconfig or context cannot be used; the message names the variable."""


def check_kubeconfig(kubeconfig: str | None, context: str | None) -> Path:
    """The kubeconfig file to use; raises KubeConfigError naming cluster_kubeconfig or
    cluster_kube_context when the file is missing or unreadable or has no such context."""
    given = bool(kubeconfig)
    path = Path(kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config").expanduser()
    where = "cluster_kubeconfig" if given else "cluster_kubeconfig (empty: $KUBECONFIG or ~/.kube/config)"
    if not path.is_file():
        raise KubeConfigError(f"{where}: {path} does not exist; expected the kubeconfig of the cluster")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise KubeConfigError(f"{where}: {path} is not a readable kubeconfig ({error.__class__.__name__})") from None
    contexts = [str(c.get("name")) for c in document.get("contexts") or [] if isinstance(c, dict)]
    if context and context not in contexts:
        raise KubeConfigError(f"cluster_kube_context: {context!r} is not a context of {path}; expected one of "
                              f"{', '.join(contexts) or '(none)'}")
    return path


class Kube:
    """Requests to one cluster, from a kubeconfig (default: $KUBECONFIG or ~/.kube/config) and a context."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        config_file = str(check_kubeconfig(kubeconfig, context))
        try:
            self._client = config.new_client_from_config(config_file=config_file, context=context or None)
        except ConfigException as error:
            raise KubeConfigError(f"cluster_kubeconfig: {config_file} cannot be used: {error}") from None

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
