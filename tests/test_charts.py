"""The toolkit's values against the genuine released charts (../shared/charts).

Every hub of inventories/local and inventories/example gets its final values per release
(placeholder secrets) rendered with `helm template` by the genuine chart, which validates
them against its own values.schema.json. The objects DESIGN.md's runbook asks for are then
looked up in what the genuine templates rendered, and the object names ``chart_names``
computes are compared with the rendered ones.

The charts are test data outside the repository: found at ``ROOT.parent / "shared" / "charts"``,
never copied; the tests skip when they (or the project's helm) are missing.
"""

from __future__ import annotations

import ast
import base64
import copy
import json
import re
from typing import Any

import pytest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils import chart_names
from chart_support import (
    CLUSTER_SCOPED_KINDS,
    HELM_BINARY,
    NAMESPACED_KINDS,
    Helm,
    HubCase,
    HubRender,
    Manifest,
    chart_dir,
    container_env,
    expected_releases,
    hub_cases,
    hub_render,
    load_yaml,
    missing_test_bed,
    pod_spec,
    release_params,
    secret_text,
    service_port,
    volume,
)
from hub_support import LOCAL_INVENTORY, PLACEHOLDER_PASSWORD, PLACEHOLDER_TOKEN

# Release names nothing like the defaults: a one-letter one, one that is its chart's name, and
# one of 52 characters (the model allows 53), so that dask-gateway's names are cut at 63.
ODD_RELEASE_NAMES = {
    "jupyterhub_release_name": "x",
    "binderhub_service_release_name": "binderhub-service",
    "jupyterhub_dask_gateway_release_name": "research-gateway-for-the-climate-lab-production-0001",
}
ODD = HubCase("research-odd-release-names", "research", LOCAL_INVENTORY, tuple(ODD_RELEASE_NAMES.items()))
CASES = [*hub_cases(), ODD]
DASK_CASES = [case for case in CASES if "dask-gateway" in expected_releases(case)]
# research deploys all three charts: with its default release names, and with odd ones.
NAMING_CASES = [next(c for c in CASES if c.host == "research" and not c.overrides), ODD]
# Hub images that contain jupyterhub-fancy-profiles (DESIGN.md).
FANCY_PROFILES_IMAGES = ("quay.io/2i2c/pilot-hub", "quay.io/yuvipanda/z2jh-hub-with-fancy-profiles")
BINDER_SCOPE = "access:services!service=binder"
DEFAULT_DOCKER_CACHE = "15Gi"


def case_id(case: HubCase) -> str:
    return case.case_id


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """The project's helm; skips when it or the genuine charts are missing."""
    reason = missing_test_bed()
    if reason:
        pytest.skip(reason)
    return Helm(HELM_BINARY, tmp_path_factory.mktemp("helm-home"))


def render(helm: Helm, hub: HubRender, key: str) -> Manifest:
    """One release of a hub, rendered by its genuine chart."""
    return helm.render(hub.chart(key), hub.release(key), hub.namespace, hub.values[key])


@pytest.fixture(params=CASES, ids=case_id)
def hub(request: pytest.FixtureRequest, helm: Helm) -> HubRender:
    return hub_render(request.param)


# --- what the genuine templates rendered, found by role rather than by name ------------------


def hub_deployment(manifest: Manifest) -> dict[str, Any]:
    found = [d for d in manifest.of_kind("Deployment") if d["metadata"]["labels"].get("component") == "hub"]
    assert len(found) == 1, f"expected one hub Deployment, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def hub_secret(manifest: Manifest) -> dict[str, Any]:
    """The Secret the hub pod mounts as its values (volume ``secret``)."""
    name = volume(pod_spec(hub_deployment(manifest)), "secret")["secret"]["secretName"]
    return manifest.get("Secret", name)


def hub_chart_values(manifest: Manifest) -> dict[str, Any]:
    """The values the hub process reads (``values.yaml`` of its Secret)."""
    values = load_yaml(secret_text(hub_secret(manifest), "values.yaml"))
    assert isinstance(values, dict)
    return values


def hub_service(manifest: Manifest) -> dict[str, Any]:
    """The Service in front of the hub pod (its API)."""
    deployment = hub_deployment(manifest)
    found = [s for s in manifest.of_kind("Service") if selects(s, deployment)]
    assert len(found) == 1, f"expected one Service selecting the hub pod, found {[s['metadata']['name'] for s in found]}"
    return found[0]


def binderhub_deployment(manifest: Manifest) -> dict[str, Any]:
    return manifest.only("Deployment")


def binderhub_config(manifest: Manifest) -> dict[str, Any]:
    """BinderHub's chart config (``chart-config.yaml`` of the Secret its pod mounts)."""
    name = volume(pod_spec(binderhub_deployment(manifest)), "secret")["secret"]["secretName"]
    config = load_yaml(secret_text(manifest.get("Secret", name), "chart-config.yaml"))
    assert isinstance(config, dict)
    return config


def pull_secret_objects(manifest: Manifest) -> list[dict[str, Any]]:
    """The image pull Secrets (type kubernetes.io/dockerconfigjson)."""
    return [s for s in manifest.of_kind("Secret") if s.get("type") == "kubernetes.io/dockerconfigjson"]


def selects(service: dict[str, Any], workload: dict[str, Any]) -> bool:
    selector = service["spec"].get("selector") or {}
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return bool(selector) and selector.items() <= labels.items()


def service_url(service: dict[str, Any], namespace: str) -> str:
    return f"http://{service['metadata']['name']}.{namespace}:{service_port(service)}"


def dask_gateway_config(manifest: Manifest) -> tuple[str, dict[str, Any]]:
    """The API server's dask_gateway_config.py and the properties it reads (``_PROPERTIES``)."""
    found = [c["data"]["dask_gateway_config.py"] for c in manifest.of_kind("ConfigMap")
             if "c.DaskGateway.backend_class" in c.get("data", {}).get("dask_gateway_config.py", "")]
    assert len(found) == 1, "expected one ConfigMap with the API server's dask_gateway_config.py"
    match = re.search(r"^_PROPERTIES = json\.loads\((\".*\")\)$", found[0], re.MULTILINE)
    assert match, "no _PROPERTIES line in dask_gateway_config.py"
    properties = json.loads(ast.literal_eval(match.group(1)))
    assert isinstance(properties, dict)
    return found[0], properties


def dask_gateway_deployment(manifest: Manifest, component: str) -> dict[str, Any]:
    found = [d for d in manifest.of_kind("Deployment")
             if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    assert len(found) == 1, f"expected one {component} Deployment, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def dask_gateway_service(manifest: Manifest, component: str) -> dict[str, Any]:
    workload = dask_gateway_deployment(manifest, component)
    found = [s for s in manifest.of_kind("Service") if selects(s, workload)]
    assert len(found) == 1, f"expected one Service of the {component}, found {[s['metadata']['name'] for s in found]}"
    return found[0]


# --- 1. every hub's releases render with the genuine charts, schema included -----------------


@pytest.mark.parametrize(("case", "key"), release_params(CASES), ids=lambda p: p if isinstance(p, str) else p.case_id)
def test_release_renders_with_the_genuine_chart(helm: Helm, case: HubCase, key: str) -> None:
    hub = hub_render(case)
    assert sorted(hub.releases) == sorted(expected_releases(case)), f"{case.case_id}: releases {sorted(hub.releases)}"
    assert hub.chart(key).resolve() == chart_dir(key).resolve(), f"{case.case_id} {key}: chart {hub.chart(key)}"
    assert hub.releases[key]["namespace"] == hub.namespace
    manifest = render(helm, hub, key)  # fails with helm's message, schema errors included
    assert manifest.objects
    unknown = manifest.kinds() - CLUSTER_SCOPED_KINDS - NAMESPACED_KINDS
    assert not unknown, f"{key} renders kinds this test does not classify as namespaced or not: {unknown}"


def test_every_hub_of_both_inventories_is_covered() -> None:
    hosts = {(case.inventory.name, case.host) for case in CASES}
    assert {("local", "staging"), ("local", "research"), ("example", "gke-climate"), ("example", "eks-course"),
            ("example", "aks-bio")} <= hosts
    assert any(case.overrides and case.inventory.name == "example" for case in CASES)


# --- 2. the objects the runbook asks for, as the genuine templates render them ----------------


def test_binder_service_is_registered_with_the_hub(helm: Helm, hub: HubRender) -> None:
    jupyterhub, binderhub = render(helm, hub, "jupyterhub"), render(helm, hub, "binderhub-service")
    binder = hub_chart_values(jupyterhub)["hub"]["services"]["binder"]
    service = binderhub.only("Service")
    assert selects(service, binderhub_deployment(binderhub)), "the binderhub Service does not select the BinderHub pod"
    assert binder["url"] == service_url(service, hub.namespace)
    assert binder["oauth_client_id"] == "service-binder"
    assert binder["oauth_redirect_uri"] == f"https://{hub.domain}/services/binder/oauth_callback"
    assert binder["oauth_no_confirm"] is True
    # The chart exposes each service's token in the hub Secret.
    assert secret_text(hub_secret(jupyterhub), "hub.services.binder.apiToken") == PLACEHOLDER_TOKEN


def test_binderhub_is_the_binder_oauth_client(helm: Helm, hub: HubRender) -> None:
    jupyterhub, binderhub = render(helm, hub, "jupyterhub"), render(helm, hub, "binderhub-service")
    config = binderhub_config(binderhub)["config"]
    hub_services = hub_chart_values(jupyterhub)["hub"]["services"]
    api = hub_service(jupyterhub)
    assert config["HubOAuth"]["api_url"] == (
        f"http://{api['metadata']['name']}.{hub.namespace}.svc.cluster.local:{service_port(api)}/hub/api/")
    assert config["HubOAuth"]["oauth_client_id"] == hub_services["binder"]["oauth_client_id"]
    assert config["HubOAuth"]["oauth_redirect_uri"] == hub_services["binder"]["oauth_redirect_uri"]
    assert config["BinderHub"]["hub_api_token"] == secret_text(hub_secret(jupyterhub), "hub.services.binder.apiToken")
    assert {k: config["BinderHub"][k] for k in ("base_url", "use_registry", "auth_enabled", "enable_api_only_mode")} == {
        "base_url": "/services/binder", "use_registry": True, "auth_enabled": True, "enable_api_only_mode": True}
    assert config["DockerRegistry"] == {"url": hub.registry["url"], "username": hub.registry["username"],
                                        "password": PLACEHOLDER_PASSWORD}
    # The hub's NetworkPolicy lets in pods with this label only.
    labels = binderhub_deployment(binderhub)["spec"]["template"]["metadata"]["labels"]
    assert labels.get("hub.jupyter.org/network-access-hub") == "true"


def test_users_may_use_binder(helm: Helm, hub: HubRender) -> None:
    roles = hub_chart_values(render(helm, hub, "jupyterhub"))["hub"]["loadRoles"]
    assert BINDER_SCOPE in roles["user"]["scopes"]
    assert "self" in roles["user"]["scopes"]


def test_fancy_profiles_form_is_set_up(helm: Helm, hub: HubRender) -> None:
    jupyterhub = render(helm, hub, "jupyterhub")
    values = hub_chart_values(jupyterhub)
    snippets = [s for s in values["hub"]["extraConfig"].values() if "setup_ui(c)" in s]
    assert len(snippets) == 1, f"hub.extraConfig has {len(snippets)} snippets calling setup_ui(c)"
    assert re.search(r"^from jupyterhub_fancy_profiles import setup_ui$", snippets[0], re.MULTILINE)
    image = pod_spec(hub_deployment(jupyterhub))["containers"][0]["image"]
    assert image.rsplit(":", 1)[0] in FANCY_PROFILES_IMAGES, f"hub image {image} has no jupyterhub-fancy-profiles"
    # Only an option keyed "image" with an unlisted choice gets the build UI.
    building = [(profile["slug"], key, option) for profile in values["singleuser"].get("profileList", [])
                for key, option in profile.get("profile_options", {}).items()
                if option.get("dynamic_image_building", {}).get("enabled")]
    assert building, "no profile option builds images"
    for slug, key, option in building:
        assert key == "image" and option["unlisted_choice"]["enabled"] is True, f"profile {slug} option {key}"


def test_build_pods_push_with_the_registry_credentials(helm: Helm, hub: HubRender) -> None:
    binderhub = render(helm, hub, "binderhub-service")
    config = binderhub_config(binderhub)
    env = container_env(pod_spec(binderhub_deployment(binderhub))["containers"][0])
    # The chart's own extraConfig (kept beside the toolkit's) makes the push secret the Secret below.
    assert 'c.KubernetesBuildExecutor.push_secret = os.environ["PUSH_SECRET_NAME"]' in "".join(
        config["extraConfig"].values())
    secret = binderhub.get("Secret", env["PUSH_SECRET_NAME"])
    auths = json.loads(secret_text(secret, "config.json"))["auths"]
    server = hub.registry["url"]
    assert list(auths) == [server]
    assert base64.b64decode(auths[server]["auth"]).decode() == f"{hub.registry['username']}:{PLACEHOLDER_PASSWORD}"
    assert config["config"]["BinderHub"]["image_prefix"] == hub.registry["image_prefix"]
    assert hub.registry["image_prefix"].startswith(server.removeprefix("https://") + "/")


def test_docker_api_runs_on_the_build_pool_with_a_bounded_cache(helm: Helm, hub: HubRender) -> None:
    binderhub = render(helm, hub, "binderhub-service")
    pools = hub.variables["cluster_node_pools"]
    # binderhub_service_build_node_pool, else the cluster's "build" pool when it has one, else "user".
    pool = pools[hub.variables.get("binderhub_service_build_node_pool") or ("build" if "build" in pools else "user")]
    spec = pod_spec(binderhub.only("DaemonSet"))
    assert spec["nodeSelector"] == pool
    data = volume(spec, "data")
    assert "hostPath" not in data
    assert data["emptyDir"]["sizeLimit"] == (hub.variables.get("binderhub_service_docker_cache_size") or DEFAULT_DOCKER_CACHE)
    assert binderhub_config(binderhub)["config"]["KubernetesBuildExecutor"]["node_selector"] == pool


def test_image_pull_secret(helm: Helm, hub: HubRender) -> None:
    jupyterhub = render(helm, hub, "jupyterhub")
    pull_secrets = pull_secret_objects(jupyterhub)
    if not hub.registry["pull_secret_required"]:
        assert pull_secrets == []
        return
    assert len(pull_secrets) == 1
    secret = pull_secrets[0]
    assert "pre-install" in secret["metadata"]["annotations"]["helm.sh/hook"]  # a hook: rendered by helm template
    host = hub.registry["host"]
    auths = json.loads(secret_text(secret, ".dockerconfigjson"))["auths"]
    assert list(auths) == [host]
    assert auths[host]["username"] == hub.registry["username"]
    assert base64.b64decode(auths[host]["auth"]).decode() == f"{hub.registry['username']}:{PLACEHOLDER_PASSWORD}"
    assert hub.registry["image_prefix"].startswith(f"{host}/"), "built images are pulled from another host"
    # The hub passes it on to user pods (z2jh's jupyterhub_config.py reads these).
    values = hub_chart_values(jupyterhub)
    assert values["imagePullSecret"]["create"] is True and values["imagePullSecret"]["automaticReferenceInjection"] is True


@pytest.mark.parametrize("case", DASK_CASES, ids=case_id)
def test_dask_gateway_pulls_with_the_hub_pull_secret(helm: Helm, case: HubCase) -> None:
    hub = hub_render(case)
    jupyterhub, gateway = render(helm, hub, "jupyterhub"), render(helm, hub, "dask-gateway")
    config, properties = dask_gateway_config(gateway)
    backend = properties["gateway"]["backend"]
    assert backend["image"]["name"], "KubeClusterConfig.image_pull_secrets is set only with a backend image"
    assert 'c.KubeClusterConfig.image_pull_secrets = get_property("gateway.backend.imagePullSecrets")' in config
    pull_secrets = [s["metadata"]["name"] for s in pull_secret_objects(jupyterhub)]
    assert backend["imagePullSecrets"] == [{"name": name} for name in pull_secrets]
    if hub.registry["pull_secret_required"]:
        assert backend["imagePullSecrets"]


@pytest.mark.parametrize("case", DASK_CASES, ids=case_id)
def test_dask_gateway_is_a_hub_service(helm: Helm, case: HubCase) -> None:
    hub = hub_render(case)
    jupyterhub, gateway = render(helm, hub, "jupyterhub"), render(helm, hub, "dask-gateway")
    services = hub_chart_values(jupyterhub)["hub"]["services"]
    traefik = dask_gateway_service(gateway, "traefik")
    assert services["dask-gateway"]["url"] == (
        f"http://{traefik['metadata']['name']}.{hub.namespace}:{service_port(traefik, 'web')}")
    _, properties = dask_gateway_config(gateway)
    api = hub_service(jupyterhub)
    assert properties["gateway"]["auth"]["type"] == "jupyterhub"
    assert properties["gateway"]["auth"]["jupyterhub"]["apiUrl"] == (
        f"http://{api['metadata']['name']}.{hub.namespace}.svc.cluster.local:{service_port(api)}/hub/api")
    # dask-gateway authenticates with the token the jupyterhub chart generates for the service.
    api_server = pod_spec(dask_gateway_deployment(gateway, "gateway"))["containers"][0]
    ref = container_env(api_server)["JUPYTERHUB_API_TOKEN"]["secretKeyRef"]
    assert ref["key"] == "hub.services.dask-gateway.apiToken"
    assert secret_text(jupyterhub.get("Secret", ref["name"]), ref["key"])


def _pod_peer_matches(peer: dict[str, Any], labels: dict[str, str]) -> bool:
    """A peer that is a pod selector of the policy's own namespace (no namespace selector with labels)."""
    selector = peer.get("podSelector")
    return (selector is not None and not (peer.get("namespaceSelector") or {}).get("matchLabels")
            and not selector.get("matchExpressions")
            and (selector.get("matchLabels") or {}).items() <= labels.items())


def _private_block(peer: dict[str, Any]) -> bool:
    """An ipBlock spanning 10.0.0.0/8 without exceptions there (the chart's ``egressAllowRules.privateIPs``,
    where pod IPs usually are)."""
    block = peer.get("ipBlock")
    return bool(block) and block["cidr"] in ("0.0.0.0/0", "10.0.0.0/8") and not any(
        e.startswith("10.") for e in block.get("except", []))


def _allows(rules: list[dict[str, Any]], peers_key: str, labels: dict[str, str], port: int | str) -> bool:
    for rule in rules:
        ports = rule.get("ports")
        if ports and not any(p.get("port") in (None, port) and p.get("protocol", "TCP") == "TCP" for p in ports):
            continue
        peers = rule.get(peers_key)
        if not peers or any(_pod_peer_matches(peer, labels) or (peers_key == "to" and _private_block(peer))
                            for peer in peers):
            return True
    return False


def egress_allows(policy: dict[str, Any], target_labels: dict[str, str], port: int) -> bool:
    """Whether a NetworkPolicy lets its pods open ``port`` on a pod of its namespace with these labels."""
    return _allows(policy["spec"].get("egress") or [], "to", target_labels, port)


def ingress_allows(policy: dict[str, Any], source_labels: dict[str, str], port: int | str) -> bool:
    """Whether a NetworkPolicy lets a pod of its namespace with these labels open ``port`` on its pods."""
    return _allows(policy["spec"].get("ingress") or [], "from", source_labels, port)


def test_binderhub_and_dask_gateway_may_reach_the_hub_api(helm: Helm, hub: HubRender) -> None:
    """The hub's NetworkPolicy admits the pods that call its API (BinderHub, dask-gateway's API server)."""
    jupyterhub = render(helm, hub, "jupyterhub")
    deployment = hub_deployment(jupyterhub)
    policies = [p for p in jupyterhub.of_kind("NetworkPolicy")
                if p["spec"]["podSelector"].get("matchLabels", {}).items()
                <= deployment["spec"]["template"]["metadata"]["labels"].items()]
    assert len(policies) == 1, "expected the chart's hub NetworkPolicy"
    service = hub_service(jupyterhub)
    assert service_port(service) == chart_names.HUB_SERVICE_PORT  # one port
    port = service["spec"]["ports"][0]["targetPort"]
    callers = [binderhub_deployment(render(helm, hub, "binderhub-service"))]
    if "dask-gateway" in hub.releases:
        callers.append(dask_gateway_deployment(render(helm, hub, "dask-gateway"), "gateway"))
    for caller in callers:
        labels = caller["spec"]["template"]["metadata"]["labels"]
        assert ingress_allows(policies[0], labels, port), f"{caller['metadata']['name']} may not reach the hub API"


@pytest.mark.parametrize("case", DASK_CASES, ids=case_id)
def test_user_pods_may_reach_the_dask_gateway_proxy(helm: Helm, case: HubCase) -> None:
    hub = hub_render(case)
    jupyterhub, gateway = render(helm, hub, "jupyterhub"), render(helm, hub, "dask-gateway")
    traefik = dask_gateway_deployment(gateway, "traefik")
    service = dask_gateway_service(gateway, "traefik")
    proxy_address = hub_chart_values(jupyterhub)["singleuser"]["extraEnv"]["DASK_GATEWAY__PROXY_ADDRESS"]
    assert proxy_address == f"gateway://{service['metadata']['name']}.{hub.namespace}:{service_port(service, 'web')}"
    target_port = next(p["targetPort"] for p in service["spec"]["ports"] if p["name"] == "web")
    policies = [p for p in jupyterhub.of_kind("NetworkPolicy")
                if p["spec"]["podSelector"].get("matchLabels", {}).get("component") == "singleuser-server"]
    assert len(policies) == 1, "expected the chart's singleuser NetworkPolicy"
    labels = traefik["spec"]["template"]["metadata"]["labels"]
    assert egress_allows(policies[0], labels, int(target_port)), (
        f"{case.case_id}: user pods may not open port {target_port} of the traefik pods ({labels})")


# --- 3. chart_names agrees with the genuine charts ------------------------------------------


@pytest.mark.parametrize("case", NAMING_CASES, ids=case_id)
def test_chart_names_are_the_rendered_names(helm: Helm, case: HubCase) -> None:
    hub = hub_render(case)
    if case.overrides:
        assert {key: hub.release(key) for key in hub.releases} == {
            "jupyterhub": ODD_RELEASE_NAMES["jupyterhub_release_name"],
            "binderhub-service": ODD_RELEASE_NAMES["binderhub_service_release_name"],
            "dask-gateway": ODD_RELEASE_NAMES["jupyterhub_dask_gateway_release_name"]}
    ns = hub.namespace
    jupyterhub, binderhub, gateway = (render(helm, hub, key) for key in ("jupyterhub", "binderhub-service", "dask-gateway"))

    release = hub.release("jupyterhub")
    hub_name = chart_names.hub_name(release)
    for kind in ("Deployment", "Service", "ConfigMap", "Secret"):
        jupyterhub.get(kind, hub_name)
    assert hub_deployment(jupyterhub)["metadata"]["name"] == hub_name
    assert service_port(jupyterhub.get("Service", hub_name)) == chart_names.HUB_SERVICE_PORT
    assert service_port(jupyterhub.get("Service", chart_names.proxy_public_name(release)), "http") == (
        chart_names.PROXY_PUBLIC_HTTP_PORT)
    assert jupyterhub.get("Secret", chart_names.image_pull_secret_name(release))["type"] == "kubernetes.io/dockerconfigjson"
    assert chart_names.HUB_CHART_VALUES_KEY in jupyterhub.get("Secret", hub_name)["data"]
    assert chart_names.hub_service_api_token_key("binder") in jupyterhub.get("Secret", hub_name)["data"]

    release = hub.release("binderhub-service")
    name = chart_names.binderhub_service_name(release)
    for kind in ("Deployment", "Service", "Secret"):
        binderhub.get(kind, name)
    port = service_port(binderhub.get("Service", name))
    assert port == chart_names.BINDERHUB_SERVICE_DEFAULT_PORT
    assert chart_names.binderhub_service_url(release, ns, port) == service_url(binderhub.only("Service"), ns)
    assert pod_spec(binderhub.get("Deployment", name))["containers"][0]["ports"] == [
        {"name": "http", "containerPort": chart_names.BINDERHUB_CONTAINER_PORT}]
    assert chart_names.BINDERHUB_CONFIG_KEY in binderhub.get("Secret", name)["stringData"]
    binderhub.get("DaemonSet", chart_names.docker_api_name(release))
    docker_config = binderhub.get("Secret", chart_names.build_pods_docker_config_name(release))
    assert chart_names.BUILD_PODS_DOCKER_CONFIG_KEY in docker_config["stringData"]

    release = hub.release("dask-gateway")
    api, traefik = chart_names.dask_gateway_api_name(release), chart_names.dask_gateway_traefik_name(release)
    for kind in ("Deployment", "Service", "ConfigMap"):
        gateway.get(kind, api)
    assert service_port(gateway.get("Service", api)) == chart_names.DASK_GATEWAY_API_PORT
    gateway.get("Deployment", traefik)
    assert service_port(gateway.get("Service", traefik), "web") == chart_names.DASK_GATEWAY_TRAEFIK_PORT
    assert all(len(n) <= 63 for _, n in gateway.objects), "a dask-gateway name is longer than a DNS label"


@pytest.mark.parametrize(
    ("chart", "release", "overrides"),
    [
        ("jupyterhub", "research", {"fullnameOverride": None}),
        ("jupyterhub", "my-jupyterhub", {"fullnameOverride": None}),
        ("jupyterhub", "research", {"fullnameOverride": "hubs"}),
        ("binderhub-service", "research", {"fullnameOverride": None}),
        ("binderhub-service", "research", {"fullnameOverride": None, "nameOverride": "binder"}),
        ("binderhub-service", "research", {"fullnameOverride": "bh"}),
        ("dask-gateway", "research", {"fullnameOverride": "dg"}),
        ("dask-gateway", "research", {"nameOverride": "gw"}),
    ],
)
def test_chart_names_with_name_overrides(helm: Helm, chart: str, release: str, overrides: dict[str, Any]) -> None:
    values: dict[str, Any] = dict(overrides)
    naming = {"fullname_override": overrides.get("fullnameOverride", ""), "name_override": overrides.get("nameOverride")}
    if chart == "jupyterhub":
        values["imagePullSecret"] = {"create": True, "registry": "quay.io", "username": "u", "password": "p"}
        manifest = helm.render(chart_dir(chart), release, "ns", values)
        hub_name = chart_names.hub_name(release, **naming)
        assert hub_deployment(manifest)["metadata"]["name"] == hub_name
        manifest.get("Secret", hub_name)
        manifest.get("Service", chart_names.proxy_public_name(release, **naming))
        manifest.get("Secret", chart_names.image_pull_secret_name(release, **naming))
    elif chart == "binderhub-service":
        manifest = helm.render(chart_dir(chart), release, "ns", values)
        assert manifest.only("Service")["metadata"]["name"] == chart_names.binderhub_service_name(release, **naming)
        assert service_url(manifest.only("Service"), "ns") == chart_names.binderhub_service_url(release, "ns", **naming)
        assert manifest.only("DaemonSet")["metadata"]["name"] == chart_names.docker_api_name(release, **naming)
        manifest.get("Secret", chart_names.build_pods_docker_config_name(release, **naming))
    else:
        manifest = helm.render(chart_dir(chart), release, "ns", values)
        api = dask_gateway_deployment(manifest, "gateway")["metadata"]["name"]
        assert api == chart_names.dask_gateway_api_name(release, **naming)
        traefik = dask_gateway_service(manifest, "traefik")["metadata"]["name"]
        assert traefik == chart_names.dask_gateway_traefik_name(release, **naming)


JUPYTERHUB_EVERYTHING_CLUSTER_SCOPED: dict[str, Any] = {
    "scheduling": {
        "userScheduler": {"enabled": True},
        "podPriority": {"enabled": True},
        "userPlaceholder": {"enabled": True},
    },
    "prePuller": {"hook": {"enabled": True}, "continuous": {"enabled": True}},
    "rbac": {"create": True},
}


@pytest.mark.parametrize("release", ["research", ODD_RELEASE_NAMES["jupyterhub_dask_gateway_release_name"]])
@pytest.mark.parametrize("chart", ["jupyterhub", "binderhub-service", "dask-gateway"])
def test_cluster_scoped_objects_are_the_rendered_ones(helm: Helm, chart: str, release: str) -> None:
    if chart == "jupyterhub":
        values = JUPYTERHUB_EVERYTHING_CLUSTER_SCOPED
    elif chart == "binderhub-service":
        values = {"rbac": {"create": True}, "ingress": {"enabled": True}, "networkPolicy": {"enabled": True}}
    else:
        values = {}
    manifest = helm.render(chart_dir(chart), release, "ns", values)
    expected = chart_names.cluster_scoped_objects(chart, release)
    assert len(set(expected)) == len(expected)
    assert manifest.cluster_scoped() == set(expected)


def test_cluster_scoped_objects_of_a_demo_hub_are_a_subset(helm: Helm) -> None:
    """What a hub's values enable is within what ``cluster_scoped_objects`` lists."""
    for case in CASES:
        hub = hub_render(case)
        for key in hub.releases:
            rendered = render(helm, hub, key).cluster_scoped()
            assert rendered <= set(chart_names.cluster_scoped_objects(key, hub.release(key))), f"{case.case_id} {key}"


# --- 4. a typo in values fails against the genuine schema -----------------------------------


@pytest.mark.parametrize(
    ("key", "path", "typo"),
    [
        ("jupyterhub", ("hub",), "nodeSelecter"),
        ("jupyterhub", ("singleuser", "storage"), "capacty"),
        ("jupyterhub", (), "singleusr"),
        ("binderhub-service", ("dockerApi",), "nodeselector"),
        ("binderhub-service", (), "dockerAPI"),
        ("dask-gateway", ("gateway", "backend"), "imagePullSecret"),
    ],
)
def test_a_misspelt_key_fails_against_the_genuine_schema(helm: Helm, key: str, path: tuple[str, ...], typo: str) -> None:
    hub = hub_render(next(case for case in CASES if case.host == "research"))
    values = copy.deepcopy(hub.values[key])
    node = values
    for part in path:
        node = node.setdefault(part, {})
    node[typo] = {"a": "b"}
    proc = helm.run(hub.chart(key), hub.release(key), hub.namespace, values)
    assert proc.returncode != 0, f"helm accepted {key} values with {'.'.join((*path, typo))}"
    # e.g. "values don't meet the specifications of the schema(s) ... - at '/hub': additional
    # properties 'nodeSelecter' not allowed"
    assert "don't meet the specifications of the schema" in proc.stderr
    location = "".join(f"/{part}" for part in path)
    assert f"- at '{location}': additional properties '{typo}' not allowed" in proc.stderr
    assert render(helm, hub, key).objects  # the same values without the typo render


def test_chart_schemas_are_closed(helm: Helm) -> None:
    """helm validates with the charts' own schemas, which refuse unknown keys at the top."""
    for chart in ("jupyterhub", "binderhub-service", "dask-gateway"):
        schema = json.loads((chart_dir(chart) / "values.schema.json").read_text(encoding="utf-8"))
        assert schema.get("additionalProperties") is False, chart
