"""Action plugin ``hub_release_state``: the no-op fast path and the rollout record of a release.

``mode: check`` reads the release's deployed helm Secret (one read) and compares the
desired-state digest recorded on it (annotation ``imagebuilding-hubs/desired-state``)
with the digest of the chart and the values about to be deployed: ``up_to_date`` is true
when they are equal, so the helm task can be skipped. ``mode: record`` reads the deployed
Secret after helm ran, records the digest on it (unless the deploy failed or the run is in
check mode) and appends the release's outcome to the host fact ``hub_rollout_releases``,
which the ``hub_rollout_report`` callback prints. Values are named by variable
(``values_var``), so no secret value appears in task arguments; only their sha256 is kept.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import ansible.module_utils
from ansible.plugins.action import ActionBase
from kubernetes import client, config

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.hub_rollout import DIGEST_ANNOTATION, desired_state_digest, release_summary, rollout_status
from ansible.module_utils.hub_values import plain


def core_api(kubeconfig: str | None, context: str | None) -> client.CoreV1Api:
    api_client = config.new_client_from_config(config_file=str(Path(kubeconfig).expanduser()) if kubeconfig else None,
                                               context=context or None)
    return client.CoreV1Api(api_client)


def deployed_secret(api: client.CoreV1Api, name: str, namespace: str) -> dict[str, Any] | None:
    """helm's Secret of the release's deployed revision, or None."""
    selector = f"owner=helm,name={name},status=deployed"
    items = api.list_namespaced_secret(namespace, label_selector=selector).to_dict()["items"]
    if not items:
        return None
    latest = max(items, key=lambda item: int(item["metadata"]["labels"].get("version", 0)))
    return api.api_client.sanitize_for_serialization(api.read_namespaced_secret(latest["metadata"]["name"], namespace))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("mode", "name", "namespace", "chart_ref", "chart_version", "values_var", "kubeconfig",
                             "kube_context", "hub", "cluster", "revision_before", "started", "failed", "changed"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        for required in ("mode", "name", "namespace", "chart_ref", "values_var"):
            if not args.get(required):
                return {**result, "failed": True, "msg": f"hub_release_state: {required} is required"}
        values = plain(self._templar.template(task_vars.get(args["values_var"], {})) or {})
        digest = desired_state_digest(args["chart_ref"], str(args.get("chart_version") or ""), values)
        try:
            api = core_api(args.get("kubeconfig"), args.get("kube_context"))
            secret = deployed_secret(api, args["name"], args["namespace"])
        except Exception as error:
            if args["mode"] == "check":
                return {**result, "up_to_date": False, "revision": 0, "checked_at": time.time(),
                        "msg": f"release {args['name']}: state not readable ({type(error).__name__}); deploying"}
            return {**result, "failed": True, "msg": f"release {args['name']}: state not readable: {error}"}
        summary = release_summary(secret)
        if args["mode"] == "check":
            return {**result, "changed": False, "up_to_date": bool(secret) and summary["digest"] == digest,
                    "revision": summary["revision"], "chart_version": summary["chart_version"],
                    "checked_at": time.time()}
        return self._record(result, args, task_vars, api, secret, summary, digest)

    def _record(self, result: dict[str, Any], args: dict[str, Any], task_vars: dict[str, Any], api: client.CoreV1Api,
                secret: dict[str, Any] | None, summary: dict[str, Any], digest: str) -> dict[str, Any]:
        failed = bool(args.get("failed"))
        check_mode = bool(self._task.check_mode)
        patched = False
        if secret and not failed and not check_mode and summary["digest"] != digest:
            body = {"metadata": {"annotations": {DIGEST_ANNOTATION: digest}}}
            api.patch_namespaced_secret(secret["metadata"]["name"], args["namespace"], body)
            patched = True
        before = int(args.get("revision_before") or 0)
        if check_mode and not failed:
            status = "would change" if args.get("changed") else "unchanged"
        else:
            status = rollout_status(before, summary["revision"], failed)
        started = float(args.get("started") or time.time())
        entry = {
            "hub": args.get("hub") or task_vars.get("inventory_hostname"),
            "cluster": args.get("cluster") or "",
            "release": args["name"],
            "namespace": args["namespace"],
            "chart": summary["chart"],
            "chart_version": summary["chart_version"] or str(args.get("chart_version") or ""),
            "revision_before": before,
            "revision_after": summary["revision"],
            "status": status,
            "started": round(started, 3),
            "duration": round(time.time() - started, 1),
        }
        releases = [r for r in task_vars.get("hub_rollout_releases") or [] if r.get("release") != args["name"]
                    or r.get("namespace") != args["namespace"]]
        return {**result, "changed": patched, "rollout": entry,
                "ansible_facts": {"hub_rollout_releases": [*releases, entry]}}
