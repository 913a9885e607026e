"""Values a chart generates on its first install when the cluster has none, seeded before that install.

zero-to-jupyterhub keeps the values it generates in its hub Secret (named ``hub``: the toolkit
leaves ``fullnameOverride`` and ``nameOverride`` empty): the proxy's auth token, the cookie secret,
the CryptKeeper keys and the API token of each ``hub.services`` entry that has none. Each render
takes them from the values, else from that Secret (helm's ``lookup``), else generates new ones -
and it calls the generating helpers more than once per render (for the Secret and for the
checksums of it on the hub and proxy pods). An install that
finds no Secret therefore renders checksums that no later render gives, and the release needs a
second upgrade to settle. Seeded first - a Secret with those keys and helm's ownership
metadata, which the install adopts as its own - the install finds them as every later upgrade
does: one upgrade is enough. Helm owns the Secret from then on (an uninstall deletes it).

The values are random, made here, sent only to the API server and never returned or logged.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

ALPHANUMERIC = string.ascii_letters + string.digits


def _alphanumeric(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def _hex(length: int) -> str:
    return secrets.token_hex(length // 2)


# chart -> (the Secret's name, key -> how the chart generates its value: randAlphaNum 64, randHex 64)
SEEDS: dict[str, tuple[str, dict[str, Callable[[], str]]]] = {
    "jupyterhub": ("hub", {
        "hub.config.ConfigurableHTTPProxy.auth_token": lambda: _alphanumeric(64),
        "hub.config.JupyterHub.cookie_secret": lambda: _hex(64),
        "hub.config.CryptKeeper.keys": lambda: _hex(64),
    }),
}
SEEDED_LABEL = "imagebuilding-hubs/seeded"


def _service_tokens(values: object) -> dict[str, Callable[[], str]]:
    """z2jh's ``hub.services`` without an API token of their own (the chart generates them too,
    as ``hub.services.<name>.apiToken`` of the Secret; the dask-gateway service's, for one)."""
    hub = values.get("hub") if isinstance(values, Mapping) else None
    services = hub.get("services") if isinstance(hub, Mapping) else None
    if not isinstance(services, Mapping):
        return {}
    return {f"hub.services.{name}.apiToken": lambda: _hex(64) for name, service in services.items()
            if not (isinstance(service, Mapping) and (service.get("apiToken") or service.get("api_token")))}


def seed_name(chart: str) -> str:
    """The name of the Secret seeded for ``chart`` ('' when it needs none)."""
    return SEEDS[chart][0] if chart in SEEDS else ""


def seed_secret(chart: str, release: str, namespace: str, values: object = None) -> dict[str, Any] | None:
    """The Secret to create before the first install of ``release`` with ``values`` (``None``:
    ``chart`` needs none)."""
    if chart not in SEEDS:
        return None
    name, keys = SEEDS[chart]
    keys = {**keys, **_service_tokens(values)}
    data = {key: base64.b64encode(make().encode()).decode() for key, make in keys.items()}
    metadata = {"name": name, "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "Helm", SEEDED_LABEL: "true"},
                "annotations": {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata, "data": data}
