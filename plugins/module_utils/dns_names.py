"""Kubernetes' DNS name rules (RFC 1123), written once for every check of the toolkit.

A hub's name, namespace, cluster and helm release names are DNS labels; its domain and an NFS
server are host names. Standard library only: the modules, the controller's plugins and
``scripts/hub-secrets`` share it.
"""

from __future__ import annotations

import re

# A DNS label: lower-case letters, digits and '-', at most 63 characters, starting and ending alphanumeric.
DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DNS_LABEL_RE = re.compile(rf"^{DNS_LABEL}$")
# A host name: dot-separated DNS labels, at most 253 characters.
HOSTNAME_RE = re.compile(rf"^(?=.{{1,253}}$){DNS_LABEL}(\.{DNS_LABEL})*$")


def is_dns_label(text: str) -> bool:
    """Whether ``text`` is a DNS label (RFC 1123)."""
    return bool(DNS_LABEL_RE.match(text))


def is_hostname(text: str) -> bool:
    """Whether ``text`` is a lower-case host name of DNS labels."""
    return bool(HOSTNAME_RE.match(text))
