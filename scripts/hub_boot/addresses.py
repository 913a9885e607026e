"""Who answers at which address inside the boot's network namespace (nothing there leaves it).

Like a pod, the hub is ``localhost``; the proxy pod has an address of its own; every other
Service of the namespace gets one where a stand-in answers; user servers (fake kwok pods) are
all reached at one more address (``KubeSpawner.pod_connect_ip``), where a stand-in answers too.
"""

from __future__ import annotations

HUB = "127.0.0.1"
PROXY = "127.0.1.1"
USER_SERVERS = "127.0.2.1"
# KubeSpawner's default port of user servers (z2jh sets no other).
USER_SERVER_PORT = 8888


def service_address(index: int) -> str:
    """The address of the index-th Service that no local process serves."""
    return f"127.0.3.{index + 1}"
