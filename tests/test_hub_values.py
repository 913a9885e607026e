"""Rendered helm values: every demo hub's values, merged with the real charts' defaults,
validate against the real charts' schemas; the wiring DESIGN.md asks for is in place.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import jsonschema
import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import binderhub_service_url
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModel, build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.variables import DEFAULTS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.jupyterhub import FANCY_PROFILES_SNIPPET, nfs_objects
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry import registry_view
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import layer_values, render_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import (
    auth_secret_keys,
    missing_secret_keys,
    release_values,
    required_secret_keys,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge
from hub_support import (
    EXAMPLE_INVENTORY,
    LOCAL_INVENTORY,
    PLACEHOLDER_PASSWORD,
    PLACEHOLDER_TOKEN,
    InventoryHub,
    inventory_hosts,
    inventory_hub,
    load_yaml,
    local_registry_definition,
    merged_with_defaults,
    placeholder_secret_values,
)

DEMO_HUBS = inventory_hosts()
EXAMPLE_HUBS = inventory_hosts(EXAMPLE_INVENTORY)
SCHEMA_CHARTS = ("jupyterhub", "binderhub-service")


@pytest.fixture(scope="module", params=DEMO_HUBS)
def demo(request: pytest.FixtureRequest) -> tuple[InventoryHub, HubModel, dict]:
    """A hub of inventories/local: (inventory hub, model, values with placeholder secrets per release)."""
    return _final_values(request.param, LOCAL_INVENTORY)


@pytest.fixture(scope="module", params=DEMO_HUBS + EXAMPLE_HUBS)
def any_hub(request: pytest.FixtureRequest) -> tuple[InventoryHub, HubModel, dict]:
    """A hub of inventories/local or inventories/example."""
    inventory = LOCAL_INVENTORY if request.param in DEMO_HUBS else EXAMPLE_INVENTORY
    return _final_values(request.param, inventory)


def _final_values(host: str, inventory: Path) -> tuple[InventoryHub, HubModel, dict]:
    hub = inventory_hub(host, inventory)
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    registry = registry_view(local_registry_definition(hub), model.hub.name)
    rendered = render_values(model, registry)
    secrets = placeholder_secret_values(auth_secret_keys(model), registry.pull_secret_required)
    assert missing_secret_keys(secrets, required_secret_keys(model, registry)) == []
    final = {key: release_values(values, secrets, key) for key, values in rendered.items()}
    return hub, model, final


def _validator(shared_schemas: Path, chart: str) -> tuple[jsonschema.Draft7Validator, dict]:
    schema = load_yaml(shared_schemas / f"{chart}.values.schema.yaml")
    defaults = load_yaml(shared_schemas / f"{chart}.values.yaml")
    return jsonschema.Draft7Validator(schema), defaults


@pytest.mark.parametrize("chart", SCHEMA_CHARTS)
def test_values_validate_against_real_schema(any_hub, shared_schemas: Path, chart: str) -> None:
    hub, _, final = any_hub
    validator, defaults = _validator(shared_schemas, chart)
    merged = merged_with_defaults(defaults, final[chart])
    # helm validates JSON: round-trip to catch types YAML would not carry.
    merged = json.loads(json.dumps(merged))
    errors = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
    assert not errors, f"{hub.name} {chart}: " + "; ".join(
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.mark.parametrize("chart", SCHEMA_CHARTS)
def test_chart_defaults_alone_validate(shared_schemas: Path, chart: str) -> None:
    validator, defaults = _validator(shared_schemas, chart)
    assert not list(validator.iter_errors(defaults))


def test_schema_catches_a_misspelt_key(shared_schemas: Path) -> None:
    """The check above would notice a toolkit key the chart does not have."""
    validator, defaults = _validator(shared_schemas, "binderhub-service")
    merged = merged_with_defaults(defaults, {"dockerAPI": {"nodeSelector": {}}})
    assert list(validator.iter_errors(merged))


def test_demo_hubs_cover_both_kinds() -> None:
    kinds = set()
    for name in DEMO_HUBS:
        hub = inventory_hub(name)
        kinds.add((hub.registry_pull_secret_required, bool(hub.variables.get("hub_dask_gateway_enabled"))))
    assert {(True, True), (False, False)} <= kinds


def test_binder_service_wiring(demo) -> None:
    _, model, final = demo
    hub = final["jupyterhub"]["hub"]
    binder = hub["services"]["binder"]
    assert binder["url"] == binderhub_service_url("binderhub-service", model.hub.namespace, 80)
    assert binder["url"] == f"http://binderhub.{model.hub.namespace}:80"
    assert binder["oauth_client_id"] == "service-binder"
    assert binder["oauth_redirect_uri"] == f"https://{model.hub.domain}/services/binder/oauth_callback"
    assert binder["oauth_no_confirm"] is True
    assert binder["apiToken"] == PLACEHOLDER_TOKEN
    assert hub["loadRoles"]["user"]["scopes"] == ["self", "access:services!service=binder"]
    assert FANCY_PROFILES_SNIPPET in hub["extraConfig"].values()
    assert "jupyterhub_fancy_profiles" in FANCY_PROFILES_SNIPPET and "setup_ui(c)" in FANCY_PROFILES_SNIPPET
    assert hub["image"] == {"name": "quay.io/2i2c/pilot-hub", "tag": DEFAULTS["jupyterhub_hub_image"]["tag"]}


def test_binderhub_wiring(demo) -> None:
    hub_vars, model, final = demo
    values = final["binderhub-service"]
    binderhub = values["config"]["BinderHub"]
    assert binderhub["base_url"] == "/services/binder"
    assert binderhub["use_registry"] is True
    assert binderhub["auth_enabled"] is True
    assert binderhub["enable_api_only_mode"] is True
    assert binderhub["image_prefix"] == f"127.0.0.1:5443/local-{model.hub.name}/"
    assert binderhub["hub_url"] == f"https://{model.hub.domain}/"
    # The token BinderHub uses is the hub's binder service token.
    assert binderhub["hub_api_token"] == final["jupyterhub"]["hub"]["services"]["binder"]["apiToken"]
    oauth = values["config"]["HubOAuth"]
    assert oauth["oauth_client_id"] == "service-binder"
    assert oauth["oauth_redirect_uri"] == final["jupyterhub"]["hub"]["services"]["binder"]["oauth_redirect_uri"]
    assert oauth["api_url"] == f"http://hub.{model.hub.namespace}.svc.cluster.local:8081/hub/api/"
    registry = values["config"]["DockerRegistry"]
    assert registry == {"url": "https://127.0.0.1:5443", "username": model.hub.name, "password": PLACEHOLDER_PASSWORD}
    assert values["buildPodsRegistryCredentials"] == {"server": registry["url"], "username": registry["username"],
                                                      "password": PLACEHOLDER_PASSWORD}
    user_pool = hub_vars.variables["cluster_node_pools"]["user"]
    assert values["config"]["KubernetesBuildExecutor"]["node_selector"] == user_pool
    assert values["dockerApi"]["nodeSelector"] == user_pool
    assert values["dockerApi"]["storage"] == {"emptyDir": {"sizeLimit": "15Gi"}}
    assert values["nodeSelector"] == hub_vars.variables["cluster_node_pools"]["core"]


def test_node_selectors(demo) -> None:
    hub_vars, _, final = demo
    pools = hub_vars.variables["cluster_node_pools"]
    values = final["jupyterhub"]
    assert values["hub"]["nodeSelector"] == pools["core"]
    assert values["proxy"]["chp"]["nodeSelector"] == pools["core"]
    assert values["scheduling"]["userScheduler"]["nodeSelector"] == pools["core"]
    assert values["singleuser"]["nodeSelector"] == pools["user"]


def test_pull_secret_and_dask_gateway(demo) -> None:
    hub_vars, model, final = demo
    if hub_vars.registry_pull_secret_required:
        pull = final["jupyterhub"]["imagePullSecret"]
        assert pull["create"] is True and pull["registry"] == "127.0.0.1:5443"
        assert pull["password"] == PLACEHOLDER_PASSWORD
    else:
        assert "imagePullSecret" not in final["jupyterhub"]
    if model.hub.dask_gateway_enabled:
        backend = final["dask-gateway"]["gateway"]["backend"]
        expected = [{"name": "image-pull-secret"}] if hub_vars.registry_pull_secret_required else None
        assert backend.get("imagePullSecrets") == expected
        assert final["jupyterhub"]["hub"]["services"]["dask-gateway"]["url"] == (
            f"http://traefik-{model.hub.name}-dask-gateway.{model.hub.namespace}:80")
    else:
        assert "dask-gateway" not in final


def test_no_registry_password_in_rendered_values(demo) -> None:
    hub_vars, model, _ = demo
    rendered = render_values(model, registry_view(local_registry_definition(hub_vars), model.hub.name))
    assert PLACEHOLDER_PASSWORD not in json.dumps(rendered)


def test_research_values_file_is_layered() -> None:
    hub = inventory_hub("research")
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    values = render_values(model, registry_view(local_registry_definition(hub), "research"))
    assert values["jupyterhub"]["cull"] == {"timeout": 7200}
    assert values["jupyterhub"]["singleuser"]["defaultUrl"] == "/lab"
    # Toolkit values stay beside the file's.
    assert values["jupyterhub"]["singleuser"]["profileList"]
    assert values["binderhub-service"]["resources"]["requests"]["cpu"] == "100m"


def test_nfs_storage_renders_static_pvc_and_objects() -> None:
    hub = inventory_hub("research")
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    values = render_values(model, registry_view(local_registry_definition(hub), "research"))
    storage = values["jupyterhub"]["singleuser"]["storage"]
    assert storage["type"] == "static"
    assert storage["static"] == {"pvcName": "home-nfs", "subPath": "{username}"}
    assert storage["extraVolumeMounts"][0]["name"] == "home"
    volume, claim = nfs_objects(model)
    assert volume["kind"] == "PersistentVolume" and volume["spec"]["nfs"] == {"server": "10.96.0.200",
                                                                              "path": "/exports/research"}
    assert claim["kind"] == "PersistentVolumeClaim" and claim["metadata"] == {
        "name": "home-nfs", "namespace": "research", "labels": volume["metadata"]["labels"]}
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"]


def test_dynamic_storage() -> None:
    hub = inventory_hub("staging")
    model = build_model(hub.variables, base_dir=hub.inventory_dir)
    values = render_values(model, registry_view(local_registry_definition(hub), "staging"))
    assert values["jupyterhub"]["singleuser"]["storage"] == {"type": "dynamic", "capacity": "1Gi",
                                                             "homeMountPath": "/home/jovyan"}
    assert nfs_objects(model) == []


def test_deep_merge_is_helms() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    assert deep_merge(base, {"a": {"c": [3]}, "d": None}) == {"a": {"b": 1, "c": [3]}, "d": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}  # not modified
    layered = layer_values({"jupyterhub": {"x": {"y": 1}}}, [{"jupyterhub": {"x": {"z": 2}}}, {"jupyterhub": {"x": {"y": 3}}}])
    assert layered == {"jupyterhub": {"x": {"y": 3, "z": 2}}}


def test_release_values_maps_binder_token_only_for_binderhub() -> None:
    secrets = {"jupyterhub": {"hub": {"services": {"binder": {"apiToken": "t"}}}}, "binderhub-service": {"a": 1}}
    assert release_values({"config": {}}, secrets, "binderhub-service") == {
        "config": {"BinderHub": {"hub_api_token": "t"}}, "a": 1}
    assert release_values({}, secrets, "dask-gateway") == {}
    assert release_values({"hub": {"x": 1}}, secrets, "jupyterhub")["hub"] == {
        "x": 1, "services": {"binder": {"apiToken": "t"}}}


def test_missing_secret_keys_names_only() -> None:
    assert missing_secret_keys({"a": {"b": ""}}, ["a.b", "a.c", "x"]) == ["a.b", "a.c", "x"]
    assert missing_secret_keys({"a": {"b": "v"}}, ["a.b"]) == []


@pytest.mark.parametrize(("change", "message"), [
    ({"password": "p", "host": ""}, "registry_definition.host"),
    ({"pull_secret_required": "yes"}, "registry_definition.pull_secret_required"),
    ({"image_prefix": "quay.io/other/x-"}, "registry_definition.image_prefix"),
])
def test_registry_view_errors(change: dict, message: str) -> None:
    definition = {"type": "generic", "host": "127.0.0.1:5443", "url": "https://127.0.0.1:5443",
                  "image_prefix": "127.0.0.1:5443/local-x/", "username": "x", "pull_secret_required": False}
    with pytest.raises(ValueError, match=rf"hub 'x': {message}"):
        registry_view({**definition, **change}, "x")


def test_registry_view_drops_password_and_reads_ca(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    definition = {"type": "generic", "host": "h:1", "url": "https://h:1", "image_prefix": "h:1/p/",
                  "username": "u", "password": "s3cr3t-pw", "ca_file": str(ca), "pull_secret_required": True}
    view = registry_view(definition, "x")
    assert "s3cr3t-pw" not in repr(view) and not hasattr(view, "password")
    assert view.ca_cert == ca.read_text()
    # A view made again from a view (the roles' input) keeps the CA; the file is not read again.
    ca.unlink()
    assert registry_view({**asdict(view)}, "x").ca_cert == view.ca_cert
    with pytest.raises(ValueError, match=r"hub 'x': registry_definition.ca_file \(.*\): cannot be read"):
        registry_view(definition, "x")
    ca.write_text("not a certificate")
    with pytest.raises(ValueError, match=r"hub 'x': registry_definition.ca_file .*holds no PEM certificate"):
        registry_view(definition, "x")


def _role_file(repo_root: Path, role: str, path: str) -> dict:
    return yaml.safe_load((repo_root / "roles" / role / path).read_text(encoding="utf-8"))


@pytest.mark.parametrize("role", ["jupyterhub", "binderhub_service"])
def test_role_readme_and_argument_specs_list_every_variable(repo_root: Path, role: str) -> None:
    readme = (repo_root / "roles" / role / "README.md").read_text(encoding="utf-8")
    specs = _role_file(repo_root, role, "meta/argument_specs.yml")["argument_specs"]
    # playbooks/hub.yml validates with main's options: the jupyterhub role's other entry points take
    # those, and companions the one input the playbook wires (which companion releases it deploys).
    assert set(specs) == ({"main", "companions", "takeover"} if role == "jupyterhub" else {"main"})
    options = specs["main"]["options"]
    for entry_point, spec in specs.items():
        for name in spec.get("options") or {}:
            assert name in options or (entry_point, name) == ("companions", "jupyterhub_companions_order"), name
    for name in _role_file(repo_root, role, "defaults/main.yml"):
        assert f"`{name}`" in readme, f"roles/{role}/README.md does not list {name}"
        assert name in options, f"roles/{role}/meta/argument_specs.yml does not declare {name}"


def test_redact_replaces_secret_values_plain_and_base64() -> None:
    import base64

    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.redaction import REDACTED, redact

    secrets = {"jupyterhub": {"hub": {"services": {"binder": {"apiToken": "tok3n-value"}}}}, "x": ["pw-123"], "n": 5}
    encoded = base64.b64encode(b"pw-123").decode()
    text = f"Error: token tok3n-value rejected; data {encoded}; pw-123 again"
    assert redact(text, secrets) == f"Error: token {REDACTED} rejected; data {REDACTED}; {REDACTED} again"
    assert redact("nothing secret", {}) == "nothing secret"
    # A username (here also the namespace) is not a secret and stays readable.
    pull = {"jupyterhub": {"imagePullSecret": {"username": "research", "password": "pull-pw-1"}}}
    assert redact("research: pull-pw-1", pull) == f"research: {REDACTED}"


def test_plain_turns_subclasses_into_builtin_types() -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import plain

    class Tagged(str):
        pass

    value = plain({Tagged("a"): [Tagged("b"), 1, 2.5, True, None, (Tagged("c"),)]})
    assert value == {"a": ["b", 1, 2.5, True, None, ["c"]]}
    assert type(next(iter(value))) is str and type(value["a"][0]) is str
    yaml.safe_dump(value)


def test_config_snippets_run() -> None:
    """The hub's fancy-profiles snippet compiles; BinderHub's gives HubOAuth the shared token."""
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.binderhub import BINDER_TOKEN_SNIPPET
    from traitlets.config import Config

    compile(FANCY_PROFILES_SNIPPET, "fancy-profiles", "exec")
    config = Config()
    config.BinderHub.update({"hub_api_token": "shared-token"})
    exec(compile(BINDER_TOKEN_SNIPPET, "binder-token", "exec"), {"c": config})  # noqa: S102 - the snippet under test
    assert config.HubOAuth.api_token == "shared-token"
    empty = Config()
    exec(compile(BINDER_TOKEN_SNIPPET, "binder-token", "exec"), {"c": empty})  # noqa: S102 - the snippet under test
    assert "api_token" not in empty.HubOAuth


def test_registry_ca_reaches_binderhub_and_docker_api(demo) -> None:
    """The demo registry has its own CA: BinderHub's config carries it (read by the CA snippet) and
    docker-api mounts it where dockerd looks for the registry host's CA."""
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry_ca import CA_SNIPPET

    _, _, final = demo
    values = final["binderhub-service"]
    ca = (Path(__file__).resolve().parent.parent / ".local" / "cluster" / "pki" / "ca.crt").read_text()
    assert values["custom"]["imagebuildingHubs"]["registryCACert"].strip() == ca.strip()
    assert values["extraConfig"]["ibh-02-registry-ca"] == CA_SNIPPET
    assert values["dockerApi"]["extraFiles"] == {"registry-ca.crt": {
        "mountPath": "/etc/docker/certs.d/127.0.0.1:5443/ca.crt",
        "stringData": values["custom"]["imagebuildingHubs"]["registryCACert"]}}
    # Nothing of the CA goes to the hub: JupyterHub never talks to the registry.
    assert "BEGIN CERTIFICATE" not in json.dumps(final["jupyterhub"])


def test_public_registry_gets_no_ca_values() -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.registry_ca import registry_ca_values

    view = registry_view({"type": "quay", "host": "quay.io", "url": "https://quay.io", "image_prefix": "quay.io/o/c-h-",
                          "username": "o+r", "pull_secret_required": True}, "x")
    assert view.ca_cert == ""
    assert registry_ca_values(view) == {}
