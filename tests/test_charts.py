"""The stand-in charts in charts/: what they render, and that they validate like the real ones.

Each test renders a copy of charts/ with `helm template` after
scripts/place-chart-schemas.py has put the real charts' schemas (../shared/schemas)
into it, so helm validates the values exactly as the real charts would.
"""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ansible.module_utils import chart_names

KUBE_VERSION = "1.36.3"
NAMESPACE = "research"
REGISTRY = {"server": "https://quay.io", "username": "example+research", "password": "robot-password"}
CORE = {"hub.jupyter.org/node-purpose": "core"}
USER = {"hub.jupyter.org/node-purpose": "user"}
BINDER_TOKEN = "0123456789abcdef" * 4

# Values a hub of the toolkit gives each chart (see DESIGN.md): dynamic image building
# against quay.io, so a pull secret is created, and builds are kept on the user pool.
JUPYTERHUB_VALUES: dict[str, Any] = {
    "hub": {
        "image": {"name": "quay.io/2i2c/pilot-hub", "tag": "0.0.1-0.dev.git.1.h0000000"},
        "nodeSelector": CORE,
        "db": {"type": "sqlite-memory"},
        "config": {
            "JupyterHub": {"authenticator_class": "github"},
            "GitHubOAuthenticator": {"allowed_organizations": ["example"]},
        },
        "services": {
            "binder": {
                "url": "http://binderhub.research:80",
                "oauth_client_id": "service-binder",
                "oauth_redirect_uri": "https://research.example.org/services/binder/oauth_callback",
                "oauth_no_confirm": True,
                "apiToken": BINDER_TOKEN,
            },
        },
        "loadRoles": {"user": {"scopes": ["self", "access:services!service=binder"]}},
        "extraConfig": {"fancy-profiles": "from jupyterhub_fancy_profiles import setup_ui\nsetup_ui(c)\n"},
    },
    "proxy": {"service": {"type": "ClusterIP"}, "chp": {"nodeSelector": CORE}},
    "imagePullSecret": {"create": True, "registry": "quay.io", "username": REGISTRY["username"], "password": "pull-password"},
    "singleuser": {
        "nodeSelector": USER,
        "storage": {"capacity": "10Gi", "dynamic": {"storageClass": "standard"}},
        "profileList": [{"display_name": "Image", "slug": "image", "profile_options": {}}],
    },
    "scheduling": {"userScheduler": {"enabled": False}, "userPlaceholder": {"enabled": False}},
    "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
}

BINDERHUB_VALUES: dict[str, Any] = {
    "config": {
        "BinderHub": {
            "base_url": "/services/binder",
            "use_registry": True,
            "auth_enabled": True,
            "enable_api_only_mode": True,
            "image_prefix": "quay.io/example/cluster-research-",
        },
        "DockerRegistry": {"url": "https://quay.io", "username": REGISTRY["username"], "password": REGISTRY["password"]},
        "KubernetesBuildExecutor": {"node_selector": USER},
    },
    "buildPodsRegistryCredentials": REGISTRY,
    "nodeSelector": CORE,
    "dockerApi": {"nodeSelector": USER, "storage": {"emptyDir": {"sizeLimit": "15Gi"}}},
    "extraEnv": [
        {"name": "JUPYTERHUB_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hub", "key": "hub.services.binder.apiToken"}}},
    ],
}


# --- helpers -------------------------------------------------------------------------------


def merged(base: object, override: object) -> object:
    """Merge like helm merges values with chart defaults: dicts key by key, lists and scalars replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = dict(base)
        for key, value in override.items():
            result[key] = merged(base[key], value) if key in base else copy.deepcopy(value)
        return result
    return copy.deepcopy(override)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = merged(base, override)
    assert isinstance(result, dict)
    return result


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def schema_errors(schema: dict[str, Any], values: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values))


def helm_env(base: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(base),
        "HELM_CACHE_HOME": str(base / "cache"),
        "HELM_CONFIG_HOME": str(base / "config"),
        "HELM_DATA_HOME": str(base / "data"),
    }


class Helm:
    """`helm template` of one chart directory with values given as a dict."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir

    def run(self, chart: Path, values: dict[str, Any], release: str) -> subprocess.CompletedProcess[str]:
        values_file = self.workdir / f"values-{chart.name}-{release}.yaml"
        values_file.write_text(yaml.safe_dump(values), encoding="utf-8")
        argv = [
            str(self.binary),
            "template",
            release,
            str(chart),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
            "--values",
            str(values_file),
        ]
        return subprocess.run(argv, capture_output=True, text=True, check=False, env=helm_env(self.workdir), timeout=120)

    def render(self, chart: Path, values: dict[str, Any], release: str = "release") -> dict[tuple[str, str], dict[str, Any]]:
        proc = self.run(chart, values, release)
        assert proc.returncode == 0, proc.stderr
        docs = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
        return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}

    def rejects(self, chart: Path, values: dict[str, Any]) -> str:
        proc = self.run(chart, values, "release")
        assert proc.returncode != 0, f"helm accepted {values}"
        return proc.stderr


def place_schemas(repo_root: Path, schemas: Path, charts: Path) -> subprocess.CompletedProcess[str]:
    script = repo_root / "scripts" / "place-chart-schemas.py"
    argv = [sys.executable, str(script), "--schemas", str(schemas), "--charts", str(charts)]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def secret_text(secret: dict[str, Any], key: str) -> str:
    if key in secret.get("stringData", {}):
        return secret["stringData"][key]
    return base64.b64decode(secret["data"][key]).decode()


def container_env(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {env["name"]: env.get("value", env.get("valueFrom")) for env in pod_spec["containers"][0].get("env", [])}


def volume(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in pod_spec["volumes"] if v["name"] == name)


def required_object_paths(schema: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths of the objects (below the top level) whose schema lists `required` keys."""
    if path and schema.get("required"):
        yield path
    for key, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield from required_object_paths(sub, (*path, key))


def nested(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    value = leaf
    for key in reversed(path):
        value = {key: value}
    return value


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def charts_copy(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """A copy of charts/ without schemas."""
    target = tmp_path_factory.mktemp("charts-plain") / "charts"
    shutil.copytree(repo_root / "charts", target, ignore=shutil.ignore_patterns("values.schema.json"))
    return target


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, shared_schemas: Path) -> Path:
    """A copy of charts/ with the real schemas placed by scripts/place-chart-schemas.py."""
    target = tmp_path_factory.mktemp("charts-placed") / "charts"
    shutil.copytree(repo_root / "charts", target, ignore=shutil.ignore_patterns("values.schema.json"))
    proc = place_schemas(repo_root, shared_schemas, target)
    assert proc.returncode == 0, proc.stderr
    return target


@pytest.fixture(scope="module")
def helm(tool_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(tool_bin / "helm", tmp_path_factory.mktemp("helm"))


@pytest.fixture(scope="module")
def binderhub(helm: Helm, charts: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return helm.render(charts / "binderhub-service", BINDERHUB_VALUES, release="binderhub-service")


@pytest.fixture(scope="module")
def jupyterhub(helm: Helm, charts: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return helm.render(charts / "jupyterhub", JUPYTERHUB_VALUES, release="jupyterhub")


# --- schema placement ----------------------------------------------------------------------


def test_placed_schema_is_the_shared_schema_as_json(charts: Path, shared_schemas: Path) -> None:
    for chart in ("jupyterhub", "binderhub-service"):
        placed = json.loads((charts / chart / "values.schema.json").read_text(encoding="utf-8"))
        assert placed == load_yaml(shared_schemas / f"{chart}.values.schema.yaml")
    assert not (charts / "dask-gateway" / "values.schema.json").exists()


def test_placing_without_schemas_folder_says_so_and_succeeds(repo_root: Path, tmp_path: Path) -> None:
    shutil.copytree(repo_root / "charts", tmp_path / "charts", ignore=shutil.ignore_patterns("values.schema.json"))
    proc = place_schemas(repo_root, tmp_path / "no-such-folder", tmp_path / "charts")
    assert proc.returncode == 0
    assert "no-such-folder is missing" in proc.stdout
    assert not list((tmp_path / "charts").glob("*/values.schema.json"))


# --- binderhub-service ---------------------------------------------------------------------


def test_docker_api_runs_on_build_nodes_with_a_bounded_cache(binderhub: dict) -> None:
    spec = binderhub[("DaemonSet", "docker-api")]["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == USER
    assert volume(spec, "data") == {"name": "data", "emptyDir": {"sizeLimit": "15Gi"}}
    assert f"--host=unix:///var/run/{NAMESPACE}-binderhub-service/docker-api/docker-api.sock" in spec["containers"][0]["args"]


def test_docker_api_cache_defaults_to_a_host_directory(helm: Helm, charts: Path) -> None:
    values = copy.deepcopy(BINDERHUB_VALUES)
    del values["dockerApi"]["storage"]
    spec = helm.render(charts / "binderhub-service", values)[("DaemonSet", "docker-api")]["spec"]["template"]["spec"]
    assert volume(spec, "data")["hostPath"]["path"] == f"/var/lib/{NAMESPACE}-release/docker-api"


def test_build_pods_push_with_the_registry_credentials(binderhub: dict) -> None:
    secret = binderhub[("Secret", "build-pods-docker-config")]
    config = json.loads(secret_text(secret, "config.json"))
    auth = base64.b64decode(config["auths"][REGISTRY["server"]]["auth"]).decode()
    assert auth == f"{REGISTRY['username']}:{REGISTRY['password']}"
    env = container_env(binderhub[("Deployment", "binderhub")]["spec"]["template"]["spec"])
    assert env["PUSH_SECRET_NAME"] == secret["metadata"]["name"]


def test_build_pods_get_no_credentials_without_use_registry(helm: Helm, charts: Path) -> None:
    values = deep_merge(BINDERHUB_VALUES, {"config": {"BinderHub": {"use_registry": False}}})
    secret = helm.render(charts / "binderhub-service", values)[("Secret", "build-pods-docker-config")]
    assert json.loads(secret_text(secret, "config.json")) == {}


def test_binderhub_config_secret_holds_config_and_extra_config(helm: Helm, charts: Path) -> None:
    values = deep_merge(BINDERHUB_VALUES, {"extraConfig": {"10-log": "c.BinderHub.log_level = 'DEBUG'\n"}})
    objects = helm.render(charts / "binderhub-service", values)
    chart_config = yaml.safe_load(secret_text(objects[("Secret", "binderhub")], "chart-config.yaml"))
    assert chart_config["config"]["BinderHub"]["image_prefix"] == "quay.io/example/cluster-research-"
    assert chart_config["config"]["DockerRegistry"] == BINDERHUB_VALUES["config"]["DockerRegistry"]
    assert chart_config["extraConfig"] == {"10-log": "c.BinderHub.log_level = 'DEBUG'\n"}
    assert "binderhub_config.py" in objects[("Secret", "binderhub")]["stringData"]


def test_binderhub_pod_placement_env_and_probe(binderhub: dict) -> None:
    spec = binderhub[("Deployment", "binderhub")]["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == CORE
    container = spec["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/services/binder/versions"
    assert container["ports"] == [{"name": "http", "containerPort": 8585}]
    assert container_env(spec)["JUPYTERHUB_API_TOKEN"] == {"secretKeyRef": {"name": "hub", "key": "hub.services.binder.apiToken"}}


@pytest.mark.parametrize(
    ("release", "overrides"),
    [
        ("binderhub-service", {}),
        ("bhs", {"fullnameOverride": None}),
        ("research-binderhub-service", {"fullnameOverride": None}),
        ("bhs", {"fullnameOverride": "research"}),
        ("bhs", {"fullnameOverride": None, "nameOverride": "binder"}),
    ],
)
def test_binderhub_object_names_match_chart_names(helm: Helm, charts: Path, release: str, overrides: dict) -> None:
    values = deep_merge(BINDERHUB_VALUES, {"service": {"port": 8090}})
    values.update(overrides)
    objects = helm.render(charts / "binderhub-service", values, release=release)
    naming = {"fullname_override": overrides.get("fullnameOverride", ""), "name_override": overrides.get("nameOverride")}
    service_name = chart_names.binderhub_service_name(release, **naming)
    service = objects[("Service", service_name)]
    assert ("Deployment", service_name) in objects
    assert ("DaemonSet", chart_names.docker_api_name(release, **naming)) in objects
    assert ("Secret", chart_names.build_pods_docker_config_name(release, **naming)) in objects
    port = service["spec"]["ports"][0]["port"]
    url = chart_names.binderhub_service_url(release, NAMESPACE, port, **naming)
    assert url == f"http://{service['metadata']['name']}.{NAMESPACE}:8090"


def test_binderhub_network_policies_follow_the_flag(helm: Helm, charts: Path, binderhub: dict) -> None:
    assert ("NetworkPolicy", "binderhub-builder-network-policy") in binderhub
    assert ("NetworkPolicy", "binderhub-dind-network-policy") in binderhub
    values = deep_merge(BINDERHUB_VALUES, {"networkPolicy": {"enabled": False}, "rbac": {"create": False}})
    kinds = {kind for kind, _ in helm.render(charts / "binderhub-service", values)}
    assert "NetworkPolicy" not in kinds
    assert "Role" not in kinds


def test_binderhub_service_account_is_bound_to_the_role(binderhub: dict) -> None:
    binding = binderhub[("RoleBinding", "binderhub")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "binderhub", "namespace": NAMESPACE}]
    assert ("ServiceAccount", "binderhub") in binderhub
    assert binderhub[("Deployment", "binderhub")]["spec"]["template"]["spec"]["serviceAccountName"] == "binderhub"


# --- jupyterhub ----------------------------------------------------------------------------


def test_hub_deployment_is_labelled_and_placed_like_z2jh(jupyterhub: dict) -> None:
    deployment = jupyterhub[("Deployment", "hub")]
    selector = {"component": "hub", "app": "jupyterhub", "release": "jupyterhub"}
    assert deployment["spec"]["selector"]["matchLabels"] == selector
    pod = deployment["spec"]["template"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["nodeSelector"] == CORE
    assert pod["spec"]["containers"][0]["image"] == "quay.io/2i2c/pilot-hub:0.0.1-0.dev.git.1.h0000000"
    assert "pvc" not in {v["name"] for v in pod["spec"]["volumes"]}
    assert jupyterhub[("Service", "hub")]["spec"]["ports"][0]["port"] == chart_names.HUB_SERVICE_PORT


def test_hub_secret_holds_the_merged_values_and_service_tokens(jupyterhub: dict, repo_root: Path) -> None:
    secret = jupyterhub[("Secret", "hub")]
    stored = yaml.safe_load(secret_text(secret, chart_names.HUB_CHART_VALUES_KEY))
    defaults = load_yaml(repo_root / "charts" / "jupyterhub" / "values.yaml")
    expected = deep_merge(defaults, JUPYTERHUB_VALUES)
    assert {k: v for k, v in stored.items() if k not in ("Chart", "Release")} == expected
    assert stored["Release"] == {"Name": "jupyterhub", "Namespace": NAMESPACE, "Service": "Helm"}
    assert secret_text(secret, chart_names.hub_service_api_token_key("binder")) == BINDER_TOKEN
    generated_keys = ("JupyterHub.cookie_secret", "CryptKeeper.keys", "ConfigurableHTTPProxy.auth_token")
    for key in (f"hub.config.{name}" for name in generated_keys):
        generated = secret_text(secret, key)
        assert len(generated) == 64
        int(generated, 16)


def test_given_secrets_win_over_generated_ones(helm: Helm, charts: Path) -> None:
    given = {"JupyterHub": {"cookie_secret": "ab" * 32}, "CryptKeeper": {"keys": ["k1", "k2"]}}
    values = deep_merge(JUPYTERHUB_VALUES, {"hub": {"config": given}})
    secret = helm.render(charts / "jupyterhub", values)[("Secret", "hub")]
    assert secret_text(secret, "hub.config.JupyterHub.cookie_secret") == "ab" * 32
    assert secret_text(secret, "hub.config.CryptKeeper.keys") == "k1;k2"


def test_image_pull_secret_is_a_docker_config_for_the_registry(jupyterhub: dict) -> None:
    secret = jupyterhub[("Secret", chart_names.image_pull_secret_name("jupyterhub"))]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    entry = json.loads(secret_text(secret, ".dockerconfigjson"))["auths"]["quay.io"]
    assert (entry["username"], entry["password"]) == (REGISTRY["username"], "pull-password")
    assert base64.b64decode(entry["auth"]).decode() == f"{REGISTRY['username']}:pull-password"
    for name in ("hub", "proxy"):
        pod = jupyterhub[("Deployment", name)]["spec"]["template"]["spec"]
        assert {"name": "image-pull-secret"} in pod["imagePullSecrets"]


def test_no_image_pull_secret_unless_asked(helm: Helm, charts: Path) -> None:
    values = {k: v for k, v in JUPYTERHUB_VALUES.items() if k != "imagePullSecret"}
    objects = helm.render(charts / "jupyterhub", values)
    assert ("Secret", "image-pull-secret") not in objects
    assert "imagePullSecrets" not in objects[("Deployment", "hub")]["spec"]["template"]["spec"]


def test_proxy_services_and_deployment(jupyterhub: dict) -> None:
    public = jupyterhub[("Service", chart_names.proxy_public_name("jupyterhub"))]
    assert public["spec"]["type"] == "ClusterIP"
    assert public["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    assert public["spec"]["selector"] == {"component": "proxy", "app": "jupyterhub", "release": "jupyterhub"}
    assert jupyterhub[("Service", "proxy-api")]["spec"]["ports"] == [{"port": 8001, "targetPort": "api"}]
    proxy = jupyterhub[("Deployment", "proxy")]["spec"]["template"]["spec"]
    assert proxy["nodeSelector"] == CORE
    assert "--default-target=http://hub:$(HUB_SERVICE_PORT)" in proxy["containers"][0]["args"]


def test_network_policies_follow_their_flags(helm: Helm, charts: Path, jupyterhub: dict) -> None:
    names = {name for kind, name in jupyterhub if kind == "NetworkPolicy"}
    assert names == {"hub", "proxy", "singleuser"}
    singleuser = jupyterhub[("NetworkPolicy", "singleuser")]["spec"]["podSelector"]["matchLabels"]
    assert singleuser["component"] == "singleuser-server"
    off = {"hub": {"networkPolicy": {"enabled": False}}, "singleuser": {"networkPolicy": {"enabled": False}}}
    objects = helm.render(charts / "jupyterhub", deep_merge(JUPYTERHUB_VALUES, off))
    assert {name for kind, name in objects if kind == "NetworkPolicy"} == {"proxy"}


def test_ingress_routes_the_hub_domain_to_proxy_public(helm: Helm, charts: Path, jupyterhub: dict) -> None:
    assert "Ingress" not in {kind for kind, _ in jupyterhub}
    ingress = {"enabled": True, "hosts": ["research.example.org"], "ingressClassName": "nginx"}
    ingress["tls"] = [{"hosts": ["research.example.org"], "secretName": "research-tls"}]
    objects = helm.render(charts / "jupyterhub", deep_merge(JUPYTERHUB_VALUES, {"ingress": ingress}), release="jupyterhub")
    spec = objects[("Ingress", "jupyterhub")]["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == ingress["tls"]
    rule = spec["rules"][0]
    assert rule["host"] == "research.example.org"
    path = rule["http"]["paths"][0]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"]["service"] == {"name": "proxy-public", "port": {"name": "http"}}


def test_hub_service_account_and_role(jupyterhub: dict) -> None:
    assert ("ServiceAccount", "hub") in jupyterhub
    binding = jupyterhub[("RoleBinding", "hub")]
    assert binding["subjects"][0]["name"] == "hub"
    assert jupyterhub[("Deployment", "hub")]["spec"]["template"]["spec"]["serviceAccountName"] == "hub"


def test_hub_database_volume_with_sqlite_pvc(helm: Helm, charts: Path) -> None:
    values = deep_merge(JUPYTERHUB_VALUES, {"hub": {"db": {"type": "sqlite-pvc", "pvc": {"storage": "2Gi"}}}})
    objects = helm.render(charts / "jupyterhub", values)
    assert objects[("PersistentVolumeClaim", "hub-db-dir")]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    pod = objects[("Deployment", "hub")]["spec"]["template"]["spec"]
    assert volume(pod, "pvc")["persistentVolumeClaim"]["claimName"] == "hub-db-dir"


@pytest.mark.parametrize(
    ("release", "fullname_override"),
    [("jupyterhub", ""), ("research", None), ("research-jupyterhub", None), ("x", "staging")],
)
def test_jupyterhub_object_names_match_chart_names(helm: Helm, charts: Path, release: str, fullname_override: str | None) -> None:
    values = deep_merge(JUPYTERHUB_VALUES, {"fullnameOverride": fullname_override})
    objects = helm.render(charts / "jupyterhub", values, release=release)
    hub = chart_names.hub_name(release, fullname_override)
    assert {("Deployment", hub), ("Service", hub), ("Secret", hub)} <= objects.keys()
    assert ("Service", chart_names.proxy_public_name(release, fullname_override)) in objects
    assert ("Secret", chart_names.image_pull_secret_name(release, fullname_override)) in objects


# --- dask-gateway --------------------------------------------------------------------------


def test_dask_gateway_passes_the_pull_secret_to_its_dask_pods(helm: Helm, charts: Path) -> None:
    values = {"gateway": {"backend": {"imagePullSecrets": [{"name": "image-pull-secret"}]}, "imagePullSecrets": ["gateway-pull"]}}
    objects = helm.render(charts / "dask-gateway", values, release="dask-gateway")
    name = chart_names.dask_gateway_api_name("dask-gateway")
    settings = json.loads(objects[("ConfigMap", name)]["data"]["gateway-settings.json"])
    assert settings["backend"]["imagePullSecrets"] == [{"name": "image-pull-secret"}]
    pod = objects[("Deployment", name)]["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "gateway-pull"}]
    assert objects[("Service", name)]["spec"]["ports"][0]["port"] == chart_names.DASK_GATEWAY_API_PORT


@pytest.mark.parametrize(
    ("release", "fullname_override"), [("research", ""), ("dask-gateway", ""), ("research", "dg"), ("r" * 50, "")]
)
def test_dask_gateway_names_match_chart_names(helm: Helm, charts: Path, release: str, fullname_override: str) -> None:
    values = {"fullnameOverride": fullname_override, "traefik": {"service": {"type": "ClusterIP"}}}
    objects = helm.render(charts / "dask-gateway", values, release=release)
    api = chart_names.dask_gateway_api_name(release, fullname_override)
    traefik = chart_names.dask_gateway_traefik_name(release, fullname_override)
    assert {("Deployment", api), ("Service", api), ("Deployment", traefik)} <= objects.keys()
    ports = objects[("Service", traefik)]["spec"]["ports"]
    assert ports == [{"name": "web", "port": chart_names.DASK_GATEWAY_TRAEFIK_PORT, "targetPort": 8000}]


# --- schema validation by helm -------------------------------------------------------------


@pytest.mark.parametrize(
    ("chart", "values", "message"),
    [
        ("jupyterhub", {"hubb": {"nodeSelector": CORE}}, "hubb"),
        ("jupyterhub", {"hub": {"nodeSelectors": CORE}}, "nodeSelectors"),
        ("jupyterhub", {"singleuser": {"storage": {"capacity": 10}}}, "capacity"),
        ("jupyterhub", {"hub": {"db": {"type": "sqlite"}}}, "type"),
        ("jupyterhub", {"imagePullSecret": {"registry": None}}, "registry"),
        ("binderhub-service", {"dockerAPI": {"nodeSelector": USER}}, "dockerAPI"),
        ("binderhub-service", {"service": {"port": "eighty"}}, "port"),
        ("binderhub-service", {"buildPodsRegistryCredentials": {"password": 7}}, "password"),
    ],
)
def test_helm_rejects_values_the_real_schema_rejects(
    helm: Helm, charts: Path, charts_copy: Path, shared_schemas: Path, chart: str, values: dict, message: str
) -> None:
    base = JUPYTERHUB_VALUES if chart == "jupyterhub" else BINDERHUB_VALUES
    bad = deep_merge(base, values)
    stderr = helm.rejects(charts / chart, bad)
    assert "schema" in stderr
    assert message in stderr
    assert schema_errors(
        load_yaml(shared_schemas / f"{chart}.values.schema.yaml"), deep_merge(load_yaml(charts / chart / "values.yaml"), bad)
    )
    # Without the placed schema the stand-in renders the same values: the schema is what rejects them.
    assert helm.run(charts_copy / chart, bad, "release").returncode == 0


# --- defaults against the real schemas -----------------------------------------------------


@pytest.mark.parametrize(("chart", "values"), [("jupyterhub", JUPYTERHUB_VALUES), ("binderhub-service", BINDERHUB_VALUES)])
def test_defaults_merged_with_hub_values_validate(repo_root: Path, shared_schemas: Path, chart: str, values: dict) -> None:
    schema = load_yaml(shared_schemas / f"{chart}.values.schema.yaml")
    defaults = load_yaml(repo_root / "charts" / chart / "values.yaml")
    assert schema_errors(schema, defaults) == []
    assert schema_errors(schema, deep_merge(defaults, values)) == []


@pytest.mark.parametrize("chart", ["jupyterhub", "binderhub-service"])
def test_partial_objects_are_accepted_as_by_the_real_chart(repo_root: Path, shared_schemas: Path, chart: str) -> None:
    """Setting any object with required keys to {} is valid with our defaults exactly when it is with upstream's."""
    schema = load_yaml(shared_schemas / f"{chart}.values.schema.yaml")
    ours = load_yaml(repo_root / "charts" / chart / "values.yaml")
    upstream = load_yaml(shared_schemas / f"{chart}.values.yaml")
    paths = list(required_object_paths(schema))
    assert paths
    differences = []
    for path in paths:
        partial = nested(path, {})
        ours_ok = not schema_errors(schema, deep_merge(ours, partial))
        upstream_ok = not schema_errors(schema, deep_merge(upstream, partial))
        if ours_ok != upstream_ok:
            differences.append(f"{'.'.join(path)}: ours {'accepts' if ours_ok else 'rejects'}, upstream does not")
    assert differences == []


@pytest.mark.parametrize(
    ("chart", "values"),
    [
        ("jupyterhub", {"imagePullSecret": {"create": "yes"}}),  # the real schema types `create` only inside if/then
        ("jupyterhub", {"imagePullSecret": {"create": True, "registry": None}}),
        ("jupyterhub", {"scheduling": {"userScheduler": {"enabled": False}}}),
        ("jupyterhub", {"hub": {"db": {"pvc": {"storageClassName": "standard"}}}}),
        ("binderhub-service", {"dockerApi": {"storage": {"emptyDir": {"sizeLimit": "15Gi"}}}}),
        ("binderhub-service", {"serviceAccount": {"name": 5}}),
        ("binderhub-service", {"extraConfig": {"00-a": ["not", "a", "string"]}}),
    ],
)
def test_helm_and_jsonschema_agree(helm: Helm, charts: Path, shared_schemas: Path, chart: str, values: dict) -> None:
    """Helm's verdict on values is the real schema's verdict on the stand-in's defaults merged with them."""
    base = JUPYTERHUB_VALUES if chart == "jupyterhub" else BINDERHUB_VALUES
    candidate = deep_merge(base, values)
    expected_ok = not schema_errors(
        load_yaml(shared_schemas / f"{chart}.values.schema.yaml"),
        deep_merge(load_yaml(charts / chart / "values.yaml"), candidate),
    )
    assert (helm.run(charts / chart, candidate, "release").returncode == 0) == expected_ok
