"""Action plugin ``hub_rollout_state``: skip a hub that is exactly as its last rollout left it,
and record that state after a complete rollout (``plugin_utils/hub_state.py``).

``state: compared`` (first task of a hub in hub.yml): digests the hub's inputs, runs the
sops leak guard over the hub's guard paths (as the secrets role does), and reads the
hub's state record, helm's release metadata and its Deployments and DaemonSets. The fact
``hub_rollout_unchanged`` is true only when inputs, deployed revisions and health are all
as recorded; then the fact ``hub_rollout_releases`` carries the report's rows. Check mode,
``hub_force`` and the rotate switches never skip; a cluster that cannot be read never
skips either (the rollout then says what is wrong).

``state: recorded`` (last task of a hub's rollout): writes the record from the inputs and
this run's ``hub_rollout_releases`` when it is missing or differs (``changed`` then); check
mode writes nothing and says whether a real run would.

Paths the roles derive (the secret values file, the leak guard's paths) are templated
from the hub roles' own defaults and the secrets role's vars, so they are the roles' paths.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible.template import Templar, trust_as_template
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import find_leaks, leak_message
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import deployed_revisions
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_health import pending_workloads, release_pending
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
    releases_elsewhere,
    rerun_switches,
    same_record,
    unchanged_rows,
    why_not_skipped,
)
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
ARGS = ("state", "namespace", "hub", "cluster")


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
        hub = str(args["hub"] or task_vars.get("inventory_hostname"))
        defaults = role_layer(self._loader, ROLE_FILES)
        role_templar = self._templar.copy_with_new_env(
            available_variables={**defaults, **task_vars, **role_layer(self._loader, ROLE_VARS)})
        if args["state"] == "inputs":
            return {**result, **self._inputs(task_vars, defaults, role_templar)}
        if args["state"] == "recorded":
            return {**result, **self._record(args, hub, self._digest(task_vars, defaults, role_templar), task_vars)}
        leaks = find_leaks([str(p) for p in _template(role_templar, "{{ _secrets_guard_paths }}")])[1]
        if leaks:
            return {**result, "failed": True, "leaks": leaks, "msg": leak_message(hub, leaks)}
        return {**result, **self._compare(args, hub, task_vars, defaults, role_templar)}

    def _input_files(self, task_vars: dict[str, Any], variables: dict[str, Any],
                     role_templar: Templar) -> dict[str, str]:
        """Input name -> the path of each file the hub's rollout depends on ('' when unset)."""
        files = {name: str(_template(role_templar, expression) or "") for name, expression in FILES.items()}
        base = str(task_vars.get("inventory_dir") or Path.cwd())
        for index, item in enumerate(variables.get("hub_values_files") or []):
            files[f"hub_values_files[{index}]"] = str(Path(base) / str(item))
        files.update(companion_values_file_paths(variables, base))
        files["registry_htpasswd_file"] = str(_template(role_templar, HTPASSWD[0]) or "")
        return files

    def _variables(self, task_vars: dict[str, Any], defaults: dict[str, Any], role_templar: Templar) -> dict[str, Any]:
        layered = {**defaults, **task_vars}
        return {name: role_templar.template(layered[name]) for name in input_variables(layered)}

    def _digest(self, task_vars: dict[str, Any], defaults: dict[str, Any], role_templar: Templar) -> str:
        variables = self._variables(task_vars, defaults, role_templar)
        paths = self._input_files(task_vars, variables, role_templar)
        htpasswd_file = paths.pop("registry_htpasswd_file")
        files = {name: file_digest(path) for name, path in paths.items()}
        user = str(_template(role_templar, HTPASSWD[1]) or "")
        files["registry_htpasswd_entry"] = htpasswd_entry_digest(htpasswd_file, user)
        files.update(chart_directories_digests(variables, str(task_vars.get("inventory_dir") or Path.cwd())))
        return inputs_digest(variables, files, code_digest(ROOT))

    def _inputs(self, task_vars: dict[str, Any], defaults: dict[str, Any], role_templar: Templar) -> dict[str, Any]:
        """The files a rollout of the hub depends on: those its digest covers, the chart
        directories it deploys from, the inventory's variable files of the hub and its groups, and
        the files that define it (``source_paths``)."""
        variables = self._variables(task_vars, defaults, role_templar)
        files = [path for path in self._input_files(task_vars, variables, role_templar).values() if path]
        secrets = sops_config(str(_template(role_templar, "{{ secrets_sops_config_path }}") or ""),
                              str(_template(role_templar, "{{ secrets_dir }}") or ""))
        files += source_paths(task_vars, secrets)
        base = str(task_vars.get("inventory_dir") or Path.cwd())
        charts = chart_directories(variables, base)
        inventory = inventory_variable_paths(base, str(task_vars.get("inventory_hostname")),
                                             ["all", *(task_vars.get("group_names") or [])])
        return {"changed": False, "files": sorted({str(Path(p).resolve()) for p in files}),
                "directories": sorted({str(Path(p).resolve()) for p in [*charts.values(), *inventory]})}

    def _kube(self) -> Kube:
        return Kube.from_args(self._task.args)

    def _compare(self, args: dict[str, Any], hub: str, task_vars: dict[str, Any], defaults: dict[str, Any],
                 role_templar: Templar) -> dict[str, Any]:
        started = time.time()
        switches = rerun_switches({name: self._templar.template(task_vars[name]) for name in RERUN_SWITCHES
                                   if name in task_vars})
        reason = ""
        if self._task.check_mode:
            reason = "check mode reads every release"
        elif switches:
            reason = f"{', '.join(switches)} asks for a rollout"
        record: dict[str, Any] | None = None
        if not reason:
            try:
                reason, record = self._cluster_reason(args, self._digest(task_vars, defaults, role_templar))
            except KubeConfigError as error:  # no rollout can reach the cluster: say so before anything
                return {"failed": True, "msg": f"hub {hub}: {error}"}
            except (KubeError, HTTPError, OSError) as error:
                reason = f"its cluster could not be read ({error.__class__.__name__})"
        unchanged = not reason
        facts: dict[str, Any] = {"hub_rollout_unchanged": unchanged}
        if unchanged:
            facts["hub_rollout_releases"] = unchanged_rows(hub, str(args["cluster"] or ""), str(args["namespace"]),
                                                           recorded_releases(record), started)
        message = (f"hub {hub}: unchanged since its last rollout, skipped" if unchanged
                   else f"hub {hub}: to be rolled out: {reason}")
        return {"changed": False, "unchanged": unchanged, "reason": reason, "msg": message, "ansible_facts": facts}

    def _cluster_reason(self, args: dict[str, Any], digest: str) -> tuple[str, dict[str, Any] | None]:
        kube, namespace = self._kube(), str(args["namespace"])
        record = kube.get_or_none(path("v1", "secrets", namespace, STATE_SECRET))
        if record is None:
            return why_not_skipped(None, digest, {}, [], []), None
        deployed, pending = deployed_revisions(kube.metadata(path("v1", "secrets", namespace), labelSelector="owner=helm"))
        # Companion releases of namespaces of their own: only those the record lists are the hub's.
        elsewhere = releases_elsewhere(record, namespace)
        for where, names in elsewhere.items():
            there, stuck = deployed_revisions(kube.metadata(path("v1", "secrets", where), labelSelector="owner=helm"))
            deployed.update({name: revision for name, revision in there.items() if name in names})
            pending += [name for name in stuck if name in names]
        reason = why_not_skipped(record, digest, deployed, pending, [])
        if not reason:
            not_rolled_out = pending_workloads(kube, namespace) + [
                line for where, names in elsewhere.items() for name in names
                for lines in release_pending(kube, where, name, ("deployment", "daemonset")).values() for line in lines]
            reason = why_not_skipped(record, digest, deployed, pending, not_rolled_out)
        return reason, record

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
