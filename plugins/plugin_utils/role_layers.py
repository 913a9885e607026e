"""The roles' own variable files (``defaults/main.yml``, ``vars/main.yml``) as Ansible loads them,
for the actions that evaluate a role's expressions for a hub outside the role (the rollout state's
digest, the fleet-wide validation of ``playbooks/validate.yml``): the paths and arguments they
derive are then the roles' own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.parsing.dataloader import DataLoader

# The collection's roles: plugins/plugin_utils/ -> the collection root -> roles/.
ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


def role_layer(loader: DataLoader, names: tuple[str, ...]) -> dict[str, Any]:
    """The roles' files (``<role>/defaults/main.yml``, ...) merged in order, as Ansible loads them:
    trusted templates (ansible-core renders only those; a role default read as plain YAML, like
    ``secrets_dir: "{{ inventory_dir }}/secrets"``, would stay a literal string and every path
    built from it would name no file)."""
    layer: dict[str, Any] = {}
    for name in names:
        layer.update(loader.load_from_file(str(ROLES_DIR / name), trusted_as_template=True) or {})
    return layer
