"""The validated hub model: every rule has a failing case whose message names the hub and the
variable path; valid inputs are normalized; the action plugins fail a task the same way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.profiles import slugify
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import DEFAULTS
from hub_support import EXAMPLE_INVENTORY, SHARED_CHARTS, inventory_hosts, inventory_hub
from support import project_env, run_playbook

HUB = "research"


def valid_variables() -> dict[str, Any]:
    """A hub that passes every check; each test breaks one thing."""
    return {
        "hub_name": HUB,
        "hub_domain": "research.hubs.example.org",
        "hub_stage": "production",
        "cluster_name": "geo",
        "cluster_provider": "gcp",
        "cluster_node_pools": {
            "core": {"hub.jupyter.org/node-purpose": "core"},
            "user": {"hub.jupyter.org/node-purpose": "user"},
        },
        "jupyterhub_auth": {"type": "github", "client_id": "abc", "allowed_organizations": ["geo-lab"]},
        "jupyterhub_admin_users": ["ada"],
        "jupyterhub_profiles": [
            {
                "display_name": "Small",
                "options": {
                    "image": {
                        "display_name": "Image",
                        "choices": {"scipy": {"display_name": "SciPy", "image": "quay.io/jupyter/scipy-notebook:2024-03-18"}},
                        "unlisted_choice": {"enabled": True, "display_name": "Custom", "validation_regex": "^.+:.+$"},
                        "dynamic_image_building": {"enabled": True},
                    },
                },
            },
            {
                "display_name": "Large",
                "options": {
                    "image": {
                        "display_name": "Image",
                        "choices": {"pangeo": {"display_name": "Pangeo", "image": "pangeo/pangeo-notebook:2024.04.08"}},
                        "unlisted_choice": {"enabled": True, "display_name": "Custom", "validation_regex": "^.+:.+$"},
                    },
                    "resources": {
                        "display_name": "Resources",
                        "choices": {"small": {"display_name": "1 CPU", "kubespawner_override": {"cpu_limit": 1}}},
                    },
                },
            },
        ],
    }


def build(variables: dict[str, Any], base_dir: Path | str = ".") -> Any:  # noqa: ANN401 - a HubModel
    return build_model(variables, base_dir=str(base_dir))


def errors_of(variables: dict[str, Any], base_dir: Path | str = ".") -> list[str]:
    with pytest.raises(HubModelError) as raised:
        build(variables, base_dir)
    assert raised.value.hub == variables.get("hub_name", HUB) or raised.value.hub
    return raised.value.errors


def assert_error(errors: list[str], path: str, *fragments: str, hub: str = HUB) -> None:
    prefix = f"hub {hub!r}: {path}: "
    matching = [e for e in errors if e.startswith(prefix)]
    assert matching, f"no error for {path!r} in:\n" + "\n".join(errors)
    for fragment in fragments:
        assert any(fragment in e for e in matching), f"{fragment!r} not in {matching}"
    assert all("; expected " in e for e in matching)


def mutate(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    variables = copy.deepcopy(valid_variables())
    change(variables)
    return variables


def _image_option(v: dict[str, Any], profile: int = 0) -> dict[str, Any]:
    return v["jupyterhub_profiles"][profile]["options"]["image"]


# (id, change, variable path, fragments of the message)
RULES: list[tuple[str, Callable[[dict[str, Any]], None], str, tuple[str, ...]]] = [
    ("unknown provider", lambda v: v.update(cluster_provider="digitalocean"), "cluster_provider",
     ("'digitalocean' is not supported", "local, gcp, aws, azure, kubeconfig")),
    ("missing provider", lambda v: v.pop("cluster_provider"), "cluster_provider", ("missing",)),
    ("hub name upper case", lambda v: v.update(hub_name="Research"), "hub_name", ("DNS label",)),
    ("hub name too long", lambda v: v.update(hub_name="r" * 64), "hub_name", ("at most 63",)),
    ("hub name with dot", lambda v: v.update(hub_name="re.search"), "hub_name", ("DNS label",)),
    ("namespace not a DNS label", lambda v: v.update(hub_namespace="Hub_NS"), "hub_namespace", ("DNS label",)),
    ("domain not a host name", lambda v: v.update(hub_domain="https://research.example.org"), "hub_domain",
     ("host name",)),
    ("stage unknown", lambda v: v.update(hub_stage="prod"), "hub_stage", ("staging, production",)),
    ("charts source unknown", lambda v: v.update(hub_charts_source="git"), "hub_charts_source",
     ("upstream, directory",)),
    ("charts directory missing", lambda v: v.update(hub_charts_source="directory"), "hub_charts_dir",
     ("is empty", "directory of unpacked charts")),
    ("charts directory without the chart", lambda v: v.update(hub_charts_source="directory", hub_charts_dir="/nonexistent"),
     "hub_charts_dir", ("/nonexistent has no chart 'jupyterhub'",)),
    ("charts directory at another version",
     lambda v: v.update(hub_charts_source="directory", hub_charts_dir=str(SHARED_CHARTS), jupyterhub_chart_version="4.3.0"),
     "hub_charts_dir", ("/jupyterhub/Chart.yaml is chart 'jupyterhub' version '4.4.0', not jupyterhub 4.3.0",
                        "jupyterhub_chart_version")),
    ("cluster name", lambda v: v.update(cluster_name="Geo Cluster"), "cluster_name", ("DNS label",)),
    ("no hub may deploy", lambda v: v.update(cluster_max_parallel_deploys=0), "cluster_max_parallel_deploys",
     ("0 is not a whole number of at least 1",)),
    ("deploys at once not a number", lambda v: v.update(cluster_max_parallel_deploys="five"),
     "cluster_max_parallel_deploys", ("'five' is not a whole number",)),
    ("dynamic building on another option",
     lambda v: v["jupyterhub_profiles"][1]["options"]["resources"].update(dynamic_image_building={"enabled": True}),
     "jupyterhub_profiles[1].options.resources.dynamic_image_building.enabled", ("only on the option keyed 'image'",)),
    ("dynamic building without unlisted choice",
     lambda v: _image_option(v).pop("unlisted_choice"),
     "jupyterhub_profiles[0].options.image.dynamic_image_building.enabled", ("unlisted_choice.enabled: true",)),
    ("dynamic building with unlisted choice disabled",
     lambda v: _image_option(v)["unlisted_choice"].update(enabled=False),
     "jupyterhub_profiles[0].options.image.dynamic_image_building.enabled", ("unlisted_choice is not enabled",)),
    ("regex does not compile",
     lambda v: _image_option(v, 1)["unlisted_choice"].update(validation_regex="^(unclosed"),
     "jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex", ("does not compile", "re.match")),
    ("dummy authenticator outside a local cluster",
     lambda v: v.update(jupyterhub_auth={"type": "dummy", "allowed_users": ["a"]}),
     "jupyterhub_auth.type", ("cluster_local is true",)),
    ("dummy authenticator with cluster_local false",
     lambda v: v.update(cluster_local=False, jupyterhub_auth={"type": "dummy", "allowed_users": ["a"]}),
     "jupyterhub_auth.type", ("dummy",)),
    ("allow_all without opt-in", lambda v: v["jupyterhub_auth"].update(allow_all=True), "jupyterhub_auth.allow_all",
     ("jupyterhub_open_access_opt_in: true",)),
    ("open sign-up in extra config without opt-in",
     lambda v: v["jupyterhub_auth"].update(extra_config={"open_signup": True}),
     "jupyterhub_auth.extra_config.open_signup", ("jupyterhub_open_access_opt_in",)),
    ("nobody may log in", lambda v: v["jupyterhub_auth"].pop("allowed_organizations"), "jupyterhub_auth",
     ("nobody but admin users", "allowed_organizations")),
    ("auth type unknown", lambda v: v["jupyterhub_auth"].update(type="ldap"), "jupyterhub_auth.type",
     ("github, generic, cilogon, google, shared_password, dummy, null, tmp",)),
    ("auth missing", lambda v: v.pop("jupyterhub_auth"), "jupyterhub_auth", ("missing",)),
    ("github client id missing", lambda v: v["jupyterhub_auth"].pop("client_id"), "jupyterhub_auth.client_id",
     ("missing",)),
    ("github team malformed", lambda v: v["jupyterhub_auth"].update(allowed_teams=["geo-lab/admins"]),
     "jupyterhub_auth.allowed_teams[0]", ("<organization>:<team-slug>",)),
    ("generic without endpoints",
     lambda v: v.update(jupyterhub_auth={"type": "generic", "client_id": "c", "allowed_users": ["a"]}),
     "jupyterhub_auth.token_url", ("missing",)),
    ("cilogon without identity providers",
     lambda v: v.update(jupyterhub_auth={"type": "cilogon", "client_id": "c", "allowed_users": ["a"]}),
     "jupyterhub_auth.allowed_idps", ("missing",)),
    ("cilogon idp without username claim",
     lambda v: v.update(jupyterhub_auth={"type": "cilogon", "client_id": "c", "allowed_users": ["a"],
                                         "allowed_idps": {"https://idp.example.org": {"username_derivation": {}}}}),
     "jupyterhub_auth.allowed_idps['https://idp.example.org'].username_derivation.username_claim", ("missing",)),
    ("NFS without server and path", lambda v: v.update(jupyterhub_storage={"type": "nfs"}),
     "jupyterhub_storage.server", ("missing",)),
    ("NFS without path", lambda v: v.update(jupyterhub_storage={"type": "nfs", "server": "10.0.0.2"}),
     "jupyterhub_storage.path", ("missing",)),
    ("NFS relative path", lambda v: v.update(jupyterhub_storage={"type": "nfs", "server": "fs", "path": "homes"}),
     "jupyterhub_storage.path", ("relative",)),
    ("storage type unknown", lambda v: v.update(jupyterhub_storage={"type": "s3"}), "jupyterhub_storage.type",
     ("dynamic, nfs, none",)),
    ("capacity not a quantity", lambda v: v.update(jupyterhub_storage={"type": "dynamic", "capacity": "10 GB"}),
     "jupyterhub_storage.capacity", ("quantity",)),
    ("unknown key in auth", lambda v: v["jupyterhub_auth"].update(allowed_organisations=["x"]),
     "jupyterhub_auth.allowed_organisations", ("unknown key", "did you mean 'allowed_organizations'")),
    ("key of another authenticator type", lambda v: v["jupyterhub_auth"].update(token_url="https://x"),
     "jupyterhub_auth.token_url", ("unknown key for type github",)),
    ("unknown key in storage", lambda v: v.update(jupyterhub_storage={"type": "dynamic", "size": "1Gi"}),
     "jupyterhub_storage.size", ("unknown key for type dynamic",)),
    ("NFS key on dynamic storage", lambda v: v.update(jupyterhub_storage={"type": "dynamic", "server": "fs"}),
     "jupyterhub_storage.server", ("unknown key",)),
    ("unknown key in a profile", lambda v: v["jupyterhub_profiles"][0].update(profile_options={}),
     "jupyterhub_profiles[0].profile_options", ("unknown key",)),
    ("unknown key in an option", lambda v: _image_option(v).update(choice={}),
     "jupyterhub_profiles[0].options.image.choice", ("did you mean 'choices'",)),
    ("unknown key in a choice", lambda v: _image_option(v)["choices"]["scipy"].update(img="x:1"),
     "jupyterhub_profiles[0].options.image.choices.scipy.img", ("unknown key",)),
    ("unknown key in the unlisted choice", lambda v: _image_option(v)["unlisted_choice"].update(regex="x"),
     "jupyterhub_profiles[0].options.image.unlisted_choice.regex", ("unknown key",)),
    ("unknown key in dynamic building", lambda v: _image_option(v)["dynamic_image_building"].update(on=True),
     "jupyterhub_profiles[0].options.image.dynamic_image_building.on", ("unknown key",)),
    ("unknown key in the hub image", lambda v: v.update(jupyterhub_hub_image={"name": "x", "tag": "1", "repo": "y"}),
     "jupyterhub_hub_image.repo", ("unknown key",)),
    ("unknown key in the ingress", lambda v: v.update(jupyterhub_ingress={"enabled": True, "class": "nginx"}),
     "jupyterhub_ingress.class", ("did you mean 'class_name'",)),
    ("unknown variable (typo)", lambda v: v.update(jupyterhub_profile=[]), "jupyterhub_profile",
     ("unknown variable", "did you mean 'jupyterhub_profiles'")),
    ("unknown binderhub variable", lambda v: v.update(binderhub_service_docker_cache="1Gi"),
     "binderhub_service_docker_cache", ("did you mean 'binderhub_service_docker_cache_size'",)),
    ("unknown hub variable", lambda v: v.update(hub_domian="x"), "hub_domian", ("did you mean 'hub_domain'",)),
    ("choices empty", lambda v: _image_option(v).update(choices={}), "jupyterhub_profiles[0].options.image.choices",
     ("at least one choice",)),
    ("two default choices",
     lambda v: _image_option(v)["choices"].update(
         scipy={"display_name": "S", "image": "a:1", "default": True}, r={"display_name": "R", "image": "b:1", "default": True}),
     "jupyterhub_profiles[0].options.image.choices", ("2 choices are marked default",)),
    ("image choice without image", lambda v: _image_option(v)["choices"]["scipy"].pop("image"),
     "jupyterhub_profiles[0].options.image.choices.scipy.image", ("missing",)),
    ("image with white space", lambda v: _image_option(v)["choices"]["scipy"].update(image="scipy notebook:1"),
     "jupyterhub_profiles[0].options.image.choices.scipy.image", ("white space",)),
    ("unlisted choice on another option without override",
     lambda v: v["jupyterhub_profiles"][1]["options"]["resources"].update(
         unlisted_choice={"enabled": True, "display_name": "Other"}),
     "jupyterhub_profiles[1].options.resources.unlisted_choice.kubespawner_override", ("missing",)),
    ("unlisted override without {value}",
     lambda v: _image_option(v)["unlisted_choice"].update(kubespawner_override={"image": "fixed:1"}),
     "jupyterhub_profiles[0].options.image.unlisted_choice.kubespawner_override", ("{value}",)),
    ("profile without display name", lambda v: v["jupyterhub_profiles"][0].pop("display_name"),
     "jupyterhub_profiles[0].display_name", ("missing",)),
    ("duplicate slugs", lambda v: v["jupyterhub_profiles"][1].update(display_name="Small"),
     "jupyterhub_profiles[1].slug", ("also the slug of jupyterhub_profiles[0]",)),
    ("two default profiles", lambda v: [p.update(default=True) for p in v["jupyterhub_profiles"]],
     "jupyterhub_profiles", ("2 profiles are marked default",)),
    ("bad slug", lambda v: v["jupyterhub_profiles"][0].update(slug="Small One"), "jupyterhub_profiles[0].slug",
     ("lower-case",)),
    ("profiles not a list", lambda v: v.update(jupyterhub_profiles={"display_name": "x"}), "jupyterhub_profiles",
     ("a list",)),
    ("node pools without user", lambda v: v["cluster_node_pools"].pop("user"), "cluster_node_pools.user",
     ("core and user",)),
    ("node pool label value", lambda v: v["cluster_node_pools"]["core"].update({"pool": "a b"}),
     "cluster_node_pools.core.pool", ("label value",)),
    ("build pool unknown", lambda v: v.update(binderhub_service_build_node_pool="gpu"),
     "binderhub_service_build_node_pool", ("not a pool of cluster_node_pools",)),
    ("docker cache size", lambda v: v.update(binderhub_service_docker_cache_size="lots"),
     "binderhub_service_docker_cache_size", ("quantity",)),
    ("release name", lambda v: v.update(jupyterhub_release_name="JupyterHub"), "jupyterhub_release_name",
     ("DNS label",)),
    ("hub image without tag", lambda v: v.update(jupyterhub_hub_image={"name": "quay.io/2i2c/pilot-hub"}),
     "jupyterhub_hub_image.tag", ("missing",)),
    ("bool given as string", lambda v: v.update(hub_dask_gateway_enabled="yes"), "hub_dask_gateway_enabled",
     ("true or false",)),
    ("admin users not a list", lambda v: v.update(jupyterhub_admin_users="ada"), "jupyterhub_admin_users",
     ("a list",)),
]


@pytest.mark.parametrize(("change", "path", "fragments"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_rule_fails_naming_hub_and_variable(change, path: str, fragments: tuple[str, ...]) -> None:
    variables = mutate(change)
    assert_error(errors_of(variables), path, *fragments, hub=variables.get("hub_name", HUB))


def test_valid_variables_pass() -> None:
    model = build(valid_variables())
    assert model.hub.namespace == HUB
    assert model.binderhub_service.build_node_pool == "user"
    assert [p.slug for p in model.jupyterhub.profiles] == ["small", "large"]
    unlisted = model.jupyterhub.profiles[0].options[0].unlisted_choice
    assert unlisted.kubespawner_override == {"image": "{value}"}
    assert model.jupyterhub.profiles[0].options[0].choices[0].kubespawner_override == {
        "image": "quay.io/jupyter/scipy-notebook:2024-03-18"}
    assert model.releases["jupyterhub"].chart_version == "4.4.0"
    assert model.releases["jupyterhub"].chart_repo_url == "https://hub.jupyter.org/helm-chart/"
    assert model.releases["binderhub-service"].chart_version == "0.1.0-0.dev.git.336.hca79dc0"
    assert "dask-gateway" not in model.releases
    json.dumps(model.to_dict())  # the action plugin returns it as JSON


def test_all_errors_are_collected() -> None:
    def break_many(v: dict[str, Any]) -> None:
        v.update(cluster_provider="openstack", hub_stage="qa", jupyterhub_storage={"type": "nfs"})
        _image_option(v, 1)["unlisted_choice"]["validation_regex"] = "["

    errors = errors_of(mutate(break_many))
    for path in ("cluster_provider", "hub_stage", "jupyterhub_storage.server", "jupyterhub_storage.path",
                 "jupyterhub_profiles[1].options.image.unlisted_choice.validation_regex"):
        assert_error(errors, path)
    assert str(HubModelError(HUB, errors)).count("\n- ") == len(errors)


def test_dummy_authenticator_allowed_on_local_cluster() -> None:
    variables = mutate(lambda v: v.update(cluster_local=True, jupyterhub_auth={"type": "dummy", "allowed_users": ["a"]}))
    assert build(variables).jupyterhub.auth.type == "dummy"


def test_allow_all_with_opt_in() -> None:
    variables = mutate(lambda v: v.update(jupyterhub_open_access_opt_in=True))
    variables["jupyterhub_auth"] = {"type": "github", "client_id": "c", "allow_all": True}
    assert build(variables).jupyterhub.auth.allow_all is True


def test_github_teams_join_organizations() -> None:
    variables = mutate(lambda v: v["jupyterhub_auth"].update(allowed_teams=["geo-lab:admins"]))
    assert build(variables).jupyterhub.auth.allowed_organizations == ["geo-lab", "geo-lab:admins"]


def test_build_pool_defaults_to_build_when_defined() -> None:
    variables = mutate(lambda v: v["cluster_node_pools"].update(build={"pool": "build"}))
    assert build(variables).binderhub_service.build_node_pool == "build"


def test_directory_charts_are_the_unpacked_charts_at_the_pinned_versions() -> None:
    model = build(mutate(lambda v: v.update(hub_charts_source="directory", hub_charts_dir=str(SHARED_CHARTS),
                                            hub_dask_gateway_enabled=True)))
    for key, release in model.releases.items():
        assert release.chart_ref == str(SHARED_CHARTS / key)
        assert release.chart_version == "" and release.chart_repo_url == ""


def test_directory_charts_prefer_a_versioned_directory() -> None:
    """``<chart>-<version>/`` beside ``<chart>/``: several versions of one chart in one directory."""
    model = build(mutate(lambda v: v.update(hub_charts_source="directory", hub_charts_dir=str(SHARED_CHARTS),
                                            jupyterhub_chart_version="4.3.5")))
    assert model.releases["jupyterhub"].chart_ref == str(SHARED_CHARTS / "jupyterhub-4.3.5")


def test_release_names_default_to_the_hub_name() -> None:
    model = build(mutate(lambda v: v.update(hub_name="geo", hub_dask_gateway_enabled=True)))
    assert {key: r.name for key, r in model.releases.items()} == {
        "jupyterhub": "geo", "binderhub-service": "geo-binderhub", "dask-gateway": "geo-dask-gateway"}
    model = build(mutate(lambda v: v.update(hub_name="geo", jupyterhub_release_name="jupyterhub")))
    assert model.releases["jupyterhub"].name == "jupyterhub"


def test_derived_release_name_too_long_says_which_variable_to_set() -> None:
    hub = "r" * 41
    errors = errors_of(mutate(lambda v: v.update(hub_name=hub, hub_dask_gateway_enabled=True)))
    assert_error(errors, "jupyterhub_dask_gateway_release_name", "is longer than 53 characters (derived from hub_name",
                 hub=hub)
    assert not [e for e in errors if e.startswith(f"hub {hub!r}: jupyterhub_release_name")]


def test_chart_ref_override() -> None:
    model = build(mutate(lambda v: v.update(jupyterhub_chart_ref="oci://registry.example.org/charts/jupyterhub",
                                            binderhub_service_chart_ref="/srv/charts/binderhub-service")))
    assert model.releases["jupyterhub"].chart_ref.startswith("oci://")
    assert model.releases["jupyterhub"].chart_version == "4.4.0"
    assert model.releases["jupyterhub"].chart_repo_url == ""
    assert model.releases["binderhub-service"].chart_version == ""


# --- extra values files -----------------------------------------------------------------


def _with_values_file(tmp_path: Path, text: str) -> dict[str, Any]:
    (tmp_path / "extra.values.yaml").write_text(text, encoding="utf-8")
    return mutate(lambda v: v.update(hub_values_files=["extra.values.yaml"]))


def test_values_file_with_misspelt_chart_key(tmp_path: Path) -> None:
    variables = _with_values_file(tmp_path, "binderhub_service:\n  replicas: 1\njupyterhub: {}\n")
    assert_error(errors_of(variables, tmp_path), "hub_values_files[0]: binderhub_service",
                 "is not a chart of the hub", "did you mean 'binderhub-service'")


def test_values_file_with_chart_values_at_top_level(tmp_path: Path) -> None:
    variables = _with_values_file(tmp_path, "singleuser:\n  defaultUrl: /lab\n")
    assert_error(errors_of(variables, tmp_path), "hub_values_files[0]: singleuser",
                 "jupyterhub, binderhub-service, dask-gateway")


@pytest.mark.parametrize("chart", ["jupyterhub", "binderhub-service", "dask-gateway"])
def test_values_file_renaming_the_charts_objects(tmp_path: Path, chart: str) -> None:
    variables = _with_values_file(tmp_path, f"{chart}:\n  fullnameOverride: hub1\n")
    variable = {"jupyterhub": "jupyterhub", "binderhub-service": "binderhub_service",
                "dask-gateway": "jupyterhub_dask_gateway"}[chart] + "_release_name"
    assert_error(errors_of(variables, tmp_path), f"hub_values_files[0]: {chart}.fullnameOverride", variable)
    build(_with_values_file(tmp_path, f"{chart}:\n  fullnameOverride: ''\n"), tmp_path)  # the chart's default


def test_values_file_missing(tmp_path: Path) -> None:
    variables = mutate(lambda v: v.update(hub_values_files=["nope.yaml"]))
    assert_error(errors_of(variables, tmp_path), "hub_values_files[0]", "does not exist")


def test_values_file_not_a_mapping(tmp_path: Path) -> None:
    variables = _with_values_file(tmp_path, "- a\n- b\n")
    assert_error(errors_of(variables, tmp_path), "hub_values_files[0]", "holds a list")


def test_values_file_sops_encrypted_is_not_a_values_file(tmp_path: Path) -> None:
    variables = _with_values_file(tmp_path, "jupyterhub: {}\nsops: {mac: x}\n")
    assert_error(errors_of(variables, tmp_path), "hub_values_files[0]: sops", "not a chart of the hub")


def test_values_file_relative_to_inventory_and_loaded(tmp_path: Path) -> None:
    variables = _with_values_file(tmp_path, "jupyterhub:\n  cull:\n    timeout: 60\ndask-gateway:\n")
    model = build(variables, tmp_path)
    assert model.values_files[0].path == str(tmp_path / "extra.values.yaml")
    assert model.values_files[0].content == {"jupyterhub": {"cull": {"timeout": 60}}, "dask-gateway": None}


# The umbrella chart's switches (binderhub-service.enabled, dask-gateway.enabled): dropped when they
# agree with the hub's releases, refused when they do not - a section is never lost quietly.
def test_values_file_switch_that_agrees_is_dropped(tmp_path: Path) -> None:
    variables = _with_values_file(tmp_path, "binderhub-service:\n  enabled: true\n  replicas: 2\n")
    model = build(variables, tmp_path)
    assert "binderhub-service" in model.releases
    assert model.values_files[0].content == {"binderhub-service": {"replicas": 2}}
    dask = _with_values_file(tmp_path, "dask-gateway:\n  enabled: true\n")
    dask["hub_dask_gateway_enabled"] = True
    assert build(dask, tmp_path).values_files[0].content == {"dask-gateway": {}}


@pytest.mark.parametrize(("text", "change", "path", "fragments"), [
    ("dask-gateway:\n  enabled: true\n", None, "hub_values_files[0]: dask-gateway.enabled",
     ("is true in", "deploys no dask-gateway release", "hub_dask_gateway_enabled: true")),
    ("binderhub-service:\n  enabled: true\n", {"hub_image_building": "disabled", "jupyterhub_profiles": []},
     "hub_values_files[0]: binderhub-service.enabled", ("builds no images", "hub_image_building: enabled")),
    ("binderhub-service:\n  enabled: false\n", None, "hub_values_files[0]: binderhub-service.enabled",
     ("is false in", "the hub deploys binderhub-service", "hub_image_building: disabled")),
    ("dask-gateway:\n  enabled: 'yes'\n", None, "hub_values_files[0]: dask-gateway.enabled", ("is a str",)),
], ids=["dask-gateway on, hub without", "binderhub on, hub builds none", "binderhub off, hub builds", "not a bool"])
def test_values_file_switch_that_disagrees_is_refused(tmp_path: Path, text: str, change: dict[str, Any] | None,
                                                      path: str, fragments: tuple[str, ...]) -> None:
    variables = _with_values_file(tmp_path, text)
    variables.update(change or {})
    assert_error(errors_of(variables, tmp_path), path, *fragments)


def test_umbrella_rules_apply_to_adopted_hubs_only(tmp_path: Path) -> None:
    text = "jupyterhub:\n  custom:\n    banner: hello\nbasehub:\n  binderhub-service:\n    replicas: 2\n"
    native = _with_values_file(tmp_path, "jupyterhub:\n  custom:\n    banner: hello\n")
    assert build(native, tmp_path).values_files[0].content == {"jupyterhub": {"custom": {"banner": "hello"}}}
    assert_error(errors_of(_with_values_file(tmp_path, text), tmp_path), "hub_values_files[0]: basehub",
                 "not a chart of the hub")
    adopted = _with_values_file(tmp_path, text)
    adopted["hub_adoption_umbrella"] = "basehub"
    assert_error(errors_of(adopted, tmp_path), "hub_values_files[0]: jupyterhub.custom.banner", "a decision")
    adopted["hub_adoption_accepted"] = ["jupyterhub.custom"]
    assert build(adopted, tmp_path).values_files[0].content == {
        "jupyterhub": {"custom": {"banner": "hello"}}, "binderhub-service": {"replicas": 2}}
    both = _with_values_file(tmp_path, "binderhub-service: {replicas: 1}\nbasehub:\n  binderhub-service: {replicas: 2}\n")
    both["hub_adoption_umbrella"] = "basehub"
    assert_error(errors_of(both, tmp_path), "hub_values_files[0]: basehub.binderhub-service", "both set")


# --- defaults and the demo inventory ----------------------------------------------------


def test_slugify() -> None:
    assert slugify("Small (1 CPU, 2 GB)") == "small-1-cpu-2-gb"


def test_every_default_is_valid() -> None:
    """Defaults alone (plus the required variables) build a model."""
    required = {name for name, value in DEFAULTS.items() if value is None}
    assert required == {"hub_name", "hub_domain", "hub_stage", "cluster_name", "cluster_provider", "jupyterhub_auth"}
    variables = {k: v for k, v in valid_variables().items() if k in required}
    build(variables)


@pytest.mark.parametrize("host", inventory_hosts())
def test_demo_inventory_hubs_are_valid(host: str) -> None:
    hub = inventory_hub(host)
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    assert model.hub.name == host
    assert model.cluster.local is True
    assert model.jupyterhub.auth.type == "dummy"
    assert model.jupyterhub.admin_users
    image_options = [o for p in model.jupyterhub.profiles for o in p.options if o.key == "image"]
    assert image_options and all(o.unlisted_choice and o.unlisted_choice.enabled for o in image_options)
    assert any(o.dynamic_image_building for o in image_options)


@pytest.mark.parametrize("host", inventory_hosts(EXAMPLE_INVENTORY))
def test_example_inventory_hubs_are_valid(host: str) -> None:
    hub = inventory_hub(host, EXAMPLE_INVENTORY)
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    assert model.cluster.local is False and model.jupyterhub.auth.type != "dummy"
    assert model.hub.namespace == model.hub.name != host  # host names are fleet-unique, hub names per cluster
    assert model.releases["jupyterhub"].chart_repo_url == "https://hub.jupyter.org/helm-chart/"


# --- the action plugins, as Ansible runs them -------------------------------------------


PLAYBOOK = """\
- name: Validate
  hosts: all
  gather_facts: false
  tasks:
    - name: Validate the hub's inputs
      imagebuilding.hubs.hub_model:
      register: model
    - name: Show the namespace
      ansible.builtin.debug:
        msg: "namespace={{ model.model.hub.namespace }}"
"""


def test_action_plugin_validates_demo_hubs(tmp_path: Path, repo_root: Path) -> None:
    playbook = tmp_path / "validate.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    run = run_playbook("-i", str(repo_root / "inventories/local/hosts.yml"), str(playbook),
                       env=project_env(ANSIBLE_ROLES_PATH=str(repo_root / "roles")))
    assert run.rc == 0, run.output
    assert "namespace=research" in run.output and "namespace=staging" in run.output


def test_action_plugin_fails_naming_hub_and_variable(tmp_path: Path, repo_root: Path) -> None:
    playbook = tmp_path / "validate.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    extra = json.dumps({"cluster_local": False, "jupyterhub_profile": []})
    run = run_playbook("-i", str(repo_root / "inventories/local/hosts.yml"), str(playbook), "-l", "staging",
                       "-e", extra, env=project_env(ANSIBLE_ROLES_PATH=str(repo_root / "roles")))
    assert run.rc != 0
    assert "hub 'staging': jupyterhub_auth.type:" in run.output
    assert "hub 'staging': jupyterhub_profile: unknown variable" in run.output


def test_ansible_doc_shows_the_modules(repo_root: Path) -> None:
    """Every action plugin of the project has its documentation (plugins/modules/<name>.py)."""
    import subprocess

    actions = sorted(path.stem for path in (repo_root / "plugins" / "action").glob("*.py"))
    assert {"hub_model", "hub_values", "hub_release", "registry_access"} <= set(actions)
    for module in actions:
        name = f"imagebuilding.hubs.{module}"
        doc = subprocess.run([str(repo_root / ".venv/bin/ansible-doc"), "-j", name], cwd=repo_root,
                             env=project_env(), capture_output=True, text=True, check=False)
        assert doc.returncode == 0, doc.stderr
        assert json.loads(doc.stdout)[name]["doc"]["short_description"]
