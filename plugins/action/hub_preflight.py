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

No decrypted value is in the task's arguments, its result or its messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import ChartResolveError, resolve_chart
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.adoption import adoption_report
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import (
    RenderError,
    Rendering,
    decrypt_secrets_file,
    final_values,
    render_companions,
    render_model,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.render import unused_sections
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import missing_secret_keys
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge, plain
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import rollout_written_keys

ARGS = ("registry", "secrets_file", "tokens", "sops_binary", "age_keyfile", "helm")


def written_by_rollout(generated_tokens: object) -> set[str]:
    """Secret keys the secrets role writes itself (registry credentials, generated tokens)."""
    return rollout_written_keys(generated_tokens)


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        try:
            rendering = render_model(collect_variables(task_vars, self._templar.template), args["registry"],
                                     base_dir=str(task_vars.get("inventory_dir") or Path.cwd()), decrypt=True,
                                     sops_binary=str(args.get("sops_binary") or "sops"),
                                     env=sops_environment(args.get("age_keyfile")))
            charts = self._resolve_charts(rendering, args)
            self._check_values(rendering, args, task_vars)
            render_companions(rendering.model, base_dir=str(task_vars.get("inventory_dir") or Path.cwd()), decrypt=True,
                              sops_binary=str(args.get("sops_binary") or "sops"),
                              env=sops_environment(args.get("age_keyfile")))
        except RenderError as error:
            return {**result, "failed": True, "msg": str(error), **error.details}
        outcome = {**result, "changed": False, "hub": rendering.model.hub.name, "charts": charts,
                   "image_building": rendering.model.hub.image_building,
                   "adoption": adoption_report(rendering.model, task_vars.get("fleet_chart_pins"))}
        unused = unused_sections(rendering.model)
        if unused:  # never dropped without a word
            outcome["warnings"] = [f"hub {rendering.model.hub.name}: not deployed, the hub has no such release: "
                                   + "; ".join(unused)]
        return outcome

    def _resolve_charts(self, rendering: Rendering, args: dict[str, Any]) -> dict[str, str]:
        """Where each release's chart is (upstream ones pulled into the cache), the companion
        releases' by their variable (hub_companion_releases[<i>])."""
        hub, found, errors = rendering.model.hub.name, {}, []
        releases = [(key, release, f"{RELEASE_PREFIXES[key]}_chart_version",
                     f"a version that {RELEASE_PREFIXES[key]}_chart_repo/_chart_ref has")
                    for key, release in rendering.model.releases.items()]
        releases += [(c.variable, c.release, f"{c.variable}.version", f"a version that {c.variable}.chart has")
                     for c in rendering.model.companions]
        for key, release, variable, expected in releases:
            try:
                cached = resolve_chart(release, helm=str(args.get("helm") or "helm"))
            except ChartResolveError as error:
                where = release.chart_repo_url or release.chart_ref
                errors.append(f"hub {hub!r}: {variable}: chart {release.chart} {release.chart_version} cannot be "
                              f"fetched from {where}: {error}; expected {expected}")
                continue
            found[key] = str(cached or release.chart_ref)
        if errors:
            raise RenderError(f"hub {hub!r}: nothing was changed:\n- " + "\n- ".join(errors), errors=errors, hub=hub)
        return found

    def _check_values(self, rendering: Rendering, args: dict[str, Any], task_vars: dict[str, Any]) -> None:
        hub = rendering.model.hub.name
        path = str(args.get("secrets_file") or "")
        secrets: dict[str, Any] = {}
        source = "the secrets role's secrets_extra_values"
        if path and Path(path).is_file():
            secrets = decrypt_secrets_file(hub, path, sops_binary=str(args.get("sops_binary") or "sops"),
                                           env=sops_environment(args.get("age_keyfile")))
            source = f"the secret values file {path}"
        # Read here, never passed as an argument (it may hold secrets), as hub_secret_values does.
        extra = plain(self._templar.template(task_vars.get("secrets_extra_values") or {}))
        if extra:
            if not isinstance(extra, dict):
                raise RenderError(f"hub {hub!r}: secrets_extra_values: is not a mapping; expected chart sections")
            secrets = deep_merge(secrets, extra)
        final_values(rendering, plain(secrets), source)  # type: ignore[arg-type]
        needed = set(rendering.result()["required_secret_keys"]) - written_by_rollout(args.get("tokens"))
        missing = missing_secret_keys(secrets, sorted(needed))
        if missing:
            raise RenderError(f"hub {hub!r}: the secret values file {path} lacks {', '.join(missing)}; expected it "
                              f"there before the first rollout (scripts/hub-secrets set {hub} <key>, or "
                              "secrets_extra_values); nothing was changed")
