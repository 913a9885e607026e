"""``jupyterhub_storage``, ``jupyterhub_ingress`` and ``jupyterhub_hub_image``: where users' homes
live and how the hub is reached.
"""

from __future__ import annotations

import re

from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import HOSTNAME_RE
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import DEFAULT_HOME_MOUNT_PATH, Ingress, Storage
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    check_keys,
    read_bool,
    read_mapping,
    read_one_of,
    read_pattern,
    read_str,
    read_str_list,
)

STORAGE_TYPES = ("dynamic", "nfs", "none")
QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
DEFAULT_NFS_MOUNT_OPTIONS = ["soft", "noatime", "vers=4.2"]
STORAGE_KEYS = {
    "dynamic": {"type", "capacity", "storage_class", "home_mount_path"},
    "nfs": {"type", "server", "path", "mount_options", "shared_dir", "home_mount_path"},
    "none": {"type"},
}
HUB_IMAGE_KEYS = {"name", "tag"}
INGRESS_KEYS = {"enabled", "class_name", "annotations", "tls_secret_name"}


def read_storage(errs: Errors, value: object) -> Storage:
    path = "jupyterhub_storage"
    raw = read_mapping(errs, path, value, required=True)
    kind = read_one_of(errs, f"{path}.type", raw.get("type", "dynamic"), STORAGE_TYPES, default="dynamic")
    check_keys(errs, path, raw, STORAGE_KEYS[kind], f"for type {kind}")
    home = read_str(errs, f"{path}.home_mount_path", raw.get("home_mount_path"), default=DEFAULT_HOME_MOUNT_PATH)
    if home and not home.startswith("/"):
        errs.add(f"{path}.home_mount_path", f"{home!r} is relative", "an absolute path in the user container")
    if kind == "dynamic":
        capacity = read_pattern(errs, f"{path}.capacity", raw.get("capacity"), QUANTITY_RE,
                                 "a Kubernetes quantity such as 10Gi", required=False, default="10Gi")
        return Storage(type=kind, capacity=capacity, home_mount_path=home,
                       storage_class=read_str(errs, f"{path}.storage_class", raw.get("storage_class")))
    if kind == "nfs":
        server = read_str(errs, f"{path}.server", raw.get("server"), required=True)
        if server and not HOSTNAME_RE.match(server) and not re.match(r"^[0-9.]+$|^[0-9a-f:]+$", server):
            errs.add(f"{path}.server", f"{server!r} is not a host name or IP address", "the NFS server's address")
        share = read_str(errs, f"{path}.path", raw.get("path"), required=True)
        if share and not share.startswith("/"):
            errs.add(f"{path}.path", f"{share!r} is relative", "the exported directory as an absolute path")
        options = read_str_list(errs, f"{path}.mount_options", raw.get("mount_options"))
        return Storage(type=kind, server=server, path=share, home_mount_path=home,
                       mount_options=options or list(DEFAULT_NFS_MOUNT_OPTIONS),
                       shared_dir=read_bool(errs, f"{path}.shared_dir", raw.get("shared_dir"), default=True))
    return Storage(type=kind)



def read_hub_image(errs: Errors, value: object) -> dict[str, str]:
    path = "jupyterhub_hub_image"
    raw = read_mapping(errs, path, value, required=True)
    check_keys(errs, path, raw, HUB_IMAGE_KEYS)
    return {
        "name": read_str(errs, f"{path}.name", raw.get("name"), required=True),
        "tag": read_str(errs, f"{path}.tag", raw.get("tag"), required=True),
    }


def read_ingress(errs: Errors, value: object) -> Ingress:
    path = "jupyterhub_ingress"
    raw = read_mapping(errs, path, value)
    check_keys(errs, path, raw, INGRESS_KEYS)
    annotations = {str(k): read_str(errs, f"{path}.annotations.{k}", v)
                   for k, v in read_mapping(errs, f"{path}.annotations", raw.get("annotations")).items()}
    return Ingress(
        enabled=read_bool(errs, f"{path}.enabled", raw.get("enabled")),
        class_name=read_str(errs, f"{path}.class_name", raw.get("class_name")),
        annotations=annotations,
        tls_secret_name=read_str(errs, f"{path}.tls_secret_name", raw.get("tls_secret_name")),
    )
