"""Read and check a fleet kept in the ``config/clusters/<cluster>/cluster.yaml`` layout.

The layout (one directory per cluster, helm values files beside ``cluster.yaml``, secret
ones sops-encrypted as ``enc-*.secret.values.yaml``)::

    config/clusters/<cluster>/cluster.yaml
        name: <cluster>
        provider: gcp | aws | azure | kubeconfig
        gcp: {project, cluster, zone (or region), key}       # the block of the provider
        aws: {account, clusterName, region, key}
        azure: {resource_group, cluster, key}
        kubeconfig: {file}
        hubs:
          - name: <hub>
            domain: <host name>
            helm_chart: basehub | daskhub
            helm_chart_values_files: [common.values.yaml, <hub>.values.yaml, enc-<hub>.secret.values.yaml]

``load_fleet`` reads every cluster and checks *every* hub of every cluster; each problem
names the file, the cluster, the hub and the key. ``cluster_variables`` and
``hub_variables`` map a checked cluster and hub onto the toolkit's inventory variables
(README, "Inventory variables"). Secret files are never decrypted here: they are only
checked for sops metadata and handed on as paths.

The ``hub_fleet_config`` inventory plugin is the user of this module; the functions are
plain so the tests and ``scripts/generate-fleet.py`` can use them too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import DNS_LABEL_RE, HOSTNAME_RE
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import is_sops_encrypted, name_looks_secret
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.fleet_chart_pins import ChartPinError, chart_pins
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.fleet_switches import switched_on, switched_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.yaml_problems import describe_yaml_error, load_strict

CLUSTER_FILE = "cluster.yaml"
PROVIDERS = ("gcp", "aws", "azure", "kubeconfig")
# Keys of each provider's block the toolkit needs; a tuple of alternatives where one suffices.
PROVIDER_REQUIRED_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "gcp": (("project",), ("cluster",), ("zone", "region")),
    "aws": (("account",), ("clusterName",), ("region",)),
    "azure": (("resource_group",), ("cluster",)),
    "kubeconfig": (("file",),),
}
# The file of deployer credentials each provider block names (sops-encrypted, never read here).
PROVIDER_CREDENTIALS_KEY = {"gcp": "key", "aws": "key", "azure": "key", "kubeconfig": "file"}
# helm_chart -> does the hub run dask-gateway beside JupyterHub?
HELM_CHARTS = {"basehub": False, "daskhub": True}
# The umbrella chart the layout's values files are written for (daskhub nests basehub's values).
UMBRELLA_CHART = "basehub"
CLUSTER_KEYS = ("name", "provider", "provider_url", "metadata", "support", "tenancy", "hubs", *PROVIDERS)
HUB_REQUIRED_KEYS = ("name", "domain", "helm_chart", "helm_chart_values_files")
HUB_KEYS = (*HUB_REQUIRED_KEYS, "display_name", "uptime_check", "domain_override_file", "chart_override")
# Keys of a hub entry the toolkit does not act on (reported in fleet_hub_ignored_keys).
HUB_IGNORED_KEYS = ("uptime_check", "domain_override_file")
HOST_NAME_MODES = ("cluster_hub", "hub")
STAGES = ("staging", "production")

_LITERAL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
DNS_LABEL_EXPECTED = "a DNS label (RFC 1123: lower-case letters, digits and '-', at most 63 characters)"
# How many hub names a cluster-level problem lists before "and N more".
_HUBS_LISTED = 5


class FleetConfigError(Exception):
    """The fleet has problems; ``problems`` lists every one of them."""

    def __init__(self, clusters_dir: str, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the fleet under {clusters_dir}:\n{lines}")


@dataclass(frozen=True)
class Problem:
    """One problem of one hub (or of every hub of a cluster), with file, cluster, hub and key."""

    file: str
    cluster: str
    hub: str  # "hub 'x'" or "hubs 'a', 'b'" (problems of the cluster affect all its hubs)
    key: str
    message: str
    # The names of the hubs of ``cluster`` it stops; empty when no hub can carry it (a hub entry
    # without a name, a cluster file that is not readable, an option of the source): then the
    # whole source fails.
    hubs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.file}: cluster {self.cluster!r}, {self.hub}: {self.key}: {self.message}"


@dataclass(frozen=True)
class FleetHub:
    name: str
    domain: str
    helm_chart: str
    values_files: tuple[str, ...]  # absolute paths, in their listed order
    display_name: str = ""
    ignored_keys: tuple[str, ...] = ()
    # Umbrella switches that are on (fleet_switches.py): chart -> the values file deciding.
    switched_on: tuple[tuple[str, str], ...] = ()
    # chart_override's pins (fleet_chart_pins.py): version variable -> (version, Chart.yaml).
    chart_pins: tuple[tuple[str, tuple[str, str]], ...] = ()


@dataclass(frozen=True)
class FleetCluster:
    name: str
    provider: str
    file: str  # absolute path of cluster.yaml
    provider_block: dict[str, Any]
    hubs: tuple[FleetHub, ...]

    @property
    def directory(self) -> str:
        return str(Path(self.file).parent)


@dataclass
class Fleet:
    clusters_dir: str
    clusters: list[FleetCluster] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Finding the clusters
# ---------------------------------------------------------------------------------------


def clusters_dir_of(config_dir: str | Path) -> Path:
    """``<config_dir>/config/clusters`` when it exists, else ``config_dir`` itself."""
    base = Path(config_dir).expanduser().absolute()
    nested = base / "config" / "clusters"
    return nested if nested.is_dir() else base


def cluster_files(clusters_dir: Path) -> list[Path]:
    """Every ``<cluster>/cluster.yaml`` directly below ``clusters_dir``, sorted."""
    return sorted(path for path in clusters_dir.glob(f"*/{CLUSTER_FILE}") if path.is_file())


def find_fleet_root(path: str | Path) -> Path | None:
    """The directory holding ``config/clusters`` when ``path`` lies below it, else None."""
    parts = Path(path).absolute().parts
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] == "clusters" and parts[index - 1] == "config":
            return Path(*parts[: index - 1])
    return None


# ---------------------------------------------------------------------------------------
# Checking one cluster file
# ---------------------------------------------------------------------------------------


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _hub_label(name: str) -> str:
    return f"hub {name!r}"


def _hubs_label(names: list[str]) -> str:
    if not names:
        return "no hubs"
    listed = ", ".join(repr(name) for name in names[:_HUBS_LISTED])
    more = f" and {len(names) - _HUBS_LISTED} more" if len(names) > _HUBS_LISTED else ""
    return f"hubs {listed}{more}" if len(names) > 1 else f"hub {listed}"


def _load_yaml(path: Path) -> object:
    """The file's YAML; a key repeated in one mapping is an error (PyYAML keeps the last silently)."""
    return load_strict(str(path))


# A hub entry's name line, to name the hubs of a cluster.yaml that is not readable YAML.
_HUB_NAME_LINE_RE = re.compile(r"^\s*-\s+name:\s*['\"]?([A-Za-z0-9_.-]+)['\"]?\s*(?:#.*)?$", re.MULTILINE)


def _hub_names_in_text(path: Path) -> list[str]:
    try:
        return _HUB_NAME_LINE_RE.findall(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


@dataclass
class _ClusterReader:
    """Collects the problems of one cluster file; the caches are shared across the fleet."""

    path: Path
    sops_cache: dict[str, bool]
    switch_cache: dict[str, dict[str, bool]] = field(default_factory=dict)
    cluster: str = "?"
    hub_names: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, hub: str, key: str, message: str, hubs: tuple[str, ...] = ()) -> None:
        self.problems.append(Problem(str(self.path), self.cluster, hub, key, message, hubs))

    def add_hub(self, name: str, label: str, key: str, message: str) -> None:
        """A problem of one hub (``name`` empty: a hub entry without a name, no host to carry it)."""
        self.add(label, key, message, (name,) if name else ())

    def add_cluster(self, key: str, message: str) -> None:
        self.add(_hubs_label(self.hub_names), key, message, tuple(self.hub_names))

    def is_encrypted(self, file_path: str) -> bool:
        if file_path not in self.sops_cache:
            self.sops_cache[file_path] = has_sops_metadata(file_path)
        return self.sops_cache[file_path]


def has_sops_metadata(path: str) -> bool:
    """``sops_files.is_sops_encrypted``: sops metadata in any YAML or JSON formatting."""
    return is_sops_encrypted(path)


def _hub_names_of(data: Mapping[str, Any]) -> list[str]:
    hubs = data.get("hubs")
    if not isinstance(hubs, list):
        return []
    return [str(hub["name"]) for hub in hubs if isinstance(hub, Mapping) and hub.get("name")]


def _check_cluster_keys(reader: _ClusterReader, data: Mapping[str, Any]) -> None:
    for key in data:
        if key not in CLUSTER_KEYS:
            reader.add_cluster(str(key), "unknown key of cluster.yaml; expected one of " + ", ".join(CLUSTER_KEYS)
                               + _did_you_mean(str(key), CLUSTER_KEYS))


def _read_cluster_name(reader: _ClusterReader, data: Mapping[str, Any]) -> str:
    name = data.get("name")
    if name is None or name == "":
        reader.add_cluster("name", "is missing; expected the cluster's name (" + DNS_LABEL_EXPECTED + ")")
        return ""
    text = str(name)
    reader.cluster = text
    if not DNS_LABEL_RE.match(text):
        reader.add_cluster("name", f"{text!r} is not valid; expected {DNS_LABEL_EXPECTED}")
        return ""
    return text


def _read_provider(reader: _ClusterReader, data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The provider and its block; problems when they are missing or do not match."""
    provider = data.get("provider")
    if provider is None or provider == "":
        reader.add_cluster("provider", "is missing; expected one of " + ", ".join(PROVIDERS))
        provider = ""
    elif provider not in PROVIDERS:
        reader.add_cluster("provider", f"{provider!r} is not supported; expected one of " + ", ".join(PROVIDERS)
                           + _did_you_mean(str(provider), PROVIDERS))
        provider = ""
    for other in PROVIDERS:
        if other != provider and other in data:
            what = f"provider is {provider!r}" if provider else "the provider is not valid"
            reader.add_cluster(other, f"a {other!r} block, but {what}; expected only the block of the cluster's "
                               "provider (its credentials and location)")
    if not provider:
        return "", {}
    block = data.get(provider)
    if not isinstance(block, Mapping):
        found = "is missing" if block is None else f"is a {type(block).__name__}"
        reader.add_cluster(provider, f"{found}, but provider is {provider!r}; expected a mapping with "
                           + ", ".join(" or ".join(alternatives) for alternatives in PROVIDER_REQUIRED_KEYS[provider]))
        return provider, {}
    for alternatives in PROVIDER_REQUIRED_KEYS[provider]:
        if not any(block.get(key) not in (None, "") for key in alternatives):
            reader.add_cluster(f"{provider}.{alternatives[0]}", "is missing; expected it for provider "
                               f"{provider!r}" + (f" (or {provider}.{alternatives[1]})" if len(alternatives) > 1 else ""))
    return provider, dict(block)


def _check_hub_keys(reader: _ClusterReader, name: str, label: str, entry: Mapping[str, Any]) -> None:
    for key in entry:
        if key not in HUB_KEYS:
            reader.add_hub(name, label, str(key), "unknown key of a hub; expected one of " + ", ".join(HUB_KEYS)
                       + _did_you_mean(str(key), HUB_KEYS))
    for key in HUB_REQUIRED_KEYS:
        if entry.get(key) in (None, "", []):
            reader.add_hub(name, label, key, "is missing or empty; every hub needs " + ", ".join(HUB_REQUIRED_KEYS))


def _read_values_files(reader: _ClusterReader, name: str, label: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.add_hub(name, label, "helm_chart_values_files", f"is a {type(value).__name__}; expected a list of file names "
                   "relative to cluster.yaml")
        return ()
    files: list[str] = []
    for index, item in enumerate(value):
        key = f"helm_chart_values_files[{index}]"
        if not isinstance(item, str) or not item:
            reader.add_hub(name, label, key, f"{item!r} is not a file name; expected a path relative to cluster.yaml")
            continue
        full = str((reader.path.parent / item).resolve()) if not Path(item).is_absolute() else item
        if not Path(full).is_file():
            reader.add_hub(name, label, key, f"{item} does not exist (looked for {full})")
            continue
        if name_looks_secret(full) and not reader.is_encrypted(full):
            reader.add_hub(name, label, key, f"{item} is named like a secret but has no top-level 'sops' key: it may have "
                       "leaked; expected a sops-encrypted file (sops --encrypt --in-place)")
            continue
        files.append(full)
    return tuple(files)


def _read_hub(reader: _ClusterReader, index: int, entry: object, seen: dict[str, int]) -> FleetHub | None:
    if not isinstance(entry, Mapping):
        reader.add(f"hubs[{index}]", f"hubs[{index}]", f"is a {type(entry).__name__}; expected a mapping with "
                   + ", ".join(HUB_REQUIRED_KEYS))
        return None
    raw_name = entry.get("name")
    name = str(raw_name) if raw_name not in (None, "") else ""
    label = _hub_label(name) if name else f"hubs[{index}] (no name)"
    _check_hub_keys(reader, name, label, entry)
    if name and not DNS_LABEL_RE.match(name):
        reader.add_hub(name, label, "name", f"{name!r} is not valid; expected {DNS_LABEL_EXPECTED}, as it names the hub's "
                   "namespace")
    if name and name in seen:
        reader.add_hub(name, label, "name", f"{name!r} is used by hubs[{seen[name]}] and hubs[{index}] of this cluster; "
                   "expected a unique name per cluster (it names the hub's namespace)")
    elif name:
        seen[name] = index
    domain = str(entry.get("domain") or "")
    if domain and not HOSTNAME_RE.match(domain):
        reader.add_hub(name, label, "domain", f"{domain!r} is not valid; expected the hub's public host name in lower case")
    chart = str(entry.get("helm_chart") or "")
    if chart and chart not in HELM_CHARTS:
        reader.add_hub(name, label, "helm_chart", f"{chart!r} is not supported; expected one of " + ", ".join(HELM_CHARTS)
                   + _did_you_mean(chart, HELM_CHARTS))
    files = _read_values_files(reader, name, label, entry.get("helm_chart_values_files"))
    duplicate = bool(name) and seen.get(name) != index
    if not name or duplicate:  # a second entry of a name: the first one's host carries the problem
        return None
    # Kept with its problems, which stop it (and only it) in the validate play.
    plain = [path for path in files if not reader.is_encrypted(path)] if files else []
    pins: dict[str, tuple[str, str]] = {}
    if entry.get("chart_override") is not None:
        try:
            pins = chart_pins(entry.get("chart_override"), reader.path.parent, reader.path.parent.parent.parent.parent)
        except ChartPinError as exc:
            reader.add_hub(name, label, "chart_override", str(exc))
    return FleetHub(name=name, domain=domain, helm_chart=chart, values_files=files,
                    display_name=str(entry.get("display_name") or ""),
                    ignored_keys=tuple(key for key in HUB_IGNORED_KEYS if key in entry),
                    switched_on=tuple(switched_on(plain, reader.switch_cache).items()),
                    chart_pins=tuple(pins.items()))


def read_cluster_file(path: Path, sops_cache: dict[str, bool] | None = None,
                      switch_cache: dict[str, dict[str, bool]] | None = None) -> tuple[FleetCluster | None, list[Problem]]:
    """One ``cluster.yaml``: the cluster and every problem found.

    The cluster (None without a valid name) is only usable when there are no problems; it
    is returned anyway, with the hubs whose names are valid, for the checks across clusters.
    """
    reader = _ClusterReader(path=path.absolute(), sops_cache={} if sops_cache is None else sops_cache,
                            switch_cache={} if switch_cache is None else switch_cache)
    reader.cluster = path.parent.name  # until the file names it
    try:
        data = _load_yaml(path)
    except OSError as exc:
        reader.add_cluster("-", f"cannot be read ({exc.strerror})")
        return None, reader.problems
    except yaml.YAMLError as exc:
        # What the parser found and where, never the line itself.
        reader.hub_names = _hub_names_in_text(path)
        reader.add_cluster("-", f"is not valid YAML: {describe_yaml_error(exc)}; expected the cluster's mapping "
                           "(name, provider, hubs), each key once")
        return None, reader.problems
    if not isinstance(data, Mapping):
        reader.add_cluster("-", f"holds a {type(data).__name__}; expected a mapping with name, provider and hubs")
        return None, reader.problems
    reader.hub_names = _hub_names_of(data)
    name = _read_cluster_name(reader, data)
    _check_cluster_keys(reader, data)
    provider, block = _read_provider(reader, data)
    hubs_value = data.get("hubs")
    entries: list[object] = []
    if hubs_value is None:
        reader.add_cluster("hubs", "is missing; expected a list of hubs (an empty list for none)")
    elif not isinstance(hubs_value, list):
        reader.add_cluster("hubs", f"is a {type(hubs_value).__name__}; expected a list of hubs")
    else:
        entries = list(hubs_value)
    seen: dict[str, int] = {}
    hubs = [_read_hub(reader, index, entry, seen) for index, entry in enumerate(entries)]
    if not name:
        return None, reader.problems
    return FleetCluster(name=name, provider=provider, file=str(reader.path), provider_block=block,
                        hubs=tuple(hub for hub in hubs if hub is not None)), reader.problems


# ---------------------------------------------------------------------------------------
# The whole fleet
# ---------------------------------------------------------------------------------------


def host_name(cluster: str, hub: str, mode: str) -> str:
    """The Ansible host name of a hub: ``<cluster>-<hub>`` (mode ``cluster_hub``, the default: a
    hub is its cluster and its name, and a host name never changes when another cluster gets a
    hub of the same name), or the hub name (mode ``hub``, hub names unique across the fleet)."""
    return hub if mode == "hub" else f"{cluster}-{hub}"


_Users = dict[str, list[tuple["FleetCluster", "FleetHub"]]]


def _duplicates(entries: _Users, key: str, describe: Callable[[str, FleetCluster, FleetHub], str],
                expected: str, *, per_hub: bool) -> list[Problem]:
    """A problem for every hub sharing ``key``'s value with others, naming the others; ``per_hub``:
    each hub's host carries it (else the hubs would be one host, and the source fails)."""
    problems: list[Problem] = []
    for value, users in entries.items():
        for cluster, hub in users if len(users) > 1 else ():
            others = "; ".join(describe(value, c, h) for c, h in users if (c, h) != (cluster, hub))
            problems.append(Problem(cluster.file, cluster.name, _hub_label(hub.name), key, f"{others}; expected {expected}",
                                    (hub.name,) if per_hub else ()))
    return problems


def _check_across_clusters(clusters: list[FleetCluster], mode: str) -> list[Problem]:
    """Duplicate cluster names, host names (hub names in mode ``hub``) and domains across files."""
    problems: list[Problem] = []
    cluster_files_by_name: dict[str, str] = {}
    hosts: _Users = {}
    domains: _Users = {}
    for cluster in clusters:
        if cluster.name in cluster_files_by_name:  # no host can carry it: the source fails
            problems.append(Problem(cluster.file, cluster.name, _hubs_label([h.name for h in cluster.hubs]), "name",
                                    f"cluster name {cluster.name!r} is also used by {cluster_files_by_name[cluster.name]}; "
                                    "expected a unique cluster name"))
            continue
        cluster_files_by_name[cluster.name] = cluster.file
        for hub in cluster.hubs:
            hosts.setdefault(host_name(cluster.name, hub.name, mode), []).append((cluster, hub))
            if hub.domain:
                domains.setdefault(hub.domain, []).append((cluster, hub))

    def host_user(host: str, cluster: FleetCluster, hub: FleetHub) -> str:
        if mode == "hub":
            return f"hub name {host!r} is also used by cluster {cluster.name!r} ({cluster.file})"
        return f"host name {host!r} is also that of hub {hub.name!r} of cluster {cluster.name!r} ({cluster.file})"

    def domain_user(domain: str, cluster: FleetCluster, hub: FleetHub) -> str:
        return f"{domain!r} is also the domain of hub {hub.name!r} of cluster {cluster.name!r} ({cluster.file})"

    expected_hosts = ("hub names unique across the fleet, as they are the inventory's host names (or the plugin "
                      "option host_names: cluster_hub, the default)" if mode == "hub"
                      else "host names <cluster>-<hub> unique across the fleet")
    problems += _duplicates(hosts, "name", host_user, expected_hosts, per_hub=False)
    problems += _duplicates(domains, "domain", domain_user, "one hub per domain", per_hub=True)
    return problems


def load_fleet(config_dir: str | Path, host_names: str = "cluster_hub") -> Fleet:
    """Every cluster under ``config_dir`` (or its ``config/clusters``), with all problems found."""
    clusters_dir = clusters_dir_of(config_dir)
    fleet = Fleet(clusters_dir=str(clusters_dir))
    files = cluster_files(clusters_dir)
    if not files:
        fleet.problems.append(Problem(str(clusters_dir), "-", "no hubs", "-",
                                      f"no {CLUSTER_FILE} found; expected <dir>/config/clusters/<cluster>/{CLUSTER_FILE}"))
        return fleet
    sops_cache: dict[str, bool] = {}
    switch_cache: dict[str, dict[str, bool]] = {}
    for path in files:
        cluster, problems = read_cluster_file(path, sops_cache, switch_cache)
        fleet.problems.extend(problems)
        if cluster is not None:
            fleet.clusters.append(cluster)
    fleet.problems.extend(_check_across_clusters(fleet.clusters, host_names))
    return fleet


def problems_by_host(fleet: Fleet, problems: Iterable[Problem], mode: str) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """(host -> the problems that stop that hub, the problems no host can carry).

    A problem of named hubs of a readable cluster stops those hubs only (each in the validate
    play; the other hubs go on); a problem without such hubs (a hub entry without a name, a
    cluster file that is not readable or names no valid cluster, two hubs that would be one host,
    an option of the source) leaves no hub to stop, so the whole source fails with it.
    """
    hosts = {(cluster.name, hub.name): host_name(cluster.name, hub.name, mode)
             for cluster in fleet.clusters for hub in cluster.hubs}
    per_host: dict[str, list[Problem]] = {}
    unplaced: list[Problem] = []
    for problem in problems:
        found = [hosts.get((problem.cluster, hub)) for hub in problem.hubs]
        if not found or None in found:
            unplaced.append(problem)
            continue
        for host in found:
            per_host.setdefault(str(host), []).append(problem)
    return per_host, unplaced


def checked_fleet(config_dir: str | Path, host_names: str = "cluster_hub") -> Fleet:
    """``load_fleet``, raising ``FleetConfigError`` with every problem when there is any."""
    fleet = load_fleet(config_dir, host_names)
    if fleet.problems:
        raise FleetConfigError(fleet.clusters_dir, fleet.problems)
    return fleet


# ---------------------------------------------------------------------------------------
# Inventory variables
# ---------------------------------------------------------------------------------------


def group_name(prefix: str, name: str) -> str:
    """``cluster_<name>`` / ``provider_<name>`` with ``-`` as ``_`` (valid Ansible group names)."""
    return f"{prefix}_{name.replace('-', '_').replace('.', '_')}"


def stage_of(hub: str, pattern: str = "staging") -> tuple[str, str]:
    """(hub_stage, where it came from) by the imported naming convention."""
    literal = bool(_LITERAL_RE.match(pattern))
    matches = (pattern in hub) if literal else bool(re.search(pattern, hub))
    rule = f"name contains {pattern!r}" if literal else f"name matches the pattern {pattern!r}"
    if matches:
        return "staging", f"{rule} (imported convention)"
    negated = f"name does not contain {pattern!r}" if literal else f"name does not match the pattern {pattern!r}"
    return "production", f"{negated} (imported convention)"


def kube_access(cluster: FleetCluster) -> dict[str, Any]:
    """How to reach a cluster by its provider block: kubeconfig, context, credentials file.

    - gcp: the context ``gcloud container clusters get-credentials`` writes,
      ``gke_<project>_<zone or region>_<cluster>``;
    - aws: the context ``aws eks update-kubeconfig`` writes, the cluster ARN
      ``arn:aws:eks:<region>:<account>:cluster/<clusterName>``;
    - azure: the context ``az aks get-credentials`` writes, the AKS cluster's name;
    - kubeconfig: the file itself when it is plain; a sops-encrypted one cannot be handed
      to helm, so the context is the cluster's name (decrypt it into your kubeconfig
      under that name, or override the kubeconfig).
    """
    block = cluster.provider_block
    directory = Path(cluster.directory)
    credentials = block.get(PROVIDER_CREDENTIALS_KEY.get(cluster.provider, ""))
    credentials_file = str((directory / str(credentials)).resolve()) if credentials else ""
    kubeconfig, context, encrypted = "", "", False
    if cluster.provider == "gcp":
        location = block.get("zone") or block.get("region")
        context = f"gke_{block.get('project')}_{location}_{block.get('cluster')}"
    elif cluster.provider == "aws":
        context = f"arn:aws:eks:{block.get('region')}:{block.get('account')}:cluster/{block.get('clusterName')}"
    elif cluster.provider == "azure":
        context = str(block.get("cluster"))
    elif credentials_file and Path(credentials_file).is_file() and has_sops_metadata(credentials_file):
        context, encrypted = cluster.name, True
    else:
        kubeconfig = credentials_file
    return {"kubeconfig": kubeconfig, "context": context, "credentials_file": credentials_file,
            "kubeconfig_encrypted": encrypted}


def cluster_variables(cluster: FleetCluster, *, local: bool = False) -> dict[str, Any]:
    """The cluster group's variables (group_vars beside the inventory source override them)."""
    access = kube_access(cluster)
    variables: dict[str, Any] = {
        "cluster_name": cluster.name,
        "cluster_provider": cluster.provider,
        "cluster_local": local,
        "cluster_kubeconfig": access["kubeconfig"],
        "cluster_kube_context": access["context"],
        # The toolkit's secrets role keeps enc-<hub>.secret.values.yaml beside cluster.yaml,
        # where the layout already has it.
        "secrets_dir": cluster.directory,
        "fleet_cluster_file": cluster.file,
        "fleet_cluster_credentials_file": access["credentials_file"],
    }
    if access["kubeconfig_encrypted"]:
        variables["fleet_cluster_kubeconfig_encrypted"] = True
    return variables


def hub_variables(hub: FleetHub, *, staging_pattern: str = "staging",
                  prepend_values_files: Iterable[str] = ()) -> dict[str, Any]:
    """A hub's host variables."""
    stage, source = stage_of(hub.name, staging_pattern)
    variables: dict[str, Any] = {
        "hub_name": hub.name,
        "hub_namespace": hub.name,
        # The incumbent names each hub's release after the hub: keep it, whatever the default.
        "jupyterhub_release_name": hub.name,
        "hub_domain": hub.domain,
        "hub_stage": stage,
        "fleet_hub_stage_source": source,
        "hub_values_files": [*prepend_values_files, *hub.values_files],
        "hub_dask_gateway_enabled": HELM_CHARTS.get(hub.helm_chart, False),
        # The incumbent's values are written for its umbrella chart (hub_model/adoption.py).
        "hub_adoption_umbrella": UMBRELLA_CHART,
        "fleet_helm_chart": hub.helm_chart,
    }
    if hub.switched_on:
        variables.update(switched_variables(dict(hub.switched_on)))
        variables["fleet_chart_switches"] = {chart: f"{path}: {chart}.enabled" for chart, path in hub.switched_on}
    if hub.chart_pins:
        variables.update({variable: version for variable, (version, _) in hub.chart_pins})
        variables["fleet_chart_pins"] = {variable: f"{version} (chart_override: {path})"
                                         for variable, (version, path) in hub.chart_pins}
    if hub.display_name:
        variables["fleet_hub_display_name"] = hub.display_name
    if hub.ignored_keys:
        variables["fleet_hub_ignored_keys"] = list(hub.ignored_keys)
    return variables
