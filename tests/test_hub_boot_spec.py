"""How the hub boot reads a deployed hub (``scripts/hub_boot/spec.py``), on hand-made objects:
Kubernetes' $(VAR) expansion, kubelet's Service variables, where each Service answers inside the
boot, and the proxy's listen addresses."""

from __future__ import annotations

from typing import Any

import hub_boot_support  # noqa: F401 - puts scripts/ on sys.path
import pytest
from hub_boot import addresses, spec
from hub_boot.deployed import DeployedHub, DeployedHubError


def pod(component: str, ports: dict[str, int]) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "jupyterhub", "component": component, "release": "x"}},
            "spec": {"containers": [{"name": component, "ports": [{"name": n, "containerPort": p} for n, p in ports.items()]}]}}


def service(name: str, selector: dict[str, str] | None, ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": selector, "ports": ports}}


HUB = DeployedHub(
    namespace="ns", config_map={}, secrets={}, token="t", server="https://127.0.0.1:6443", ca_data="",
    hub_pod=pod("hub", {"http": 8081}), proxy_pod=pod("proxy", {"http": 8000, "api": 8001}), claims={},
    services=[
        service("hub", {"component": "hub", "release": "x"}, [{"name": "hub", "port": 8081, "targetPort": "http"}]),
        service("proxy-api", {"component": "proxy", "release": "x"}, [{"port": 8001, "targetPort": "api"}]),
        service("proxy-public", {"component": "proxy", "release": "x"}, [{"name": "http", "port": 80, "targetPort": "http"}]),
        service("binderhub", {"app": "binderhub"}, [{"name": "http", "port": 80, "targetPort": "http"}]),
    ],
)


def test_kubernetes_variable_expansion() -> None:
    assert spec.expand("http://hub:$(HUB_SERVICE_PORT)/x", {"HUB_SERVICE_PORT": "8081"}) == "http://hub:8081/x"
    assert spec.expand("$(UNSET) stays", {}) == "$(UNSET) stays"


def test_each_service_answers_where_its_pods_would() -> None:
    where, forwards, stand_ins = spec.service_plan(HUB)
    assert where == {"hub": addresses.HUB, "proxy-api": addresses.PROXY, "proxy-public": addresses.PROXY,
                     "binderhub": addresses.service_address(0)}
    # proxy-public's port 80 reaches the proxy's 8000; the others' ports are their pods' ports
    assert forwards == [{"listen": spec.tcp(addresses.PROXY, 80), "target": spec.tcp(addresses.PROXY, 8000)}]
    assert stand_ins == [{"name": "binderhub", "listen": spec.tcp(addresses.service_address(0), 80)}]


def test_service_variables_as_kubelet_sets_them() -> None:
    where, _, _ = spec.service_plan(HUB)
    env = spec.service_env(HUB, where)
    assert env["HUB_SERVICE_PORT"] == "8081"
    assert env["HUB_SERVICE_HOST"] == addresses.HUB
    assert env["PROXY_API_SERVICE_PORT"] == "8001"
    assert env["PROXY_PUBLIC_SERVICE_PORT_HTTP"] == "80"
    assert env["BINDERHUB_PORT_80_TCP_ADDR"] == addresses.service_address(0)


def test_proxy_listens_on_its_own_address() -> None:
    container = {"command": ["configurable-http-proxy", "--ip=", "--api-ip=", "--api-port=8001",
                             "--default-target=http://hub:$(HUB_SERVICE_PORT)", "--port=8000"]}
    argv = spec.proxy_argv(container, {"HUB_SERVICE_PORT": "8081"})
    assert argv == ["configurable-http-proxy", f"--ip={addresses.PROXY}", f"--api-ip={addresses.PROXY}",
                    "--api-port=8001", "--default-target=http://hub:8081", "--port=8000"]
    assert spec.public_port(argv) == 8000


def test_an_unknown_environment_source_is_refused() -> None:
    container = {"env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}]}
    with pytest.raises(DeployedHubError, match="cannot set X"):
        spec.container_env(HUB, container, {})
