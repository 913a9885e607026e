"""Hub names and namespaces that must be unique across the selected hubs
(plugin_utils/hub_duplicates.py and the hub_duplicates filter of the validate play)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_duplicates import (
    HubIdentity,
    duplicate_problems,
    hub_identity,
)

ROOT = Path(__file__).resolve().parent.parent


def _filter_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hub_duplicates_filter", ROOT / "plugins" / "filter" / "hub_duplicates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hub(host: str, name: str = "", namespace: str = "", cluster: str = "local") -> HubIdentity:
    identity = hub_identity(host, {"hub_name": name, "hub_namespace": namespace, "cluster_name": cluster})
    assert identity is not None
    return identity


def test_identity_defaults_follow_the_hub_model() -> None:
    assert hub_identity("research", {"cluster_name": "eu"}) == HubIdentity("research", "research", "research", "eu")
    assert hub_identity("research", {"hub_name": "r2", "cluster_name": "eu"}) == HubIdentity("research", "r2", "r2", "eu")
    assert hub_identity("research", {"hub_namespace": "ns"}) == HubIdentity("research", "research", "ns", "")


@pytest.mark.parametrize("variables", [{"hub_name": ["a"]}, {"hub_namespace": {"x": 1}}, {"cluster_name": 3}])
def test_identity_of_wrong_types_is_left_to_the_hub_model(variables: dict[str, object]) -> None:
    assert hub_identity("research", variables) is None


def test_distinct_hubs_have_no_problems() -> None:
    hubs = [hub("staging"), hub("research"), hub("other", namespace="research", cluster="eu")]
    assert duplicate_problems(hubs) == {}


def test_namespace_shared_within_a_cluster_names_both_hosts() -> None:
    problems = duplicate_problems([hub("a", namespace="shared"), hub("b", namespace="shared"), hub("c")])
    assert set(problems) == {"a", "b"}
    (message,) = problems["a"]
    assert message.startswith("hub 'a': hub_namespace: 'shared'")
    assert "'b'" in message and "cluster 'local'" in message and "expected a namespace of its own" in message
    assert "hub 'b'" in problems["b"][0] and "'a'" in problems["b"][0]


def test_namespace_defaulting_to_another_hubs_name_is_a_duplicate() -> None:
    problems = duplicate_problems([hub("research"), hub("research-2", namespace="research")])
    assert set(problems) == {"research", "research-2"}
    assert all("hub_namespace: 'research'" in messages[0] for messages in problems.values())


def test_same_namespace_on_two_clusters_is_allowed() -> None:
    assert duplicate_problems([hub("a", namespace="ns", cluster="eu"), hub("b", namespace="ns", cluster="us")]) == {}


def test_hub_name_is_unique_per_cluster_only() -> None:
    """A staging hub on every cluster is fine, each with its secret values file."""
    hubs = [released("a", cluster="eu", hub_name="staging", secrets_dir="/fleet/secrets/eu"),
            released("b", cluster="us", hub_name="staging", secrets_dir="/fleet/secrets/us")]
    assert duplicate_problems(hubs) == {}
    problems = duplicate_problems([hub("a", name="same"), hub("b", name="same", namespace="other")])
    assert problems["a"][0] == ("hub 'a': hub_name: 'same' is also the hub_name of host(s) 'b' on cluster 'local'; "
                                "expected a hub_name of its own per cluster (it defaults to the inventory hostname)")


def test_one_secret_values_file_for_two_hubs_is_refused() -> None:
    hubs = [released("a", cluster="eu", hub_name="staging", inventory_dir="/fleet"),
            released("b", cluster="us", hub_name="staging", inventory_dir="/fleet")]
    problems = duplicate_problems(hubs)
    assert set(problems) == {"a", "b"}
    (message,) = problems["b"]
    assert message.startswith("hub 'b': secrets_dir: /fleet/secrets/enc-staging.secret.values.yaml is also the "
                              "secret values file of host(s) 'a'")
    assert "a secrets_dir per cluster" in message


def test_hub_name_and_namespace_both_reported_in_one_cluster() -> None:
    problems = duplicate_problems([hub("a", name="same"), hub("b", name="same"), hub("c", name="same")])
    assert set(problems) == {"a", "b", "c"}
    assert [m.split(":")[1].strip() for m in problems["c"]] == ["hub_name", "hub_namespace", "jupyterhub_release_name"]
    assert "'a', 'b'" in problems["c"][0]


def test_filter_reads_hostvars_and_skips_what_does_not_template() -> None:
    class Broken(dict):
        def get(self, key: str, default: object = None) -> object:
            raise RuntimeError("undefined variable")

    hostvars = {"a": {"hub_namespace": "x", "cluster_name": "local"}, "b": {"hub_namespace": "x", "cluster_name": "local"},
                "c": {"hub_namespace": "x", "cluster_name": "other"}, "d": Broken()}
    problems = _filter_module().hub_duplicates(["a", "b", "c", "d"], hostvars)
    assert set(problems) == {"a", "b"}
    assert _filter_module().FilterModule().filters()["hub_duplicates"](["a", "c"], hostvars) == {}


def released(host: str, cluster: str = "local", **variables: object) -> HubIdentity:
    identity = hub_identity(host, {"cluster_name": cluster, **variables})
    assert identity is not None
    return identity


def test_release_names_default_to_the_hub_so_hubs_of_a_cluster_never_collide() -> None:
    hubs = [released(name, hub_dask_gateway_enabled=True) for name in ("staging", "research", "geo", "ocean", "ice")]
    assert hubs[0].releases == {"jupyterhub": "staging", "binderhub-service": "staging-binderhub",
                                "dask-gateway": "staging-dask-gateway"}
    assert duplicate_problems(hubs) == {}


def test_same_jupyterhub_release_on_one_cluster_names_both_hubs_and_the_object() -> None:
    problems = duplicate_problems([released("staging", jupyterhub_release_name="jupyterhub"),
                                   released("research", jupyterhub_release_name="jupyterhub"), released("other")])
    assert set(problems) == {"staging", "research"}
    assert problems["research"] == [
        "hub 'research': jupyterhub_release_name: release 'jupyterhub' would create ClusterRole "
        "'jupyterhub-user-scheduler', which hub(s) 'staging' (release 'jupyterhub') on cluster 'local' create(s) too; "
        "expected a release name of its own per cluster (release names default to the hub's name)"]


def test_same_release_names_on_two_clusters_are_fine() -> None:
    hubs = [released("a", cluster="eu", jupyterhub_release_name="hub"),
            released("b", cluster="us", jupyterhub_release_name="hub")]
    assert duplicate_problems(hubs) == {}


def test_dask_gateway_release_colliding_with_a_named_release() -> None:
    """A release named like another hub's derived dask-gateway release: its ClusterRoles collide."""
    problems = duplicate_problems([released("geo", hub_dask_gateway_enabled=True),
                                   released("ocean", hub_dask_gateway_enabled=True,
                                            jupyterhub_dask_gateway_release_name="geo-dask-gateway")])
    assert set(problems) == {"geo", "ocean"}
    assert "ClusterRole 'api-geo-dask-gateway'" in problems["ocean"][0]
    assert problems["ocean"][0].startswith("hub 'ocean': jupyterhub_dask_gateway_release_name: release 'geo-dask-gateway'")


def test_dask_gateway_release_counts_only_when_enabled() -> None:
    hubs = [released("geo", hub_dask_gateway_enabled=True),
            released("ocean", jupyterhub_dask_gateway_release_name="geo-dask-gateway")]
    assert duplicate_problems(hubs) == {}
