"""A Kubernetes API client for the controller-side plugins, from a kubeconfig and a context."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client, config


def api_client(kubeconfig: str | None = None, context: str | None = None) -> client.ApiClient:
    """The client of ``kubeconfig`` (default: $KUBECONFIG or ~/.kube/config) and ``context`` (default: current)."""
    config_file = str(Path(kubeconfig).expanduser()) if kubeconfig else None
    return config.new_client_from_config(config_file=config_file, context=context or None)
