"""The NFS home share's volume and claim on the embedded cluster: the volume is kept
(Retain) when the hub's namespace is deleted, and the claim made again in the new namespace
binds to it again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_objects import apply_objects
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.jupyterhub import nfs_objects
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path
from hub_support import inventory_hub

NAMESPACE = "objects-nfs-reclaim"


def phase(kube: Kube, resource: str, wanted: str, timeout: float = 60) -> str:
    """The object's status.phase once it is ``wanted``, or the last one seen after ``timeout``."""
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        seen = ((kube.get_or_none(resource) or {}).get("status") or {}).get("phase", "")
        if seen == wanted:
            break
        time.sleep(0.5)
    return seen


def namespace_gone(kube: Kube, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kube.get_or_none(path("v1", "namespaces", name=NAMESPACE)) is None:
            return True
        time.sleep(0.5)
    return False


@pytest.fixture
def kube(kubeconfig: Path) -> Iterator[Kube]:
    client = Kube.from_args({"kubeconfig": str(kubeconfig)})
    yield client
    for resource in (path("v1", "namespaces", name=NAMESPACE), path("v1", "persistentvolumes", name=f"{NAMESPACE}-home-nfs")):
        if client.get_or_none(resource) is not None:
            client.delete(resource)


def test_claim_binds_again_after_the_namespace_is_made_again(kube: Kube) -> None:
    hub = inventory_hub("research")
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    model = replace(model, hub=replace(model.hub, namespace=NAMESPACE))
    bodies = nfs_objects(model)
    claim = path("v1", "persistentvolumeclaims", NAMESPACE, "home-nfs")
    for attempt in ("first", "again"):
        kube.ensure_namespace(NAMESPACE, {})
        applied = apply_objects(kube, bodies)
        assert phase(kube, claim, "Bound") == "Bound", (attempt, [a.label for a in applied])
        kube.delete(path("v1", "namespaces", name=NAMESPACE))
        assert namespace_gone(kube), "the namespace was not deleted"
    assert any("forgotten" in a.label for a in applied), [a.label for a in applied]
