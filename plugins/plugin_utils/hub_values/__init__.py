"""Helm values per release, rendered from a validated ``HubModel`` and the registry view.

Only non-secret values are rendered here. The roles merge the hub's decrypted secret
values file (``enc-<hub>.secret.values.yaml``) on top, in memory, with ``no_log``; the
keys it must hold are given by ``required_secret_keys``.

Order of layers for each release (later wins; dicts merge by key, lists and scalars are
replaced, as helm does): chart defaults < toolkit values (this package) < the hub's extra
values files in order < the secret values file.

One module per part: ``registry`` (the registry view), ``wiring`` (URLs, addresses, node
selectors), ``jupyterhub``, ``profiles``, ``binderhub``, ``dask_gateway``, ``render`` (the
layers), ``secret_keys`` (the secret values file's keys and merge) and ``redaction``. This
face hands on what the action plugins use.
"""

from __future__ import annotations

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.redaction import redact
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import RegistryView, registry_view
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import render_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import (
           missing_secret_keys,
           release_values,
           required_secret_keys,
)

__all__ = ["RegistryView", "missing_secret_keys", "redact", "registry_view", "release_values", "render_values",
           "required_secret_keys"]
