"""The registry as the hub roles see it: the registry role's ``registry_definition`` without its password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
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
    # The PEM of the CA that signs a registry's certificate when it has its own CA (the registry
    # role's ``ca_file``, read here): public, it goes into the values of BinderHub and docker-api.
    ca_cert: str = ""


REGISTRY_FIELDS = ("type", "host", "url", "image_prefix", "username", "pull_secret_required")
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


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
    ca_cert = _ca_cert(definition, hub, errors)
    if errors:
        raise ValueError("\n".join(errors))
    return RegistryView(**{key: definition[key] for key in REGISTRY_FIELDS}, ca_cert=ca_cert)


def _ca_cert(definition: Mapping[str, Any], hub: str, errors: list[str]) -> str:
    """The registry's own CA: ``ca_cert`` of a view already made, else the ``ca_file`` read."""
    if definition.get("ca_cert"):
        text, source = definition["ca_cert"], "registry_definition.ca_cert"
    elif definition.get("ca_file"):
        source = f"registry_definition.ca_file ({definition['ca_file']})"
        try:
            text = Path(str(definition["ca_file"])).read_text()
        except (OSError, UnicodeDecodeError) as error:
            errors.append(f"hub {hub!r}: {source}: cannot be read ({error.__class__.__name__}); expected the PEM "
                          "of the CA that signs the registry's certificate (registry_ca_file)")
            return ""
    else:
        return ""
    if not isinstance(text, str) or PEM_CERTIFICATE not in text:
        errors.append(f"hub {hub!r}: {source}: holds no PEM certificate; expected the CA that signs the "
                      "registry's certificate (registry_ca_file)")
        return ""
    return text.strip() + "\n"
