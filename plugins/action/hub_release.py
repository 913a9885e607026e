"""Action plugin ``hub_release``: deploy one helm release of a hub, on the controller, in one task.

1. Reads the release's helm Secrets (one list call): the latest revision and its status, the
   deployed revision and the desired-state digest recorded on it.
2. A release left ``pending-*`` by an interrupted run is rolled back to its deployed revision
   (or uninstalled when nothing was deployed) when ``recover_pending`` says this run holds the
   hub's rollout lock; otherwise the task fails saying how to clear it.
3. No-op fast path: chart and values unchanged (digest equal) -> no helm at all. A deployed
   release without a recorded digest (adopted, or a revision made by hand) is compared with
   ``helm diff`` first: when its manifests would not change it only gets the digest recorded.
   Otherwise ``helm upgrade --install --atomic --wait`` runs with the values on stdin (never
   in a file). ``force`` skips both shortcuts.
4. Check mode runs ``helm diff`` only and reports what would change; ``--diff`` shows it with
   every secret value redacted.
5. Records the digest on the deployed revision and appends the outcome to the host fact
   ``hub_rollout_releases`` (read by the ``hub_rollout_report`` callback). On failure the
   namespace's pods that are not ready and its recent warning events are reported.

Values are named by variable (``values_var``, ``secret_values_var``): no secret value is in
the task's arguments or its result; helm's messages are redacted before they are returned.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import ansible.module_utils
import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.hub_health import diagnosis, pending_workloads
from ansible.module_utils.hub_helm import (
    DIFF_CHANGES,
    DIFF_NO_CHANGE,
    ReleaseRef,
    ReleaseState,
    clear_pending_hint,
    diff_command,
    digest_patch,
    helm_environment,
    pending_recovery,
    release_state,
    run_helm,
    running_helm,
    upgrade_command,
)
from ansible.module_utils.hub_rollout import desired_state_digest, rollout_status
from ansible.module_utils.hub_values import plain, redact
from ansible.module_utils.kube_api import Kube, KubeError, path
from urllib3.exceptions import HTTPError

ARGS = ("release", "values_var", "secret_values_var", "timeout", "force", "recover_pending", "kubeconfig",
        "kube_context", "hub", "cluster", "helm")


class Deploy:
    """One release's deploy: the inputs, the API and the record being built."""

    def __init__(self, ref: ReleaseRef, values: object, secrets: object, args: dict[str, Any]) -> None:
        self.ref, self.values, self.secrets, self.args = ref, values, secrets, args
        self.values_yaml = yaml.safe_dump(values)
        self.digest = desired_state_digest(ref.chart_ref, ref.chart_version, values)
        self.kube = Kube(args.get("kubeconfig"), args.get("kube_context"))
        self.env = helm_environment(args.get("kubeconfig"))
        self.helm = str(args.get("helm") or "helm")
        self.timeout = str(args.get("timeout") or "5m0s")
        self.started = time.time()
        self.notes: list[str] = []
        self.ran: list[str] = []  # the helm commands run (diff, upgrade, rollback, uninstall), for the record

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)  # type: ignore[arg-type]

    def state(self) -> ReleaseState:
        selector = f"owner=helm,name={self.ref.name}"
        return release_state(self.kube.items(path("v1", "secrets", self.ref.namespace), labelSelector=selector))

    def diff(self) -> tuple[bool, str]:
        """(would change, the diff redacted); raises RuntimeError when helm diff fails."""
        self.ran.append("diff")
        proc = run_helm(diff_command(self.ref, self.helm), self.values_yaml, self.env)
        if proc.returncode not in (DIFF_NO_CHANGE, DIFF_CHANGES):
            raise RuntimeError(f"helm diff failed: {self.redact(proc.stderr.strip() or proc.stdout.strip())}")
        return proc.returncode == DIFF_CHANGES, self.redact(proc.stdout)

    def recover(self, state: ReleaseState) -> ReleaseState:
        helm = running_helm(self.ref)
        if helm:
            raise RuntimeError(f"revision {state.latest_revision} is {state.latest_status} and helm is still working on "
                               f"it (process {', '.join(map(str, helm))}, left by an interrupted run); nothing was "
                               "changed: run again when it has finished")
        command, what = pending_recovery(self.ref, state, self.timeout, self.helm)
        self.ran.append(command[1])
        proc = run_helm(command, None, self.env)
        if proc.returncode != 0:
            raise RuntimeError(f"release {self.ref.name} was left {state.latest_status} and could not be cleared "
                               f"({self.redact(proc.stderr.strip())}); clear it by hand: {clear_pending_hint(self.ref, state)}")
        self.notes.append(f"{self.ref.name}: {what}")
        return self.state()

    def upgrade(self) -> str:
        """'' on success, else helm's error (redacted) and the namespace's diagnosis."""
        self.kube.ensure_namespace(self.ref.namespace, {"app.kubernetes.io/managed-by": "imagebuilding-hubs"})
        self.ran.append("upgrade")
        proc = run_helm(upgrade_command(self.ref, self.timeout, self.helm), self.values_yaml, self.env)
        if proc.returncode == 0:
            return ""
        health = diagnosis(self.kube, self.ref.namespace, str(self.args.get("hub") or self.ref.namespace),
                           pending_workloads(self.kube, self.ref.namespace))
        return f"{self.redact(proc.stderr.strip() or proc.stdout.strip())} {health['msg']}"

    def record_digest(self, state: ReleaseState) -> None:
        if state.deployed and state.summary["digest"] != self.digest:
            self.kube.merge_patch(path("v1", "secrets", self.ref.namespace, state.deployed["metadata"]["name"]),
                                  digest_patch(self.digest))

    def entry(self, before: int, after: ReleaseState | None, status: str) -> dict[str, Any]:
        summary = after.summary if after else {"chart": "", "chart_version": "", "revision": before}
        return {"hub": self.args.get("hub") or "", "cluster": self.args.get("cluster") or "",
                "release": self.ref.name, "namespace": self.ref.namespace, "chart": summary["chart"] or self.ref.name,
                "chart_version": summary["chart_version"] or self.ref.chart_version, "revision_before": before,
                "revision_after": summary["revision"], "status": status, "helm": list(self.ran),
                "started": round(self.started, 3),
                "duration": round(time.time() - self.started, 1)}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        release = self._templar.template(args["release"])
        if not isinstance(release, dict) or not args["values_var"]:
            return {**result, "failed": True, "msg": "hub_release: release (a mapping) and values_var are required"}
        values = plain(self._variable(task_vars, str(args["values_var"])) or {})
        secrets = plain(self._variable(task_vars, str(args["secret_values_var"] or "")) or {})
        deploy = Deploy(ReleaseRef.from_mapping(plain(release), str(args["kube_context"] or "")), values, secrets, args)
        try:
            outcome = self._deploy(deploy)
        except (RuntimeError, KubeError, HTTPError, OSError) as error:
            outcome = {"failed": True, "msg": deploy.redact(str(error)), "rollout": deploy.entry(0, None, "failed")}
        hub = args.get("hub") or task_vars.get("inventory_hostname")
        if outcome.get("failed"):
            outcome["msg"] = f"hub {hub}: release {deploy.ref.name} in {deploy.ref.namespace}: {outcome['msg']}"
        if deploy.notes:  # shown at every verbosity: a run cleared what an interrupted one left
            outcome["recovered"] = deploy.notes
            outcome["warnings"] = [f"hub {hub}: release {note}" for note in deploy.notes]
        releases = [r for r in task_vars.get("hub_rollout_releases") or []
                    if (r.get("release"), r.get("namespace")) != (deploy.ref.name, deploy.ref.namespace)]
        return {**result, **outcome, "ansible_facts": {"hub_rollout_releases": [*releases, outcome["rollout"]]}}

    def _variable(self, task_vars: dict[str, Any], dotted: str) -> object:
        """A variable's templated value; ``a.b.c`` reaches into mappings (a registered result)."""
        name, *keys = dotted.split(".") if dotted else ("",)
        value = self._templar.template(task_vars.get(name, {}))
        for key in keys:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        return value

    def _deploy(self, deploy: Deploy) -> dict[str, Any]:
        force = boolean(deploy.args.get("force") or False, strict=False)
        state = deploy.state()
        before = state.summary["revision"]
        if state.pending:
            if self._task.check_mode or not boolean(deploy.args.get("recover_pending") or False, strict=False):
                return {"failed": True, "rollout": deploy.entry(before, state, "failed"),
                        "msg": f"revision {state.latest_revision} is {state.latest_status} (another helm run is "
                               f"under way, or one was interrupted); when none is running, clear it with: "
                               f"{clear_pending_hint(deploy.ref, state)}"}
            state = deploy.recover(state)
        if self._task.check_mode:
            changes, text = deploy.diff()
            outcome: dict[str, Any] = {"changed": changes,
                                       "rollout": deploy.entry(before, state, "would change" if changes else "unchanged")}
            if changes and self._task.diff:
                outcome["diff"] = {"prepared": text}
            return outcome
        if state.deployed and state.summary["digest"] == deploy.digest and not force:
            return {"changed": False, "rollout": deploy.entry(before, state, "unchanged")}
        outcome = {}
        if self._task.diff and not state.deployed:
            outcome["diff"] = {"prepared": deploy.diff()[1]}
        # helm diff only for --diff, or for a release with no digest recorded (adopted, or a revision
        # made by hand): its manifests may already be what is wanted. A recorded digest that
        # differs means the chart or values changed: upgrade without asking helm diff first.
        adopted = not state.summary["digest"]
        if state.deployed and (self._task.diff or (adopted and not force)):
            changes, text = deploy.diff()
            if changes and self._task.diff:
                outcome["diff"] = {"prepared": text}
            if not changes and not force:
                deploy.record_digest(state)
                return {"changed": False, "rollout": deploy.entry(before, state, "unchanged")}
        error = deploy.upgrade()
        after = deploy.state()
        if error:
            return {"failed": True, "msg": error, "rollout": deploy.entry(before, after, "failed")}
        deploy.record_digest(after)
        status = rollout_status(before, after.summary["revision"], False)
        return {**outcome, "changed": status == "changed", "rollout": deploy.entry(before, after, status)}
