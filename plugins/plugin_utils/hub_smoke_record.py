"""The last smoke check of a hub, kept on its cluster: the ConfigMap ``imagebuilding-hubs-smoke``
in the hub's namespace says whether it passed, when, and at which step it failed. The upgrade
gate reads it ("healthy now" includes the smoke check where one was run). No secret in it."""

from __future__ import annotations

import datetime
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_objects import apply_object
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import deployed_at
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path

RECORD = "imagebuilding-hubs-smoke"
FIELDS = ("status", "step", "profile")


def record_body(namespace: str, outcome: dict[str, Any], at: datetime.datetime) -> dict[str, Any]:
    data = {key: str(outcome.get(key) or "") for key in FIELDS}
    data["at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": RECORD, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "imagebuilding-hubs"}},
            "data": data}


def write_record(kube: Kube, namespace: str, outcome: dict[str, Any]) -> None:
    apply_object(kube, record_body(namespace, outcome, datetime.datetime.now(datetime.UTC)))


def read_record(kube: Kube, namespace: str) -> dict[str, Any] | None:
    """The last smoke check ({status, step, profile, at: datetime | None}), None when none was run."""
    found = kube.get_or_none(path("v1", "configmaps", namespace, RECORD))
    if found is None:
        return None
    data = dict(found.get("data") or {})
    return {**{key: data.get(key, "") for key in FIELDS}, "at": deployed_at({"info": {"last_deployed": data.get("at")}})}
