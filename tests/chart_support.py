"""Helpers of tests/test_charts.py: a hub's final values per release, rendered by the genuine
released charts with ``helm template``.

The genuine charts are test data kept outside the repository, in ``../shared/charts``
(see its README.md and PROVENANCE.md); nothing here copies them. A hub's values are
computed as the ``hub_values`` / ``hub_release`` actions compute them (``render_hub``),
with the secret values file the secrets role would write (``desired_secret_values``), holding
placeholders instead of real secrets.
"""

from __future__ import annotations

import base64
import functools
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hub_support import (
    EXAMPLE_INVENTORY,
    LOCAL_INVENTORY,
    PLACEHOLDER_TOKEN,
    inventory_hosts,
    inventory_hub,
    local_registry_definition,
    placeholder_secret,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED_CHARTS = ROOT.parent / "shared" / "charts"
HELM_BINARY = ROOT / ".local" / "bin" / "helm"
# libyaml's loader when PyYAML has it: helm's output is large.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CHARTS = ("jupyterhub", "binderhub-service", "dask-gateway")

# Extra arguments of every `helm template`. Empty: the project's helm is built with helm's
# version ldflags, so its offline default Kubernetes version satisfies the charts' kubeVersion.
HELM_TEMPLATE_ARGS: tuple[str, ...] = ()

# Kinds that are not namespaced (Kubernetes' own, and what the charts could plausibly add).
CLUSTER_SCOPED_KINDS = frozenset({
    "APIService", "CertificateSigningRequest", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding",
    "CSIDriver", "CustomResourceDefinition", "FlowSchema", "IngressClass", "MutatingWebhookConfiguration",
    "Namespace", "Node", "PersistentVolume", "PriorityClass", "PriorityLevelConfiguration", "RuntimeClass",
    "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration", "VolumeAttachment",
})
# Namespaced kinds the three charts render (traefik's IngressRoute and Middleware included).
NAMESPACED_KINDS = frozenset({
    "ConfigMap", "DaemonSet", "Deployment", "HTTPRoute", "Ingress", "IngressRoute", "Job", "Middleware",
    "NetworkPolicy", "PersistentVolumeClaim", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service",
    "ServiceAccount", "StatefulSet",
})


def chart_dir(chart: str) -> Path:
    return SHARED_CHARTS / chart


def missing_test_bed() -> str:
    """Why the chart tests cannot run here ("" when they can)."""
    missing = [str(chart_dir(chart)) for chart in CHARTS if not (chart_dir(chart) / "Chart.yaml").is_file()]
    if missing:
        return (f"the genuine charts are test data outside the repository and are missing here: "
                f"{', '.join(missing)} (see ../shared/charts/README.md)")
    if not HELM_BINARY.exists():
        return f"{HELM_BINARY} is not built: run `make tools`"
    return ""


# --- rendered manifests ------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What `helm template` printed: its objects by (kind, name)."""

    objects: dict[tuple[str, str], dict[str, Any]]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = self.objects.get((kind, name))
        assert found is not None, f"no {kind} {name!r} rendered; rendered: {sorted(self.objects)}"
        return found

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for (k, _), obj in sorted(self.objects.items()) if k == kind]

    def only(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        assert len(found) == 1, f"expected one {kind}, rendered {[o['metadata']['name'] for o in found]}"
        return found[0]

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.objects}

    def cluster_scoped(self) -> set[tuple[str, str]]:
        """(kind, name) of every cluster-scoped object but CustomResourceDefinitions."""
        return {key for key in self.objects if key[0] in CLUSTER_SCOPED_KINDS and key[0] != "CustomResourceDefinition"}


@dataclass
class Helm:
    """`helm template` with values on stdin, renders cached by their arguments."""

    binary: Path
    home: Path
    _runs: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = field(default_factory=dict)
    _manifests: dict[tuple[str, ...], Manifest] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }

    @staticmethod
    def _key(chart: Path, release: str, namespace: str, values: Mapping[str, Any]) -> tuple[str, ...]:
        values_yaml = yaml.safe_dump(dict(values), sort_keys=True)
        return (str(chart), release, namespace, values_yaml)

    def run(self, chart: Path, release: str, namespace: str, values: Mapping[str, Any]) -> subprocess.CompletedProcess[str]:
        """`helm template <release> <chart> --namespace <namespace> -f -`, the values on stdin."""
        key = self._key(chart, release, namespace, values)
        if key not in self._runs:
            argv = [str(self.binary), "template", release, str(chart), "--namespace", namespace, "-f", "-",
                    *HELM_TEMPLATE_ARGS]
            self._runs[key] = subprocess.run(argv, input=key[-1], capture_output=True, text=True, check=False,
                                             env=self.env(), timeout=120)
        return self._runs[key]

    def render(self, chart: Path, release: str, namespace: str, values: Mapping[str, Any]) -> Manifest:
        """The objects helm renders (hooks included); fails with helm's message when it refuses the values."""
        key = self._key(chart, release, namespace, values)
        if key not in self._manifests:
            proc = self.run(chart, release, namespace, values)
            assert proc.returncode == 0, (f"helm template {release} {chart} --namespace {namespace} failed "
                                          f"(exit {proc.returncode}):\n{proc.stderr}")
            objects: dict[tuple[str, str], dict[str, Any]] = {}
            for doc in yaml.load_all(proc.stdout, Loader=SafeLoader):
                if not doc:
                    continue
                name = (doc["kind"], doc["metadata"]["name"])
                assert name not in objects, f"{chart.name} renders {name} twice"
                objects[name] = doc
            self._manifests[key] = Manifest(objects)
        return self._manifests[key]


def load_yaml(text: str) -> Any:  # noqa: ANN401 - any YAML document
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader (libyaml or not) is safe


def secret_text(secret: Mapping[str, Any], key: str) -> str:
    """A Secret's value, from stringData or data."""
    if key in secret.get("stringData", {}):
        return str(secret["stringData"][key])
    assert key in secret.get("data", {}), f"Secret {secret['metadata']['name']} has no key {key!r}"
    return base64.b64decode(secret["data"][key]).decode()


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def container_env(container: Mapping[str, Any]) -> dict[str, Any]:
    return {env["name"]: env.get("value", env.get("valueFrom")) for env in container.get("env") or []}


def volume(spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    found = [v for v in spec.get("volumes", []) if v["name"] == name]
    assert len(found) == 1, f"no volume {name!r} in {[v['name'] for v in spec.get('volumes', [])]}"
    return found[0]


def service_port(service: Mapping[str, Any], name: str | None = None) -> int:
    ports = service["spec"]["ports"]
    if name is None:
        assert len(ports) == 1, f"Service {service['metadata']['name']} has ports {ports}"
        return int(ports[0]["port"])
    return int(next(p["port"] for p in ports if p.get("name") == name))


# --- a hub's final values ------------------------------------------------------------------


@dataclass(frozen=True)
class HubCase:
    """A hub of an inventory, with variables overridden (as -e would)."""

    case_id: str
    host: str
    inventory: Path
    overrides: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class HubRender:
    """A hub's final values per release, and what the tests compare them with."""

    case: HubCase
    name: str
    namespace: str
    domain: str
    variables: dict[str, Any]
    registry: dict[str, Any]  # the registry definition (placeholder password)
    releases: dict[str, dict[str, Any]]  # release key -> name, chart, chart_ref, namespace, ...
    values: dict[str, dict[str, Any]]  # release key -> final values (secrets merged)
    secrets: dict[str, Any]  # the secret values file (placeholders)

    def release(self, key: str) -> str:
        return str(self.releases[key]["name"])

    def chart(self, key: str) -> Path:
        return Path(self.releases[key]["chart_ref"])


def hub_cases() -> list[HubCase]:
    """Every hub of inventories/local and inventories/example, the example's on the genuine charts."""
    directory = (("hub_charts_source", "directory"), ("hub_charts_dir", str(SHARED_CHARTS)))
    return ([HubCase(host, host, LOCAL_INVENTORY) for host in inventory_hosts(LOCAL_INVENTORY)]
            + [HubCase(host, host, EXAMPLE_INVENTORY, directory) for host in inventory_hosts(EXAMPLE_INVENTORY)])


def _set_path(data: dict[str, Any], dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


@functools.cache
def hub_render(case: HubCase) -> HubRender:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import final_values, render_model
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import (
        BINDER_TOKEN_KEY,
        auth_secret_keys,
        missing_secret_keys,
    )
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import desired_secret_values

    hub = inventory_hub(case.host, case.inventory)
    variables = {**hub.variables, **dict(case.overrides)}
    registry = local_registry_definition(hub)
    rendering = render_model(variables, registry, base_dir=hub.inventory_dir)
    rendered = rendering.result()
    # The secret values file as the secrets role writes it (registry credentials, the binder
    # token), plus the OAuth client secret a person adds.
    current: dict[str, Any] = {}
    _set_path(current, BINDER_TOKEN_KEY, PLACEHOLDER_TOKEN)
    for key in auth_secret_keys(rendering.model):
        _set_path(current, key, placeholder_secret(key))
    secrets = desired_secret_values(current, registry=registry, tokens=[{"path": BINDER_TOKEN_KEY, "length": 64}])
    missing = missing_secret_keys(secrets, rendered["required_secret_keys"])
    assert missing == [], f"{case.case_id}: placeholder secret values lack {missing}"
    # The final values, checked by the release rules (against the genuine charts' schemas too).
    values = final_values(rendering, secrets, "the secret values file")
    return HubRender(case=case, name=rendered["hub"], namespace=rendered["namespace"], domain=str(variables["hub_domain"]),
                     variables=variables, registry=registry, releases=rendered["releases"], values=values,
                     secrets=secrets)


def expected_releases(case: HubCase) -> list[str]:
    """The release keys a hub deploys, from its inventory variables (not from the toolkit's model)."""
    variables = {**inventory_hub(case.host, case.inventory).variables, **dict(case.overrides)}
    return ["jupyterhub", "binderhub-service"] + (["dask-gateway"] if variables.get("hub_dask_gateway_enabled") else [])


def release_params(cases: Iterable[HubCase]) -> list[tuple[HubCase, str]]:
    """(case, release key) for every release each hub deploys."""
    return [(case, key) for case in cases for key in expected_releases(case)]
