"""Action plugin ``hub_helm_diff``: show what a helm upgrade would change, without secrets.

Runs ``helm diff upgrade`` (the helm-diff plugin) on the controller with the release's
values on stdin, and returns the diff for ``--diff`` runs. The values are named by
variable (``values_var``), so no secret value appears in the task's arguments; Secret
objects are masked by helm-diff, and every value of ``secret_values_var`` is redacted from
its output too. Changes nothing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import ansible.module_utils
import yaml
from ansible.plugins.action import ActionBase

_PLUGINS = Path(__file__).resolve().parent.parent
if str(_PLUGINS / "module_utils") not in ansible.module_utils.__path__:
    # The project's module_utils, importable as they are for modules.
    ansible.module_utils.__path__.append(str(_PLUGINS / "module_utils"))

from ansible.module_utils.hub_values import plain, redact

# helm diff --detailed-exitcode: 0 no change, 2 changes, anything else an error.
NO_CHANGE, CHANGES = 0, 2


def helm_diff_command(args: dict[str, Any]) -> list[str]:
    """The ``helm diff upgrade`` command line (no values: they go to stdin)."""
    command = [args.get("binary_path") or "helm", "diff", "upgrade", args["name"], args["chart_ref"],
               "--namespace", args["namespace"], "--allow-unreleased", "--detailed-exitcode", "--no-color",
               "--context", str(args.get("context_lines", 3)), "--values", "-"]
    if args.get("chart_version"):
        command += ["--version", args["chart_version"]]
    if args.get("chart_repo_url"):
        command += ["--repo", args["chart_repo_url"]]
    if args.get("kube_context"):
        command += ["--kube-context", args["kube_context"]]
    return command


def helm_environment(kubeconfig: str | None) -> dict[str, str]:
    environment = dict(os.environ)
    if kubeconfig:
        environment["KUBECONFIG"] = str(Path(kubeconfig).expanduser())
    return environment


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("name", "namespace", "chart_ref", "chart_version", "chart_repo_url", "values_var",
                             "secret_values_var", "kubeconfig", "kube_context", "binary_path", "context_lines"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        for required in ("name", "namespace", "chart_ref", "values_var"):
            if not args.get(required):
                return {**result, "failed": True, "msg": f"hub_helm_diff: {required} is required"}
        values = self._templar.template(task_vars.get(args["values_var"], {})) or {}
        secrets = plain(self._templar.template(task_vars.get(args.get("secret_values_var") or "", {})) or {})
        proc = subprocess.run(helm_diff_command(args), input=yaml.safe_dump(plain(values)), capture_output=True,
                              text=True, env=helm_environment(args.get("kubeconfig")), check=False)
        if proc.returncode not in (NO_CHANGE, CHANGES):
            message = redact(proc.stderr.strip() or proc.stdout.strip(), secrets)
            return {**result, "failed": True, "msg": f"helm diff of release {args['name']} failed: {message}"}
        result.update(changed=proc.returncode == CHANGES)
        if proc.returncode == CHANGES:
            result["diff"] = {"prepared": redact(proc.stdout, secrets)}
        return result
