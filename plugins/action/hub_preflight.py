"""Action plugin ``hub_preflight``: everything a hub's rollout needs, checked before it changes anything.

Runs in the validate play, on the controller, in the task's worker process:

1. The hub model (every variable; the same errors as ``hub_model``).
2. Each release's chart: an upstream chart's pinned version is pulled into the chart cache
   (``plugin_utils/chart_cache.py``), so a version that does not exist or a repository that
   does not answer fails here, naming the variable; a chart directory's version was checked
   against the pin by the model.
3. The hub's sops-encrypted ``hub_values_files`` and its secret values file (when it exists;
   the secrets role writes it on the first rollout) decrypted in memory, with
   ``secrets_extra_values`` on top as the secrets role would write them.
4. The final values of every release checked by the release rules
   (``plugin_utils/release_rules.py``) and the charts' schemas, each problem naming the hub,
   the file that set the value and the key path; a secret a person must add (the OAuth client
   secret) missing from the secret values file.
5. The hub's companion releases (``hub_companion_releases``): each chart resolved as above, the
   sops-encrypted values files decrypted in memory, the final values checked against the chart's
   schema (``hub_render.render_companions``).

Every problem of the charts and of the final values (the companion releases' too) is reported at once. The checks are
``plugin_utils/hub_preflight.py``, which ``hub_validate`` (``playbooks/validate.yml``) runs too.
No decrypted value is in the task's arguments, its result or its messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_decrypt, sops_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.adoption import adoption_report
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_preflight import (
    chart_problems,
    companion_problems,
    helm_resolver,
    values_problems,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, render_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import unused_sections

ARGS = ("registry", "secrets_file", "tokens", "sops_binary", "age_keyfile", "helm")


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        sops_binary, env = str(args.get("sops_binary") or "sops"), sops_environment(args.get("age_keyfile"))

        def decrypt_file(path: str) -> str:
            return sops_decrypt(path, binary=sops_binary, env=env)

        try:
            rendering = render_model(collect_variables(task_vars, self._templar.template), args["registry"],
                                     base_dir=str(task_vars.get("inventory_dir") or Path.cwd()), decrypt=True,
                                     decrypt_file=decrypt_file)
        except RenderError as error:
            return {**result, "failed": True, "msg": str(error), **error.details}
        hub = rendering.model.hub.name
        charts, problems = chart_problems(rendering.model, helm_resolver(str(args.get("helm") or "helm")))
        # Read here, never passed as an argument (it may hold secrets), as hub_secret_values does.
        problems += values_problems(rendering, secrets_file=str(args.get("secrets_file") or ""),
                                    extra_values=self._templar.template(task_vars.get("secrets_extra_values") or {}),
                                    tokens=args.get("tokens"), decrypt_file=decrypt_file)
        problems += companion_problems(rendering.model, base_dir=str(task_vars.get("inventory_dir") or Path.cwd()),
                                       decrypt_file=decrypt_file)
        if problems:
            return {**result, "failed": True, "errors": problems, "hub": hub,
                    "msg": f"hub {hub!r}: nothing was changed:\n- " + "\n- ".join(problems)}
        outcome = {**result, "changed": False, "hub": hub, "charts": charts,
                   "image_building": rendering.model.hub.image_building,
                   "adoption": adoption_report(rendering.model, task_vars.get("fleet_chart_pins"))}
        unused = unused_sections(rendering.model)
        if unused:  # never dropped without a word
            outcome["warnings"] = [f"hub {hub}: not deployed, the hub has no such release: " + "; ".join(unused)]
        return outcome
