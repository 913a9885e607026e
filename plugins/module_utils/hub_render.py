"""One hub's release values, rendered on the controller: the validated hub model, its values
per release, its sops-encrypted values files and its secret values file decrypted in memory.

Shared by the ``hub_values`` action (which returns them, on a ``no_log`` task) and the
``hub_release`` action (which renders and deploys in one task, so that decrypted values never
leave the worker process). Every error names the hub and the file, never a value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from ansible.module_utils.hub_model import HubModelError, build_model, decrypt_values_files
from ansible.module_utils.hub_values import (
    BINDER_TOKEN_KEY,
    missing_secret_keys,
    nfs_objects,
    registry_view,
    release_values,
    render_values,
    required_secret_keys,
)
from ansible.module_utils.sops_files import SopsDecryptError, is_sops_encrypted, sops_decrypt


def sops_environment(age_keyfile: object) -> dict[str, str]:
    """The controller's environment, with ``SOPS_AGE_KEY_FILE`` when a key file is given."""
    env = dict(os.environ)
    if age_keyfile:
        env["SOPS_AGE_KEY_FILE"] = str(age_keyfile)
    return env


class RenderError(ValueError):
    """Why a hub's values could not be rendered (names the hub, never a value)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


def render_hub(variables: dict[str, Any], definition: object, *, base_dir: str, decrypt: bool = False) -> dict[str, Any]:
    """The hub's rendered values and what the roles need with them (``hub_values``' result keys)."""
    try:
        model = build_model(variables, base_dir=base_dir)
    except HubModelError as error:
        raise RenderError(str(error), errors=error.errors, hub=error.hub) from None
    if not isinstance(definition, dict):
        raise RenderError(f"hub {model.hub.name!r}: registry_definition: is missing; expected the fact the "
                          "registry role sets for the hub")
    try:
        registry = registry_view(definition, model.hub.name)
    except ValueError as error:
        raise RenderError(str(error)) from None
    encrypted = [f.path for f in model.values_files if f.encrypted]
    secret_values: list[dict[str, Any]] = []
    if decrypt and encrypted:
        try:
            model = decrypt_values_files(model, sops_decrypt)
        except HubModelError as error:
            raise RenderError(str(error), errors=error.errors, hub=error.hub, decrypt_error=str(error)) from None
        secret_values = [f.content for f in model.values_files if f.encrypted]
    rendered: dict[str, Any] = {
        "hub": model.hub.name,
        "values": render_values(model, registry),
        "encrypted_values_files": encrypted,
        "releases": {key: dict(release.__dict__) for key, release in model.releases.items()},
        "objects": nfs_objects(model),
        "namespace": model.hub.namespace,
        "required_secret_keys": required_secret_keys(model, registry),
    }
    if decrypt:
        rendered["secret_values"] = secret_values
    return rendered


def with_secret_values(rendered: dict[str, Any], secrets_file: str, releases: list[str] | None, *,
                       sops_binary: str, env: dict[str, str]) -> dict[str, Any]:
    """``rendered`` plus each release's final values (rendered values, the hub's secret values
    file on top: ``release_values``) and every decrypted value (``secret_values``, for redaction).

    Raises RenderError when the file is missing, not sops-encrypted, cannot be decrypted or
    lacks a key the releases need.
    """
    hub = rendered["hub"]
    wanted_releases = [str(r) for r in releases or rendered["values"]]
    secrets = decrypt_secrets_file(hub, secrets_file, sops_binary=sops_binary, env=env)
    wanted = [key for key in rendered["required_secret_keys"]
              if key.split(".", 1)[0] in wanted_releases
              or (key == BINDER_TOKEN_KEY and "binderhub-service" in wanted_releases)]
    missing = missing_secret_keys(secrets, wanted)
    if missing:
        raise RenderError(f"hub {hub}: {secrets_file} lacks {', '.join(missing)}; expected the secrets role to write "
                          f"them (or scripts/hub-secrets set {hub} <key>)")
    return {**rendered,
            "release_values": {release: release_values(rendered["values"][release], secrets, release)
                               for release in wanted_releases if release in rendered["values"]},
            "secret_values": {"secrets_file": secrets, "values_files": rendered.get("secret_values") or []}}


def decrypt_secrets_file(hub: str, path: str, *, sops_binary: str, env: dict[str, str]) -> dict[str, Any]:
    if not Path(path).is_file():
        raise RenderError(f"hub {hub}: {path} is missing: run playbooks/seal.yml first")
    if not is_sops_encrypted(path):
        raise RenderError(f"hub {hub}: {path} is not sops-encrypted: a secret values file must never be plain "
                          "text (encrypt it with sops, or delete it and run playbooks/seal.yml)")
    try:
        content = yaml.safe_load(sops_decrypt(path, binary=sops_binary, env=env)) or {}
    except (SopsDecryptError, yaml.YAMLError) as error:  # messages name the file, never its content
        raise RenderError(f"hub {hub}: {error.__class__.__name__}: " + (
            str(error) if isinstance(error, SopsDecryptError) else f"{path} decrypts to unreadable YAML")) from None
    if not isinstance(content, dict):
        raise RenderError(f"hub {hub}: {path} decrypts to a {type(content).__name__}, expected a mapping")
    return content
