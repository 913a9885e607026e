"""The hub's own settings and its cluster's: names, stage, chart source, node pools, parallel deploys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import DNS_LABEL_RE, HOSTNAME_RE
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Cluster, Hub
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    read_bool,
    read_mapping,
    read_one_of,
    read_pattern,
    read_str,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import DEFAULTS, value_of

PROVIDERS = ("local", "gcp", "aws", "azure", "kubeconfig")
STAGES = ("staging", "production")
CHART_SOURCES = ("upstream", "directory")
LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def read_hub(errs: Errors, variables: Mapping[str, Any]) -> Hub:
    name = read_pattern(errs, "hub_name", value_of(variables, "hub_name"), DNS_LABEL_RE,
                         "a DNS label (RFC 1123: lower-case letters, digits and '-', at most 63 characters)")
    namespace_value = value_of(variables, "hub_namespace") or name
    namespace = read_pattern(errs, "hub_namespace", namespace_value, DNS_LABEL_RE,
                              "a DNS label (RFC 1123, at most 63 characters); defaults to hub_name",
                              required=bool(name))
    domain = read_pattern(errs, "hub_domain", value_of(variables, "hub_domain"), HOSTNAME_RE,
                           "the hub's public host name in lower case, e.g. research.hubs.example.org")
    stage = read_one_of(errs, "hub_stage", value_of(variables, "hub_stage"), STAGES)
    source = read_one_of(errs, "hub_charts_source", value_of(variables, "hub_charts_source"), CHART_SOURCES)
    dask = read_bool(errs, "hub_dask_gateway_enabled", value_of(variables, "hub_dask_gateway_enabled"))
    return Hub(name=name, namespace=namespace, domain=domain, stage=stage, charts_source=source,
               dask_gateway_enabled=dask)


def read_node_pools(errs: Errors, value: object) -> dict[str, dict[str, str]]:
    pools: dict[str, dict[str, str]] = {}
    for pool, labels in read_mapping(errs, "cluster_node_pools", value).items():
        path = f"cluster_node_pools.{pool}"
        checked: dict[str, str] = {}
        for key, label in read_mapping(errs, path, labels, required=True).items():
            if not LABEL_KEY_RE.match(str(key)):
                errs.add(f"{path}.{key}", "is not a valid label key", "a Kubernetes label key")
                continue
            text = read_str(errs, f"{path}.{key}", label, required=False)
            if not LABEL_VALUE_RE.match(text) or len(text) > 63:
                errs.add(f"{path}.{key}", f"{text!r} is not a valid label value", "a Kubernetes label value")
                continue
            checked[str(key)] = text
        if not checked:
            errs.add(path, "has no labels", "the node labels that select this pool's nodes")
        pools[str(pool)] = checked
    if pools:
        for required in ("core", "user"):
            if required not in pools:
                errs.add(f"cluster_node_pools.{required}", "is missing",
                         "the labels of the cluster's core and user node pools (and optionally build)")
    return pools


def read_cluster(errs: Errors, variables: Mapping[str, Any]) -> Cluster:
    name = read_pattern(errs, "cluster_name", value_of(variables, "cluster_name"), DNS_LABEL_RE,
                         "a DNS label (RFC 1123, at most 63 characters)")
    provider = read_one_of(errs, "cluster_provider", value_of(variables, "cluster_provider"), PROVIDERS)
    return Cluster(
        name=name,
        provider=provider,
        local=read_bool(errs, "cluster_local", value_of(variables, "cluster_local")),
        kubeconfig=read_str(errs, "cluster_kubeconfig", value_of(variables, "cluster_kubeconfig")),
        kube_context=read_str(errs, "cluster_kube_context", value_of(variables, "cluster_kube_context")),
        node_pools=read_node_pools(errs, value_of(variables, "cluster_node_pools")),
    )


def read_max_parallel(errs: Errors, value: object) -> int:
    """``cluster_max_parallel_deploys``: how many hubs of the cluster deploy at once, at least 1
    (a string of digits counts, as ``-e cluster_max_parallel_deploys=3`` gives one)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errs.add("cluster_max_parallel_deploys", f"{value!r} is not a whole number of at least 1",
                 "how many hubs of the cluster may deploy at once, e.g. 5")
        return DEFAULTS["cluster_max_parallel_deploys"]
    return value
