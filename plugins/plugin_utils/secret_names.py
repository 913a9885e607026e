"""Which keys name a secret: the last component of a key path, for the checks that keep secrets
out of plaintext files and plain inventory (the release rules, ``jupyterhub_auth.extra_config``).
"""

from __future__ import annotations

import re

# Keys whose string value is a secret, and keys that end like one but name something that is
# not (the name of a Kubernetes Secret).
SECRET_KEY_RE = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|crypto[_-]?key)$", re.IGNORECASE)
NOT_SECRET_KEYS = frozenset(("existingSecret", "imagePullSecret", "secretName", "tls_secret_name"))


def is_secret_key(name: object) -> bool:
    """Whether a key of this name holds a secret (when its value is a non-empty string)."""
    return isinstance(name, str) and name not in NOT_SECRET_KEYS and bool(SECRET_KEY_RE.search(name))
