"""Names that must be unique across hubs: per cluster ``hub_name``, ``hub_namespace`` and the
names of the releases' cluster-scoped objects; across the fleet the hub's secret values file
(``<secrets_dir>/enc-<hub_name>.secret.values.yaml``, ``secret_values.secret_values_file``),
and the host name (Ansible's own rule).

Each hub is validated alone by the hub model, so two hubs that would deploy into one
namespace, or two hosts that are the same hub, pass it. These plain functions compare the
selected hubs and name both hosts, the variable and the value, e.g.::

    hub 'research-2': hub_namespace: 'research' is also the namespace of hub 'research' on
    cluster 'europe'; expected a namespace of its own per cluster (it defaults to hub_name)

The charts name some cluster-scoped objects after the *release* (``chart_names.cluster_scoped_objects``),
so two hubs of one cluster whose releases share a name would fight over them: helm refuses the
second ("invalid ownership metadata") after its namespace was made. Caught here, before anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_names import cluster_scoped_objects
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES, release_name_default
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import secret_values_file


@dataclass(frozen=True)
class HubIdentity:
    """Who a hub is: its host, its hub_name and namespace (defaults applied), its cluster and its
    releases (chart -> release name, defaults applied)."""

    host: str
    name: str
    namespace: str
    cluster: str
    releases: dict[str, str] = field(default_factory=dict, compare=False)
    secrets_file: str = field(default="", compare=False)


# The variables a hub's identity is made of.
IDENTITY_VARIABLES = ("hub_name", "hub_namespace", "cluster_name", "hub_dask_gateway_enabled", "secrets_dir", "inventory_dir",
                      "jupyterhub_release_name", "binderhub_service_release_name", "jupyterhub_dask_gateway_release_name")


def read_identity(host: str, read: Callable[[str], object], errors: tuple[type[Exception], ...]) -> HubIdentity | None:
    """The identity of ``host`` from its variables as ``read(name)`` gives them (templated), or None
    when one raises one of ``errors`` (a variable that does not template is the hub model's to report)."""
    try:
        variables = {name: read(name) for name in IDENTITY_VARIABLES}
    except errors:
        return None
    return hub_identity(host, variables)


def hub_identity(host: str, variables: Mapping[str, object]) -> HubIdentity | None:
    """The identity of one hub from its variables, or None when they are not strings.

    ``hub_name`` defaults to the host, ``hub_namespace`` to ``hub_name``, the release names to
    the hub model's defaults (dask-gateway only with ``hub_dask_gateway_enabled``); values of the
    wrong type are left to the hub model, which reports them.
    """
    name = variables.get("hub_name") or host
    namespace = variables.get("hub_namespace") or name
    cluster = variables.get("cluster_name") or ""
    if not all(isinstance(value, str) for value in (name, namespace, cluster)):
        return None
    secrets_dir = variables.get("secrets_dir") or (f"{variables['inventory_dir']}/secrets"
                                                     if isinstance(variables.get("inventory_dir"), str) else "")
    secrets_file = secret_values_file(secrets_dir, name) if isinstance(secrets_dir, str) and secrets_dir else ""
    releases: dict[str, str] = {}
    for chart, prefix in RELEASE_PREFIXES.items():
        if chart == "dask-gateway" and variables.get("hub_dask_gateway_enabled") is not True:
            continue
        release = variables.get(f"{prefix}_release_name") or release_name_default(str(name), prefix)
        if isinstance(release, str):
            releases[chart] = release
    return HubIdentity(host=host, name=str(name), namespace=str(namespace), cluster=str(cluster), releases=releases,
                       secrets_file=secrets_file)


# What two hubs may not share: the variable, the value compared (per cluster or fleet-wide), what it
# is of the other hub(s) and what is expected instead.
SHARED_RULES: tuple[tuple[str, Callable[[HubIdentity], tuple[str, ...]], str, str], ...] = (
    ("hub_name", lambda hub: (hub.cluster, hub.name), "the hub_name of host(s) {others} on cluster {cluster!r}",
     "a hub_name of its own per cluster (it defaults to the inventory hostname)"),
    ("secrets_dir", lambda hub: (hub.secrets_file,), "the secret values file of host(s) {others}",
     "a secret values file of its own (hubs of one name on several clusters need a secrets_dir per cluster, "
     'e.g. "{{ inventory_dir }}/secrets/{{ cluster_name }}")'),
    ("hub_namespace", lambda hub: (hub.cluster, hub.namespace), "the namespace of hub(s) {others} on cluster {cluster!r}",
     "a namespace of its own per cluster (it defaults to hub_name)"),
)
RULE_VALUES = {"hub_name": lambda hub: repr(hub.name), "secrets_dir": lambda hub: hub.secrets_file,
               "hub_namespace": lambda hub: repr(hub.namespace)}


def _others(hub: HubIdentity, found: list[HubIdentity]) -> str:
    return ", ".join(repr(other.host) for other in found if other.host != hub.host)


def duplicate_problems(hubs: Iterable[HubIdentity]) -> dict[str, list[str]]:
    """Host -> messages for every hub that shares its hub_name or namespace with another hub of
    its cluster, or its secret values file with any other hub; hubs without duplicates are absent."""
    hubs = list(hubs)
    problems: dict[str, list[str]] = {}
    for variable, key, what, expected in SHARED_RULES:
        users: dict[tuple[str, ...], list[HubIdentity]] = {}
        for hub in hubs:
            if all(key(hub)):
                users.setdefault(key(hub), []).append(hub)
        for found in (found for found in users.values() if len(found) > 1):
            for hub in found:
                also = what.format(others=_others(hub, found), cluster=hub.cluster)
                problems.setdefault(hub.host, []).append(
                    f"hub {hub.host!r}: {variable}: {RULE_VALUES[variable](hub)} is also {also}; expected {expected}")
    _cluster_object_problems(hubs, problems)
    return problems


def _cluster_object_problems(hubs: list[HubIdentity], problems: dict[str, list[str]]) -> None:
    """Add a message for each hub whose releases would create a cluster-scoped object that a
    release of another hub of its cluster creates too."""
    owners: dict[tuple[str, str, str], list[tuple[HubIdentity, str, str]]] = {}
    for hub in hubs:
        for chart, release in hub.releases.items():
            for kind, name in cluster_scoped_objects(chart, release):
                owners.setdefault((hub.cluster, kind, name), []).append((hub, chart, release))
    reported: set[tuple[str, str]] = set()
    for (cluster, kind, name), found in owners.items():
        hosts = {hub.host for hub, _, _ in found}
        if len(hosts) < 2:
            continue
        for hub, chart, release in found:
            if (hub.host, chart) in reported:
                continue  # one message per release: its other objects collide the same way
            reported.add((hub.host, chart))
            others = ", ".join(f"{other.host!r} (release {other_release!r})"
                               for other, _, other_release in found if other.host != hub.host)
            problems.setdefault(hub.host, []).append(
                f"hub {hub.host!r}: {RELEASE_PREFIXES[chart]}_release_name: release {release!r} would create "
                f"{kind} {name!r}, which hub(s) {others} on cluster {cluster!r} create(s) too; expected a release "
                "name of its own per cluster (release names default to the hub's name)")
