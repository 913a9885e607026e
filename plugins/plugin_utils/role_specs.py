"""The roles' argument specs (``roles/<role>/meta/argument_specs.yml``) as data.

They are the one place where the hub roles' inputs and their defaults are written down: the
roles validate their arguments against them, ``ansible-doc -t role`` shows them, each
role-prefixed default equals the role's ``defaults/main.yml`` (a test keeps them in step), and
the hub model takes its defaults from here instead of a copy of its own.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

# The collection's roles: plugins/plugin_utils/ -> the collection root -> roles/.
ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"


@functools.cache
def role_options(role: str, entry_point: str = "main") -> dict[str, dict[str, Any]]:
    """The options of one entry point of a role's argument specs."""
    specs = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return dict(specs["argument_specs"][entry_point].get("options") or {})


def option_defaults(*roles: str) -> dict[str, Any]:
    """Each option of the roles' ``main`` entry points and its default: None where the option
    is required or has none (the first role that lists an option wins; a test checks that the
    roles agree)."""
    defaults: dict[str, Any] = {}
    for role in roles:
        for name, option in role_options(role).items():
            if name not in defaults:
                defaults[name] = None if option.get("required") else option.get("default")
    return defaults
