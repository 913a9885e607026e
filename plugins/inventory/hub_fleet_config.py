"""Inventory plugin ``hub_fleet_config``: a fleet kept as ``config/clusters/<cluster>/cluster.yaml``."""

from __future__ import annotations

DOCUMENTATION = r"""
name: hub_fleet_config
short_description: Hubs of a fleet kept in the config/clusters/<cluster>/cluster.yaml layout
description:
  - Reads every C(config/clusters/<cluster>/cluster.yaml) of a fleet directory (one file per cluster, listing
    its hubs; helm values files beside it, secret ones sops-encrypted as C(enc-*.secret.values.yaml)) and yields
    the toolkit's inventory, so C(playbooks/hub.yml) deploys those hubs without rewriting the data.
  - "Groups: C(provider_<provider>) containing C(cluster_<cluster>) (C(-) becomes C(_)), which contains the cluster's
    hubs; C(stage_staging) and C(stage_production) by each hub's C(hub_stage)."
  - "Hosts: one per hub, named C(<cluster>-<hub>) (O(host_names=cluster_hub), the default: a hub is its cluster and
    its name, so every cluster may have e.g. a C(staging) and a C(prod) hub, and a host's name never changes when
    another cluster gets a hub of the same name), or after the hub (O(host_names=hub); hub names must then be unique
    across the fleet). The hub's own names are the incumbent's either way: C(hub_name), C(hub_namespace) and
    C(jupyterhub_release_name) are the hub's name, C(secrets_dir) its cluster's directory."
  - "Cluster group variables: C(cluster_name), C(cluster_provider), C(cluster_kubeconfig) and
    C(cluster_kube_context) derived from the provider block (gcp: C(gke_<project>_<zone or region>_<cluster>);
    aws: C(arn:aws:eks:<region>:<account>:cluster/<clusterName>); azure: the AKS cluster name; kubeconfig: the
    file when it is plain, else context C(<cluster name>) of the default kubeconfig), C(cluster_local),
    C(secrets_dir) (the cluster.yaml directory, where C(enc-<hub>.secret.values.yaml) already lives),
    C(fleet_cluster_file), C(fleet_cluster_credentials_file)."
  - "Host variables: C(hub_name), C(hub_namespace) and C(jupyterhub_release_name) (the hub name, as the layout's
    deployer names them), C(hub_domain), C(hub_stage) with
    C(fleet_hub_stage_source) saying where it came from, C(hub_values_files) (the hub's
    C(helm_chart_values_files) as absolute paths in their listed order, secret files included as paths: they are
    never decrypted here), C(hub_dask_gateway_enabled) (true for C(helm_chart: daskhub)), C(fleet_helm_chart),
    C(fleet_hub_display_name)."
  - "The umbrella chart's switches in a hub's plain values files are mapped to the hub's settings: a
    C(binderhub-service.enabled: true) sets C(hub_image_building: enabled), a C(dask-gateway.enabled: true) sets
    C(hub_dask_gateway_enabled: true) (the last file setting a switch decides; C(fleet_chart_switches) names it).
    The switch itself is not a chart value: the hub model drops it, and refuses one that disagrees with the hub's
    settings (e.g. from O(hub_vars)) or sits in an encrypted file of a hub without that release."
  - "Values written for the umbrella chart: C(hub_adoption_umbrella) is C(basehub) on every hub, so values nested
    under C(basehub:) (a C(daskhub) hub's files) are unwrapped, and C(jupyterhub.custom.*) and top-level keys that
    are no chart of the hub (C(nfs), C(jupyterhub-home-nfs), ...) are refused until the operator decides
    (C(hub_adoption_accepted); the validate play lists each hub's adoption report). A hub's C(chart_override) (the
    umbrella C(Chart.yaml) it is deployed with) pins its charts: the C(jupyterhub), C(binderhub-service) and
    C(dask-gateway) dependency versions become C(jupyterhub_chart_version), C(binderhub_service_chart_version),
    C(jupyterhub_dask_gateway_chart_version) (C(fleet_chart_pins) names the file); one that cannot be read or pins
    no jupyterhub is a problem of the hub."
  - Every hub of every cluster is checked before anything is added, each problem named once with the file, the
    cluster, the hub and the key. A problem of a hub (or of its cluster) stops that hub only - it is added with the
    problems in C(fleet_problems), in group C(fleet_refused), and fails the validate play of C(playbooks/hub.yml)
    (and the first task of the other playbooks) - while the other hubs load and deploy; a warning names the hubs
    stopped. A problem no hub can carry (a hub entry without a name, a C(cluster.yaml) that is not readable or
    names no valid cluster, two hubs that would be one host, an option naming what the fleet lacks) fails the
    source, with every problem listed once. See O(config_dir) for the rules.
  - Variables the layout does not carry (C(jupyterhub_auth), C(registry_*), C(cluster_node_pools), ...) come from
    C(group_vars/) and C(host_vars/) beside the inventory source (Ansible loads them for any source; they override
    this plugin's group variables) or from the O(fleet_vars), O(provider_vars), O(cluster_vars) and O(hub_vars)
    options.
  - "The source is a YAML file whose name ends in C(.fleet.yml), C(.fleet.yaml) or is C(hub_fleet_config.yml)
    (C(.yaml)), with C(plugin: hub_fleet_config). A fleet directory given directly (C(-i <dir>) where C(<dir>)
    holds C(config/clusters)) works too: every file below C(config/clusters) is claimed by this plugin (so no other
    plugin reads a values file as an inventory) and the fleet is read once, with the options of the directory's
    own source file when it has exactly one, else with the defaults. Problems found that way are shown as an
    error and no hub is added; a source file given directly fails as an inventory source."
options:
  plugin:
    description: Marks the file as a source of this plugin.
    required: true
    choices: [imagebuilding.hubs.hub_fleet_config]
  config_dir:
    description:
      - The fleet directory, holding C(config/clusters/<cluster>/cluster.yaml), or the C(config/clusters) directory
        itself. Relative paths start at the source file's directory; empty or unset, the source file's directory.
      - "Checks, on every hub of every cluster: C(provider) is one of gcp, aws, azure, kubeconfig; the cluster has
        the block of its provider with its keys (gcp C(project), C(cluster), C(zone) or C(region); aws C(account),
        C(clusterName), C(region); azure C(resource_group), C(cluster); kubeconfig C(file)) and no block of another
        provider; C(name) (cluster and hub) is a DNS label; a hub has C(name), C(domain), C(helm_chart)
        (basehub or daskhub) and C(helm_chart_values_files); hub names are unique in the cluster, and host names
        across the fleet; domains are unique; every values file exists; a values file whose name contains
        C(secret) has a top-level C(sops) key; no unknown keys (the layout's own schema refuses them too)."
    type: str
  host_names:
    description:
      - C(cluster_hub) names each host C(<cluster>-<hub>) (hub names unique per cluster); C(hub) names it after
        its hub (hub names must be unique across the fleet).
    type: str
    choices: [cluster_hub, hub]
    default: cluster_hub
  staging_pattern:
    description:
      - The imported convention for C(hub_stage) - a hub whose name contains this text (or matches it, when it is
        a regular expression) is C(staging), every other hub C(production). C(fleet_hub_stage_source) records the
        rule; a C(hub_stage) in O(hub_vars) wins (and is recorded as such).
    type: str
    default: staging
  local:
    description: Sets C(cluster_local=true) on every cluster. Only for tests against the embedded local cluster.
    type: bool
    default: false
  kubeconfig_override:
    description:
      - A kubeconfig for every cluster instead of the one derived from its provider block. Relative paths start at
        the source file's directory.
    type: str
  kube_context_override:
    description:
      - A context for every cluster instead of the derived one; an empty string means the kubeconfig's current
        context.
    type: str
  kubeconfig_overrides:
    description:
      - Per cluster name, C(kubeconfig) and/or C(context); wins over O(kubeconfig_override) and
        O(kube_context_override).
    type: dict
    default: {}
  prepend_values_files:
    description:
      - Values files put before every hub's own files in C(hub_values_files), e.g. settings a test cluster needs.
        Relative paths start at the source file's directory.
    type: list
    elements: str
    default: []
  fleet_vars:
    description: Variables of the C(all) group (the lowest precedence; group_vars files override them).
    type: dict
    default: {}
  provider_vars:
    description: Per provider (gcp, aws, azure, kubeconfig), variables of its C(provider_<provider>) group.
    type: dict
    default: {}
  cluster_vars:
    description: Per cluster name, variables of its C(cluster_<cluster>) group.
    type: dict
    default: {}
  hub_vars:
    description:
      - Per host name, host variables set after the plugin's own (a C(hub_stage) here is the hub's explicit
        stage). Host vars files beside the source override them in turn.
    type: dict
    default: {}
"""

EXAMPLES = r"""
# <fleet repository>/hubs.fleet.yml -- ansible-playbook -i hubs.fleet.yml playbooks/hub.yml -l <hub>
plugin: hub_fleet_config
# config_dir: .                      # holds config/clusters/<cluster>/cluster.yaml
# host_names: hub                    # hosts named after the hubs (unique across the fleet)
provider_vars:
  gcp: {registry_type: gcp}
  aws: {registry_type: quay, registry_quay_org: my-org}

---
# A test source pointing every cluster at the embedded local cluster
plugin: hub_fleet_config
config_dir: ../data/fleet
local: true
kubeconfig_override: /work/main/.local/cluster/kubeconfig
kube_context_override: ""
fleet_vars:
  hub_charts_source: directory
  hub_charts_dir: /work/shared/charts    # the unpacked charts
"""

import sys
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.display import Display
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.fleet_config import (
    PROVIDERS,
    STAGES,
    Fleet,
    FleetConfigError,
    Problem,
    cluster_files,
    cluster_variables,
    clusters_dir_of,
    find_fleet_root,
    group_name,
    host_name,
    hub_variables,
    load_fleet,
    problems_by_host,
)

display = Display()

SOURCE_SUFFIXES = (".fleet.yml", ".fleet.yaml")
SOURCE_NAMES = ("hub_fleet_config.yml", "hub_fleet_config.yaml")
STAGE_GROUPS = {stage: f"stage_{stage}" for stage in STAGES}
# Hubs whose entries have problems: each carries them in fleet_problems and fails the validate play.
REFUSED_GROUP = "fleet_refused"
# Per inventory being built: the sources read, and the problems of those that failed. Every
# source of one inventory shares it (a fleet directory and its files are read once).
READ_STATE: weakref.WeakKeyDictionary[object, tuple[set[str], dict[str, str]]] = weakref.WeakKeyDictionary()


def is_source_file_name(path: str) -> bool:
    name = Path(path).name
    return name.endswith(SOURCE_SUFFIXES) or name in SOURCE_NAMES


def fleet_source_files(root: Path) -> list[Path]:
    """Source files of this plugin directly in ``root`` (they take over from directory mode)."""
    found = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if path.is_file() and is_source_file_name(str(path)):
            text = path.read_text(encoding="utf-8", errors="replace")
            if any(line.split("#")[0].strip() in ("plugin: hub_fleet_config", "plugin: 'hub_fleet_config'",
                                                  'plugin: "hub_fleet_config"') for line in text.splitlines()):
                found.append(path)
    return found


def _resolve(path: str, base: Path) -> str:
    """``path`` made absolute from ``base`` (an empty one stays empty)."""
    if not path:
        return ""
    full = Path(path).expanduser()
    return str(full if full.is_absolute() else (base / full).resolve())


class InventoryModule(BaseInventoryPlugin):
    NAME = "imagebuilding.hubs.hub_fleet_config"

    def verify_file(self, path: str) -> bool:
        if not super().verify_file(path):
            return False
        if is_source_file_name(path):
            return True
        # A file of a fleet directory given with -i <dir>: claimed so no other plugin reads
        # values files as inventory; parse() reads the fleet once.
        return Path(path).is_file() and find_fleet_root(path) is not None

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:  # noqa: ANN401
        super().parse(inventory, loader, path, cache)
        if is_source_file_name(path):
            self._read_once(str(Path(path).absolute()), claimed=False)
            return
        # A file of a fleet directory given with -i <dir>: read the fleet once, with its own
        # source file when it has one (several: each is read where the inventory includes it).
        root = find_fleet_root(path)
        sources = fleet_source_files(root) if root is not None else []
        if len(sources) == 1:
            self._read_once(str(sources[0]), claimed=True)
        elif root is not None and not sources and cluster_files(clusters_dir_of(root)):
            self._read_once(str(root), claimed=True)

    # -----------------------------------------------------------------------------------

    def _state(self) -> tuple[set[str], dict[str, str]]:
        """Sources this inventory has read, and the problems of those that failed."""
        data = getattr(self.inventory, "__wrapped__", self.inventory)
        return READ_STATE.setdefault(data, (set(), {}))

    def _read_once(self, source: str, *, claimed: bool) -> None:
        """Read a source file or a fleet directory the first time it comes up.

        A claimed file (a file of a fleet directory) must not fail: other plugins would then
        read it, e.g. a values file as a YAML inventory. Its problems are shown as an error
        and no hub is added; the source file itself, when the inventory includes it, raises.
        """
        seen, failed = self._state()
        if source in seen:
            if not claimed and source in failed:
                # Read again under another name (the auto plugin): the problems were listed
                # with the first failure, which Ansible shows before this one.
                raise AnsibleParserError(f"{source}: see the problems listed for the hub_fleet_config plugin above")
            return
        seen.add(source)
        try:
            if Path(source).is_dir():
                self.set_options(direct={"plugin": self.NAME})
                self._read_fleet(Path(source), Path(source), source)
            else:
                self._read_config_data(source)
                source_dir = Path(source).parent
                config_dir = Path(_resolve(self.get_option("config_dir") or str(source_dir), source_dir))
                self._read_fleet(config_dir, source_dir, source)
        except AnsibleParserError as error:
            failed[source] = str(error)
            if not claimed:
                raise
            display.error(f"hub_fleet_config: no hubs added from {source}: {error}")  # the problems: above

    def _read_fleet(self, config_dir: Path, source_dir: Path, source: str) -> None:
        mode = self.get_option("host_names")
        fleet = load_fleet(config_dir, mode)
        problems = fleet.problems + self._option_problems(fleet, source)
        per_host, unplaced = problems_by_host(fleet, problems, mode)
        if unplaced:  # no hub to stop for these: the source fails, every problem listed once, here
            display.error(f"hub_fleet_config: {FleetConfigError(fleet.clusters_dir, problems)}")
            raise AnsibleParserError(f"{len(problems)} problem(s) in the fleet under {fleet.clusters_dir}, listed above "
                                     "(hub_fleet_config)")
        self._populate(fleet, source_dir, str(config_dir), per_host)
        if per_host:
            display.warning(f"hub_fleet_config: {sum(map(len, per_host.values()))} problem(s) in the fleet under "
                            f"{fleet.clusters_dir} stop hub(s) {', '.join(sorted(per_host))}: each fails the validate "
                            f"play with its problems (variable fleet_problems, group {REFUSED_GROUP}); the other hubs "
                            "go on")

    def _option_problems(self, fleet: Fleet, path: str) -> list[Problem]:
        """Options that name clusters, providers or hosts the fleet does not have."""
        mode = self.get_option("host_names")
        hosts = {host_name(c.name, h.name, mode) for c in fleet.clusters for h in c.hubs}
        clusters = {c.name for c in fleet.clusters}
        problems: list[Problem] = []
        if problems_by_host(fleet, fleet.problems, mode)[1]:  # names are unreliable until the fleet is readable
            return problems
        known = {"provider_vars": set(PROVIDERS), "cluster_vars": clusters, "kubeconfig_overrides": clusters,
                 "hub_vars": hosts}
        for option, names in known.items():
            for name, value in (self.get_option(option) or {}).items():
                if name not in names:
                    problems.append(Problem(path, "-", "-", f"{option}.{name}",
                                            f"{name!r} is not in the fleet; expected one of " + ", ".join(sorted(names))))
                elif not isinstance(value, Mapping):
                    problems.append(Problem(path, "-", "-", f"{option}.{name}", "expected a mapping of variables"))
        for host, variables in (self.get_option("hub_vars") or {}).items():
            stage = variables.get("hub_stage") if isinstance(variables, Mapping) else None
            if stage is not None and stage not in STAGES:
                problems.append(Problem(path, "-", f"hub {host!r}", f"hub_vars.{host}.hub_stage",
                                        f"{stage!r} is not a stage; expected one of " + ", ".join(STAGES)))
        return problems

    def _set_vars(self, entity: str, variables: Mapping[str, Any]) -> None:
        for key, value in variables.items():
            self.inventory.set_variable(entity, key, value)

    def _kube_overrides(self, cluster: str, source_dir: Path) -> dict[str, str]:
        overrides: dict[str, str] = {}
        if self.get_option("kubeconfig_override") is not None:
            overrides["cluster_kubeconfig"] = _resolve(self.get_option("kubeconfig_override"), source_dir)
        if self.get_option("kube_context_override") is not None:
            overrides["cluster_kube_context"] = self.get_option("kube_context_override")
        per_cluster = (self.get_option("kubeconfig_overrides") or {}).get(cluster) or {}
        if "kubeconfig" in per_cluster:
            overrides["cluster_kubeconfig"] = _resolve(str(per_cluster["kubeconfig"]), source_dir)
        if "context" in per_cluster:
            overrides["cluster_kube_context"] = str(per_cluster["context"] or "")
        return overrides

    def _populate(self, fleet: Fleet, source_dir: Path, config_dir: str, per_host: Mapping[str, list[Problem]]) -> None:
        self._set_vars("all", {"ansible_connection": "local", "ansible_python_interpreter": sys.executable})
        self._set_vars("all", self.get_option("fleet_vars") or {})
        for stage_group in STAGE_GROUPS.values():
            self.inventory.add_group(stage_group)
        prepend = [_resolve(p, source_dir) for p in self.get_option("prepend_values_files") or []]
        provider_vars = self.get_option("provider_vars") or {}
        cluster_vars = self.get_option("cluster_vars") or {}
        hub_vars = self.get_option("hub_vars") or {}
        ignored: list[str] = []
        for cluster in fleet.clusters:
            provider_group = self.inventory.add_group(group_name("provider", cluster.provider))
            self.inventory.add_child("all", provider_group)
            self._set_vars(provider_group, provider_vars.get(cluster.provider) or {})
            cluster_group = self.inventory.add_group(group_name("cluster", cluster.name))
            self.inventory.add_child(provider_group, cluster_group)
            self._set_vars(cluster_group, cluster_variables(cluster, local=self.get_option("local")))
            self._set_vars(cluster_group, {"fleet_config_dir": config_dir, **self._kube_overrides(cluster.name, source_dir)})
            self._set_vars(cluster_group, cluster_vars.get(cluster.name) or {})
            for hub in cluster.hubs:
                host = host_name(cluster.name, hub.name, self.get_option("host_names"))
                self.inventory.add_host(host, group=cluster_group)
                variables = hub_variables(hub, staging_pattern=self.get_option("staging_pattern"),
                                          prepend_values_files=prepend)
                explicit = hub_vars.get(host) or {}
                variables.update(explicit)
                if "hub_stage" in explicit:
                    variables["fleet_hub_stage_source"] = f"hub_vars.{host}.hub_stage of the inventory source (explicit)"
                if host in per_host:
                    variables["fleet_problems"] = [str(problem) for problem in per_host[host]]
                    self.inventory.add_child(self.inventory.add_group(REFUSED_GROUP), host)
                self._set_vars(host, variables)
                self.inventory.add_child(STAGE_GROUPS[variables["hub_stage"]], host)
                if hub.ignored_keys:
                    ignored.append(f"{host} ({', '.join(hub.ignored_keys)})")
        if ignored:
            display.warning("hub_fleet_config: these hub keys are not applied by the toolkit: " + "; ".join(ignored))
