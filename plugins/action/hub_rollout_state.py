"""Action plugin ``hub_rollout_state``: skip a hub that is exactly as its last rollout left it,
and record that state after a complete rollout (``plugin_utils/hub_state.py``).

``state: compared`` (one task for every selected hub in hub.yml, ``hosts``): for each hub, digests
its inputs, runs the sops leak guard over its guard paths (as the secrets role does; each
directory read once for all hubs), and reads its state record, helm's release metadata and its
Deployments and DaemonSets (``plugin_utils/hub_state_reads.py``, a few hubs at once). A hub is
unchanged only when inputs, deployed revisions and health are all as recorded; the fact
``hub_rollout_compared`` maps each host to ``{hub, namespace, cluster, unchanged, skipped, reason}``
and, for an unchanged hub, ``releases``, the report's rows. ``skipped``: unchanged, or not of the
batch this run upgrades (``hub_upgrade_run_batch``). A hub whose name or namespace another
selected hub uses (``plugin_utils/hub_duplicates.py``), or whose cluster connection cannot be
used (``cluster_kubeconfig``, ``cluster_kube_context``), has ``problems``, which stop it. Check
mode, ``hub_force``, the rotate switches, the smoke check (``hub_smoke``), a secret-named file
without sops metadata, a problem of the hub's fleet entry and a cluster that cannot be read never
skip: the hub goes on to validation, which says what is wrong.

``state: recorded`` (last task of a hub's rollout): writes the record from the inputs and
this run's ``hub_rollout_releases`` when it is missing or differs (``changed`` then); check
mode writes nothing and says whether a real run would.

A hub's variables are its host's (``hostvars``, not the task's: the same in every play) with
the hub roles' defaults under them and the secrets role's vars over them, so the paths the
roles derive (the secret values file, the leak guard's paths) are the roles' paths.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.template import Templar, trust_as_template
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import LeakScan
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_duplicates import duplicate_problems, read_identity
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import Errors
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.companions import (
    companion_chart_directories,
    companion_values_file_paths,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES, directory_chart
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_rollout import chart_files_digest
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_state import (
    RERUN_SWITCHES,
    STATE_SECRET,
    code_digest,
    file_digest,
    htpasswd_entry_digest,
    input_variables,
    inputs_digest,
    record_body,
    recorded_releases,
    rerun_switches,
    same_record,
    unchanged_rows,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_state_reads import StateQuestion, reasons
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError, path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.role_layers import role_layer

ROOT = Path(__file__).resolve().parent.parent.parent  # the collection (the repository root)
# Every hub role's defaults: imported roles (playbooks/hub.yml) put theirs in every task's
# variables, so the inputs are the defaults with the host's variables over them, wherever the
# digest is taken (the validate play and the end of the deploy play see different roles).
ROLE_FILES = ("registry/defaults/main.yml", "secrets/defaults/main.yml", "binderhub_service/defaults/main.yml",
              "jupyterhub/defaults/main.yml")
ROLE_VARS = ("secrets/vars/main.yml",)
# What the state digest reads besides the variables, as the roles name it.
FILES = {
    "secrets_file": "{{ _secrets_file }}",
    "registry_ca_file": "{{ registry_ca_file }}",
    "registry_terraform_vars_file": "{{ registry_terraform_vars_file }}",
    "registry_terraform_state_file": "{{ registry_terraform_state_file }}",
}
HTPASSWD = ("{{ registry_htpasswd_file }}", "{{ registry_username or (hub_name | default(inventory_hostname)) }}")
ARGS = ("state", "namespace", "hub", "cluster", "hosts")
# A hub's name, namespace and cluster, and the cluster connection of each hub of O(hosts), as
# playbooks/hub.yml derives them.
HUB = "{{ hub_name | default(inventory_hostname) }}"
NAMESPACE = "{{ hub_namespace | default(hub_name | default(inventory_hostname), true) }}"
CLUSTER = "{{ cluster_name | default('') }}"
ACCESS = {"kubeconfig": "{{ cluster_kubeconfig | default('') }}", "kube_context": "{{ cluster_kube_context | default('') }}"}


def chart_directories(variables: dict[str, Any], base: str) -> dict[str, str]:
    """Chart -> the directory the hub deploys it from (a release's ``*_chart_ref`` that is a
    directory, or its chart in ``hub_charts_dir``)."""
    found: dict[str, str] = {}
    directory = variables.get("hub_charts_source") == "directory" and str(variables.get("hub_charts_dir") or "")
    for chart, prefix in RELEASE_PREFIXES.items():
        if chart == "dask-gateway" and variables.get("hub_dask_gateway_enabled") is not True:
            continue
        ref = str(variables.get(f"{prefix}_chart_ref") or "")
        if not ref and directory:
            version = str(variables.get(f"{prefix}_chart_version") or "")
            ref = directory_chart(Errors(hub=""), str(Path(base) / directory), chart, version, "")
        if ref:
            found[chart] = str(Path(base) / Path(ref).expanduser())
    found.update(companion_chart_directories(variables, base))
    return found


def chart_directories_digests(variables: dict[str, Any], base: str) -> dict[str, str]:
    """The files of every chart directory the hub deploys from, so that a chart changed in place rolls out."""
    return {f"chart {chart}": chart_files_digest(directory) for chart, directory in chart_directories(variables, base).items()}


def inventory_variable_paths(base: str, host: str, groups: list[str]) -> list[str]:
    """The inventory's host_vars and group_vars files and directories of ``host`` and its groups."""
    candidates = [Path(base) / "host_vars" / host] + [Path(base) / "group_vars" / group for group in groups]
    return [str(path.parent / f"{path.name}{suffix}") for path in candidates for suffix in ("", ".yml", ".yaml", ".json")
            if (path.parent / f"{path.name}{suffix}").exists()]


def sops_config(configured: str, secrets_dir: str) -> str:
    """The sops configuration the hub's secrets use: ``secrets_sops_config_path``, else the
    ``.sops.yaml`` sops finds searching upwards from the secrets directory ('' when none)."""
    if configured:
        return configured
    if not secrets_dir:
        return ""
    start = Path(secrets_dir).resolve()
    for directory in (start, *start.parents):
        if (directory / ".sops.yaml").is_file():
            return str(directory / ".sops.yaml")
    return ""


def source_paths(task_vars: dict[str, Any], secrets: str) -> list[str]:
    """The files that define the hub besides its variable files: the inventory source that lists
    it (``hosts.yml``, a fleet config file), its cluster's ``cluster.yaml`` and credentials file
    (``hub_fleet_config``) and the sops configuration of its secrets."""
    paths = [str(task_vars.get(name) or "") for name in ("inventory_file", "fleet_cluster_file",
                                                          "fleet_cluster_credentials_file")]
    return [path for path in [*paths, secrets] if path]


def _template(templar: Templar, expression: str) -> Any:  # noqa: ANN401 - whatever the expression gives
    """An expression of this plugin's own (not of the inventory), rendered by ``templar``."""
    return templar.template(trust_as_template(expression))


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset((*ARGS, *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        self._layers = (role_layer(self._loader, ROLE_FILES), role_layer(self._loader, ROLE_VARS))
        me = str(task_vars.get("inventory_hostname"))
        if args["state"] == "compared":
            given = self._templar.template(args["hosts"])
            hosts = [str(host) for host in given] if given is not None else [me]
            return {**result, **self._compare(hosts, task_vars)}
        templar, variables = self._host(task_vars, me)
        hub = str(args["hub"] or me)
        if args["state"] == "inputs":
            return {**result, **self._inputs(variables, templar)}
        return {**result, **self._record(args, hub, self._digest(variables, templar, code_digest(ROOT)), task_vars)}

    def _host(self, task_vars: dict[str, Any], host: str) -> tuple[Templar, dict[str, Any]]:
        """A templar over ``host``'s variables as the hub roles see them, and those variables
        (the roles' defaults under the host's, the secrets role's vars over them)."""
        defaults, role_vars = self._layers
        layered = {**defaults, **task_vars["hostvars"].raw_get(host)}
        templar = self._templar.copy_with_new_env(available_variables={**layered, **role_vars})
        return templar, layered

    def _input_files(self, variables: dict[str, Any], templar: Templar) -> dict[str, str]:
        """Input name -> the path of each file the hub's rollout depends on ('' when unset)."""
        files = {name: str(_template(templar, expression) or "") for name, expression in FILES.items()}
        base = str(variables.get("inventory_dir") or Path.cwd())
        for index, item in enumerate(variables.get("hub_values_files") or []):
            files[f"hub_values_files[{index}]"] = str(Path(base) / str(item))
        files.update(companion_values_file_paths(variables, base))
        files["registry_htpasswd_file"] = str(_template(templar, HTPASSWD[0]) or "")
        return files

    @staticmethod
    def _variables(layered: dict[str, Any], templar: Templar) -> dict[str, Any]:
        return {name: templar.template(layered[name]) for name in input_variables(layered)}

    def _digest(self, layered: dict[str, Any], templar: Templar, code: str) -> str:
        variables = self._variables(layered, templar)
        paths = self._input_files(variables | {"inventory_dir": layered.get("inventory_dir")}, templar)
        htpasswd_file = paths.pop("registry_htpasswd_file")
        files = {name: file_digest(path) for name, path in paths.items()}
        user = str(_template(templar, HTPASSWD[1]) or "")
        files["registry_htpasswd_entry"] = htpasswd_entry_digest(htpasswd_file, user)
        files.update(chart_directories_digests(variables, str(layered.get("inventory_dir") or Path.cwd())))
        return inputs_digest(variables, files, code)

    def _inputs(self, layered: dict[str, Any], templar: Templar) -> dict[str, Any]:
        """The files a rollout of the hub depends on: those its digest covers, the chart
        directories it deploys from, the inventory's variable files of the hub and its groups, and
        the files that define it (``source_paths``)."""
        variables = self._variables(layered, templar) | {"inventory_dir": layered.get("inventory_dir")}
        files = [path for path in self._input_files(variables, templar).values() if path]
        secrets = sops_config(str(_template(templar, "{{ secrets_sops_config_path }}") or ""),
                              str(_template(templar, "{{ secrets_dir }}") or ""))
        files += source_paths(layered, secrets)
        base = str(layered.get("inventory_dir") or Path.cwd())
        charts = chart_directories(variables, base)
        inventory = inventory_variable_paths(base, str(layered.get("inventory_hostname")),
                                             ["all", *(layered.get("group_names") or [])])
        return {"changed": False, "files": sorted({str(Path(p).resolve()) for p in files}),
                "directories": sorted({str(Path(p).resolve()) for p in [*charts.values(), *inventory]})}

    def _kube(self) -> Kube:
        return Kube.from_args(self._task.args)

    def _local_reason(self, layered: dict[str, Any], templar: Templar, leaks: LeakScan) -> str:
        """Why the hub is rolled out whatever its cluster says ('' when nothing here says so)."""
        if self._task.check_mode:
            return "check mode reads every release"
        if switches := rerun_switches({name: templar.template(layered[name]) for name in RERUN_SWITCHES
                                       if name in layered}):
            return f"{', '.join(switches)} asks for a rollout"
        if rerun_switches({"hub_smoke": templar.template(layered.get("hub_smoke", False))}):
            return "the smoke check (hub_smoke) checks the hub as it runs now"
        if layered.get("fleet_problems"):
            return "its entry in the fleet's files has problems"
        if leaked := leaks.find([str(p) for p in _template(templar, "{{ _secrets_guard_paths }}")])[1]:
            return f"secret-named file(s) without sops metadata: {', '.join(leaked)}"
        return ""

    def _cluster(self, templar: Templar, clients: dict[tuple[str, str], Kube | str]) -> Kube | str:
        """The client of the hub's cluster (one per connection), or why it cannot be made."""
        access = {name: str(_template(templar, expression) or "") for name, expression in ACCESS.items()}
        key = (access["kubeconfig"], access["kube_context"])
        if key not in clients:
            given = {name: value for name, value in self._task.args.items() if name in KUBE_ARGS and name not in ACCESS}
            try:
                clients[key] = Kube.from_args({**given, **{name: value for name, value in access.items() if value}})
            except KubeConfigError as error:
                clients[key] = str(error)
        return clients[key]

    def _compare(self, hosts: list[str], task_vars: dict[str, Any]) -> dict[str, Any]:
        started, code, leaks = time.time(), code_digest(ROOT), LeakScan()
        clients: dict[tuple[str, str], Kube | str] = {}
        compared: dict[str, dict[str, Any]] = {}
        hubs = {host: self._host(task_vars, host) for host in hosts}
        duplicates = duplicate_problems([
            identity for host, (templar, layered) in hubs.items()
            if (identity := read_identity(host, lambda name, t=templar, v=layered: t.template(v[name]) if name in v else None,
                                          (AnsibleError,))) is not None])
        run_batch = str(_template(self._templar, "{{ hub_upgrade_run_batch | default('') }}") or "")
        questions = []
        for host, (templar, layered) in hubs.items():
            entry = compared[host] = {"hub": str(_template(templar, HUB)), "namespace": str(_template(templar, NAMESPACE)),
                                      "cluster": str(_template(templar, CLUSTER)), "unchanged": False, "skipped": False,
                                      "reason": ""}
            if run_batch and str(_template(templar, "{{ hub_upgrade_batch | default('') }}") or "") != run_batch:
                entry.update(skipped=True, reason=f"not of the batch this run upgrades ({run_batch})")
                continue
            if host in duplicates:
                entry.update(reason="its name is another selected hub's", problems=duplicates[host])
                continue
            entry["reason"] = self._local_reason(layered, templar, leaks)
            if not entry["reason"]:
                kube = self._cluster(templar, clients)
                if isinstance(kube, str):  # no rollout can reach the cluster: the playbook stops the hub
                    entry.update(reason="its cluster cannot be reached as configured", problems=[f"hub {entry['hub']}: {kube}"])
                else:
                    questions.append(StateQuestion(host, entry["namespace"], self._digest(layered, templar, code), kube))
        for host, (reason, record) in reasons(questions).items():
            entry = compared[host]
            entry.update(reason=reason, unchanged=not reason, skipped=not reason)
            if not reason:
                entry["releases"] = unchanged_rows(entry["hub"], entry["cluster"], entry["namespace"],
                                                   recorded_releases(record), started)
        unchanged = [host for host, entry in compared.items() if entry["unchanged"]]
        skipped = [host for host, entry in compared.items() if entry["skipped"]]
        lines = [f"hub {entry['hub']}: " + ("unchanged since its last rollout, skipped" if entry["unchanged"]
                                            else f"skipped: {entry['reason']}" if entry["skipped"]
                                            else f"to be rolled out: {entry['reason']}") for entry in compared.values()]
        # ("skipped" would read as the task's own outcome)
        return {"changed": False, "unchanged": unchanged, "skipped_hubs": skipped, "hubs": lines,
                "ansible_facts": {"hub_rollout_compared": compared},
                "msg": f"{len(unchanged)} of {len(compared)} hub(s) unchanged since their last rollout, "
                       f"{len(skipped) - len(unchanged)} of another batch: skipped"}

    def _record(self, args: dict[str, Any], hub: str, digest: str, task_vars: dict[str, Any]) -> dict[str, Any]:
        """Write the record when it is missing or says something else: ``changed`` then (in check mode:
        when it would be written; a release that would change always makes a new record)."""
        rows = self._templar.template(task_vars.get("hub_rollout_releases") or [])
        mine = [row for row in rows if row.get("hub") == hub]
        done = ("changed", "unchanged", "would change") if self._task.check_mode else ("changed", "unchanged")
        if not mine or any(row.get("status") not in done for row in mine):
            return {"changed": False, "msg": f"hub {hub}: not every release was deployed; nothing recorded"}
        releases = {row["release"]: {"revision": int(row["revision_after"]), "chart": row.get("chart", ""),
                                     "chart_version": row.get("chart_version", ""), "namespace": row.get("namespace", "")}
                    for row in mine}
        namespace = str(args["namespace"])
        at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            kube = self._kube()
            where = path("v1", "secrets", namespace, STATE_SECRET)
            current = kube.get_or_none(where)
            if current is not None and not any(row.get("status") == "would change" for row in mine) \
                    and same_record(current, digest, releases):
                return {"changed": False, "msg": f"hub {hub}: rollout state unchanged", "releases": sorted(releases)}
            if self._task.check_mode:
                return {"changed": True, "msg": f"hub {hub}: check mode: the rollout state would be recorded",
                        "releases": sorted(releases)}
            if current is None:
                kube.create(path("v1", "secrets", namespace), record_body(digest, releases, at))
            else:
                kube.replace(where, record_body(digest, releases, at, current["metadata"]["resourceVersion"]))
        except (KubeError, KubeConfigError, HTTPError) as error:
            # Not fatal: without a record the next run rolls the hub out again.
            return {"changed": False, "warnings": [f"hub {hub}: its rollout state could not be recorded: {error}"]}
        return {"changed": True, "msg": f"hub {hub}: rollout state recorded", "releases": sorted(releases)}
