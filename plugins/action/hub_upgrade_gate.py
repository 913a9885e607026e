"""Action plugin ``hub_upgrade_gate``: hold a hub whose batch may not move to its pinned chart
version yet (``plugin_utils/hub_upgrade_gate.py``).

Does nothing for a hub outside the upgrade batches, of the first batch, or that moves no
release to a newer chart version (going back is never held). Otherwise every hub of the batch before (from the whole
inventory, whatever the run's limit) must run each moved chart at the new version, have done
so for ``hub_upgrade_soak``, and be healthy now; if not, the task fails naming each hub that is
not ready and since when. The hub's companion releases (``hub_companion_releases``) move the
same way, gated by the hubs of the batch before that run their chart. Reads the clusters;
changes nothing.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_health import pending_workloads, seconds
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model, collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_record import read_record
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import (
    pinned_companions,
    pinned_releases,
    pinned_versions,
    read_elsewhere,
    read_releases,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_upgrade_gate import (
    PreviousHub,
    batch_problems,
    gate_message,
    previous_batch,
    revision_records,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError, path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.versions import goes_back

HELM_SECRETS = "owner=helm"


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(KUBE_ARGS)

    def _var(self, variables: Any, name: str, default: Any = None) -> Any:  # noqa: ANN401 - any variable
        value = variables.get(name, default) if hasattr(variables, "get") else default
        return self._templar.template(value) if value is not None else default

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        hub = str(self._var(task_vars, "hub_name") or task_vars.get("inventory_hostname"))
        batch = str(self._var(task_vars, "hub_upgrade_batch", "") or "")
        batches = self._var(task_vars, "hub_upgrade_batches", []) or []
        soak_text = str(self._var(task_vars, "hub_upgrade_soak", "0s") or "0s")
        if not batch:
            return {**result, "changed": False, "msg": f"hub {hub}: in no upgrade batch"}
        if not isinstance(batches, list) or batch not in [str(b) for b in batches]:
            return {**result, "failed": True, "msg": f"hub {hub}: hub_upgrade_batch: {batch!r} is not one of "
                    f"hub_upgrade_batches ({batches!r}); expected a batch that list names, in upgrade order"}
        try:
            soak = seconds(soak_text)
        except ValueError as error:
            return {**result, "failed": True, "msg": f"hub {hub}: hub_upgrade_soak: {error}"}
        before = previous_batch([str(b) for b in batches], batch)
        if not before:
            return {**result, "changed": False, "msg": f"hub {hub}: batch {batch!r} is the first: no gate"}
        try:
            moves, companion_charts = self._moves(task_vars)
        except HubModelError as error:
            return {**result, "failed": True, "msg": str(error)}
        except (KubeConfigError, KubeError, HTTPError, OSError) as error:
            return {**result, "failed": True, "msg": f"hub {hub}: its releases could not be read: {error}"}
        if not moves:
            return {**result, "changed": False, "msg": f"hub {hub}: moves no release to a newer chart version"}
        hostvars = task_vars.get("hostvars") or {}
        names = [name for name in (task_vars.get("groups") or {}).get("all", [])
                 if str(self._var(hostvars[name], "hub_upgrade_batch", "") or "") == before]
        if not names:
            return {**result, "failed": True, "msg": f"hub {hub}: batch {before!r}, before {batch!r} in "
                    "hub_upgrade_batches, has no hub in the inventory: nothing has soaked on the new version"}
        now = datetime.datetime.now(datetime.UTC)
        previous = [self._previous(name, hostvars[name]) for name in names]
        problems, warnings = batch_problems(previous, moves, companion_charts, soak, now)
        warned = {"warnings": [f"hub {hub}: {warning}" for warning in warnings]} if warnings else {}
        if problems:
            return {**result, **warned, "failed": True, "not_ready": problems,
                    "msg": gate_message(hub, batch, before, moves, problems, soak_text)}
        return {**result, **warned, "changed": False, "moves": moves,
                "msg": f"hub {hub}: batch {before!r} ({len(names)} hub(s)) has soaked on what this hub moves to"}

    def _moves(self, task_vars: dict[str, Any]) -> tuple[dict[str, str], set[str]]:
        """(chart -> the version a deployed release of the hub moves to, the charts of those that are
        companion releases)."""
        variables = collect_variables(task_vars, self._templar.template)
        model = build_model(variables, base_dir=str(task_vars.get("inventory_dir") or Path.cwd()))
        kube = Kube.from_args(self._task.args)
        companions = pinned_companions(model)
        deployed = {**read_elsewhere(kube, companions, model.hub.namespace), **read_releases(kube, model.hub.namespace)}
        # Forward moves only: going back to an older version is the way out of a bad upgrade,
        # never held (the rollout warns when the app version goes back).
        moves = {pin.chart: pin.chart_version for pin in [*companions, *pinned_releases(model, pinned_versions(variables))]
                 if pin.chart_version and (found := deployed.get(pin.release)) and found.serving and found.chart_version
                 and found.chart_version != pin.chart_version and not goes_back(found.chart_version, pin.chart_version)}
        own = {release.chart for release in model.releases.values()}
        return moves, {pin.chart for pin in companions if pin.chart in moves and pin.chart not in own}

    def _previous(self, name: str, variables: Any) -> PreviousHub:  # noqa: ANN401 - a host's variables
        namespace = str(self._var(variables, "hub_namespace") or self._var(variables, "hub_name") or name)
        hub = PreviousHub(name=name)
        access = dict(self._task.args)
        for option, variable in (("kubeconfig", "cluster_kubeconfig"), ("kube_context", "cluster_kube_context")):
            if value := self._var(variables, variable):
                access[option] = value
        companions = self._var(variables, "hub_companion_releases", []) or []
        elsewhere = sorted({str(entry["namespace"]) for entry in companions if isinstance(entry, dict)
                            and entry.get("namespace") and str(entry["namespace"]) != namespace})
        try:
            kube = Kube.from_args(access)
            secrets = [secret for where in (namespace, *elsewhere)
                       for secret in kube.items(path("v1", "secrets", where), labelSelector=HELM_SECRETS)]
            hub.releases = revision_records(secrets)
            hub.pending = pending_workloads(kube, namespace)
            hub.smoke = read_record(kube, namespace)
        except (KubeConfigError, KubeError, HTTPError, OSError) as error:
            hub.unreadable = str(error)
        return hub
