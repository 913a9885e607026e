"""Where an object a manifest names (apiVersion, kind, namespace, name) lives in the API, found
by the API server's discovery: the resource's plural name and whether it is namespaced.

One discovery request per group/version, kept for the life of the ``Resources`` object (one
task): a release's manifest names a handful of group/versions.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, KubeError, path


class Resources:
    """Resource paths of one cluster, by apiVersion and kind."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._served: dict[str, list[dict[str, Any]]] = {}

    def served(self, api_version: str) -> list[dict[str, Any]]:
        """The resources the server serves in ``api_version`` ([] when it serves none of it)."""
        if api_version not in self._served:
            root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                self._served[api_version] = list(self.kube.get(root).get("resources") or [])
            except KubeError as error:
                if error.status != 404:
                    raise
                self._served[api_version] = []
        return self._served[api_version]

    def path(self, api_version: str, kind: str, namespace: str, name: str) -> str | None:
        """The object's path (the namespace dropped for a cluster-scoped kind), or None when the
        server does not serve the kind in that apiVersion any more."""
        for resource in self.served(api_version):
            if resource.get("kind") == kind and "/" not in str(resource.get("name", "")):
                scoped = namespace if resource.get("namespaced") else ""
                return path(api_version, str(resource["name"]), scoped, name)
        return None

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The live object, or None when it does not exist (or its kind is not served)."""
        found = self.path(api_version, kind, namespace, name)
        return self.kube.get_or_none(found) if found else None
