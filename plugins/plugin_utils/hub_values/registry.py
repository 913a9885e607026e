"""The registry as the hub roles see it: the registry role's ``registry_definition`` without its password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegistryView:
    """The non-secret part of the registry role's ``registry_definition``."""

    type: str
    host: str
    url: str
    image_prefix: str
    username: str
    pull_secret_required: bool


REGISTRY_FIELDS = ("type", "host", "url", "image_prefix", "username", "pull_secret_required")


def registry_view(definition: Mapping[str, Any], hub: str) -> RegistryView:
    """Keep the fields the hub roles use; the password never enters the rendered values."""
    errors = []
    for key in REGISTRY_FIELDS:
        value = definition.get(key)
        if key == "pull_secret_required":
            if not isinstance(value, bool):
                errors.append(f"hub {hub!r}: registry_definition.{key}: is {value!r}; expected true or false")
        elif not isinstance(value, str) or not value:
            errors.append(f"hub {hub!r}: registry_definition.{key}: is missing or empty; expected a non-empty "
                          "string from the registry role")
    prefix, host = definition.get("image_prefix"), definition.get("host")
    if isinstance(prefix, str) and isinstance(host, str) and prefix and host and not prefix.startswith(host + "/"):
        errors.append(f"hub {hub!r}: registry_definition.image_prefix: {prefix!r} is not on host {host!r}; "
                      f"expected it to start with '{host}/'")
    if errors:
        raise ValueError("\n".join(errors))
    return RegistryView(**{key: definition[key] for key in REGISTRY_FIELDS})
