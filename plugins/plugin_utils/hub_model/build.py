"""The entry point: one hub's variables -> a validated ``HubModel``, or every error at once.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.adoption import (
    ACCEPTED_VARIABLE,
    UMBRELLA_VARIABLE,
    read_adoption,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.auth import read_auth
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.cluster import (
    read_cluster,
    read_hub,
    read_max_parallel,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.companions import read_companions
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.image_building import read_image_building
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import (
    BinderHubSettings,
    Cluster,
    HubModel,
    JupyterHubSettings,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.profiles import read_profiles
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    HubModelError,
    did_you_mean,
    read_bool,
    read_pattern,
    read_str,
    read_str_list,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import read_releases
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.storage import (
    QUANTITY_RE,
    read_hub_image,
    read_ingress,
    read_storage,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.values_files import read_values_files
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import check_unknown_variables, value_of


def read_jupyterhub(errs: Errors, variables: Mapping[str, Any], cluster: Cluster) -> JupyterHubSettings:
    opt_in = read_bool(errs, "jupyterhub_open_access_opt_in", value_of(variables, "jupyterhub_open_access_opt_in"))
    test_opt_in = read_bool(errs, "jupyterhub_test_authenticator_opt_in",
                            value_of(variables, "jupyterhub_test_authenticator_opt_in"))
    admin_users = read_str_list(errs, "jupyterhub_admin_users", value_of(variables, "jupyterhub_admin_users"))
    return JupyterHubSettings(
        auth=read_auth(errs, value_of(variables, "jupyterhub_auth"), cluster_local=cluster.local, opt_in=opt_in,
                       test_opt_in=test_opt_in, admin_users=admin_users),
        admin_users=admin_users,
        open_access_opt_in=opt_in,
        test_authenticator_opt_in=test_opt_in,
        storage=read_storage(errs, value_of(variables, "jupyterhub_storage")),
        profiles=read_profiles(errs, value_of(variables, "jupyterhub_profiles")),
        hub_image=read_hub_image(errs, value_of(variables, "jupyterhub_hub_image")),
        ingress=read_ingress(errs, value_of(variables, "jupyterhub_ingress")),
    )


def read_binderhub_service(errs: Errors, variables: Mapping[str, Any], cluster: Cluster) -> BinderHubSettings:
    pool_path = "binderhub_service_build_node_pool"
    pool = read_str(errs, pool_path, value_of(variables, pool_path))
    if not pool:
        pool = "build" if "build" in cluster.node_pools else "user"
    elif cluster.node_pools and pool not in cluster.node_pools:
        errs.add(pool_path, f"{pool!r} is not a pool of cluster_node_pools",
                 "one of " + ", ".join(sorted(cluster.node_pools)) + did_you_mean(pool, cluster.node_pools))
    size = read_pattern(errs, "binderhub_service_docker_cache_size",
                         value_of(variables, "binderhub_service_docker_cache_size"), QUANTITY_RE,
                         "a Kubernetes quantity such as 15Gi")
    return BinderHubSettings(build_node_pool=pool, docker_cache_size=size)


def build_model(variables: Mapping[str, Any], *, base_dir: str = ".") -> HubModel:
    """Turn one hub's variables into a ``HubModel`` or raise ``HubModelError`` with all errors.

    ``variables`` are the hub's inventory and role variables, already templated;
    ``hub_name`` must be set (the caller defaults it to the inventory hostname).
    ``base_dir`` is where relative ``hub_values_files``, ``hub_charts_dir`` and the paths of
    ``hub_companion_releases`` start (the inventory directory).
    """
    hub_label = str(variables.get("hub_name") or "?")
    errs = Errors(hub=hub_label)
    check_unknown_variables(errs, variables)
    hub = read_hub(errs, variables)
    cluster = read_cluster(errs, variables)
    read_max_parallel(errs, value_of(variables, "cluster_max_parallel_deploys"))
    jupyterhub = read_jupyterhub(errs, variables, cluster)
    building = read_image_building(errs, value_of(variables, "hub_image_building"), jupyterhub.profiles)
    hub = dataclasses.replace(hub, image_building=building)
    binderhub = read_binderhub_service(errs, variables, cluster)
    charts = read_str(errs, "hub_charts_dir", value_of(variables, "hub_charts_dir"))
    if charts and not Path(charts).is_absolute():
        charts = os.path.normpath(Path(base_dir) / charts)
    releases = read_releases(errs, variables, hub, charts)
    adoption = read_adoption(errs, value_of(variables, UMBRELLA_VARIABLE), value_of(variables, ACCEPTED_VARIABLE))
    files = read_values_files(errs, value_of(variables, "hub_values_files"), base_dir, releases, adoption)
    companions = read_companions(errs, value_of(variables, "hub_companion_releases"), hub, releases, base_dir)
    if errs.messages:
        raise HubModelError(hub_label, errs.messages)
    return HubModel(hub=hub, cluster=cluster, jupyterhub=jupyterhub, binderhub_service=binderhub,
                    releases=releases, values_files=files, adoption=adoption, companions=companions)
