"""The hub's values per release: the toolkit's values, then the hub's extra values files in order
(helm's merge: dicts by key, lists and scalars replaced).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Companion, HubModel
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.binderhub import binderhub_service_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.dask_gateway import dask_gateway_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.jupyterhub import jupyterhub_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import copy_values, merge_into


def layer_values(toolkit: Mapping[str, Mapping[str, Any]], files: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The toolkit's values per chart key, then each extra values file in order."""
    layered: dict[str, Any] = {key: copy_values(dict(value)) for key, value in toolkit.items()}
    for content in files:
        merge_into(layered, {k: v for k, v in content.items() if v is not None})
    return layered


def companion_values(companion: Companion) -> dict[str, Any]:
    """A companion release's values: its inline values, then its values files in order (as the
    hub's values files go over the toolkit's values)."""
    return layer_values({"values": companion.values}, [{"values": f.content} for f in companion.values_files])["values"]


def toolkit_values(model: HubModel, registry: RegistryView | None) -> dict[str, dict[str, Any]]:
    """Values per release; ``registry`` is None for a hub that builds no images (no BinderHub)."""
    values = {"jupyterhub": jupyterhub_values(model, registry)}
    if registry is not None and "binderhub-service" in model.releases:
        values["binderhub-service"] = binderhub_service_values(model, registry)
    if model.hub.dask_gateway_enabled:
        values["dask-gateway"] = dask_gateway_values(model, registry)
    return values


def unused_sections(model: HubModel) -> list[str]:
    """``<file>: <section>`` for each values file section of a release the hub does not deploy
    (``binderhub-service`` of a hub that builds no images, ``dask-gateway`` without
    ``hub_dask_gateway_enabled``): not deployed, and said so (``hub_preflight`` warns)."""
    return [f"{f.path}: {key}" for f in model.values_files for key in f.content
            if key not in model.releases and f.content.get(key) not in (None, {})]


def render_values(model: HubModel, registry: RegistryView | None) -> dict[str, dict[str, Any]]:
    """Values per release key (``jupyterhub``, ``binderhub-service``, ``dask-gateway``).

    A values file's section for a release the hub does not deploy (``dask-gateway``
    without ``hub_dask_gateway_enabled``, ``binderhub-service`` of a hub that builds no images)
    is not deployed (``unused_sections`` names them).
    """
    layered = layer_values(toolkit_values(model, registry), [f.content for f in model.values_files])
    return {key: layered.get(key, {}) for key in model.releases}
