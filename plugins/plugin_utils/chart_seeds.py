"""Values a chart generates on its first install when the cluster has none, seeded before that install.

zero-to-jupyterhub keeps three generated values in its hub Secret (named ``hub``: the toolkit
leaves ``fullnameOverride`` and ``nameOverride`` empty): the proxy's auth token, the cookie secret
and the CryptKeeper keys. Each render takes them from the values, else from that Secret (helm's
``lookup``), else generates new ones - and it calls the generating helpers more than once per
render (for the Secret and for the checksums of it on the hub and proxy pods). An install that
finds no Secret therefore renders checksums that no later render gives, and the release needs a
second upgrade to settle. Seeded first - a Secret with the three keys and helm's ownership
metadata, which the install adopts as its own - the install finds them as every later upgrade
does: one upgrade is enough. Helm owns the Secret from then on (an uninstall deletes it).

The values are random, made here, sent only to the API server and never returned or logged.
"""

from __future__ import annotations

import base64
import secrets
import string
from collections.abc import Callable
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


def seed_secret(chart: str, release: str, namespace: str) -> dict[str, Any] | None:
    """The Secret to create before the first install of ``release`` (``None``: ``chart`` needs none)."""
    if chart not in SEEDS:
        return None
    name, keys = SEEDS[chart]
    data = {key: base64.b64encode(make().encode()).decode() for key, make in keys.items()}
    metadata = {"name": name, "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "Helm", SEEDED_LABEL: "true"},
                "annotations": {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata, "data": data}
