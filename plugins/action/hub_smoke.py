"""Action plugin ``hub_smoke``: the smoke check of a deployed hub, on the controller, in one task.

1. The validated hub model and the jupyterhub release's values rendered from it (its values files
   decrypted in memory), with the chart's defaults underneath: per profile, the user options of
   its default choices and the pod they must give (``plugin_utils/hub_smoke_cases.py``).
2. The ``hub-smoke`` service's token, decrypted in this process from the hub's secret values file
   (the secrets role generated it; the values wire it into ``hub.services``, its scopes in
   ``hub.loadRoles``): never an argument, a result or a message.
3. Through the hub's REST API at ``url`` (default ``https://<hub_domain>``): create the
   smoke-test user, start each case's server, wait until it is ready, check its pod through the
   Kubernetes API, stop it; delete the user at the end (``plugin_utils/hub_smoke.py``).

Changes nothing that outlasts the task (the user, its server and its home claim are removed):
``changed`` is false. A failure names the hub, the step and the profile. The result's
``hub_smoke`` is what the ``hub_rollout_report`` callback reports.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import ChartResolveError, resolve_chart
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_api import HubAPI
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_health import seconds
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import (
    RenderError,
    decrypt_secrets_file,
    render_model,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke import SmokeCheck, SmokeFailure
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_cases import SmokeCaseError, smoke_cases
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_smoke_record import write_record
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import SMOKE_TOKEN_KEY
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import get_path

ARGS = ("registry", "secrets_file", "sops_binary", "age_keyfile", "helm", "url", "timeout", "interval",
        "validate_hub_certs")


def chart_defaults(release: Release, helm: str) -> dict[str, Any]:
    """The chart's values.yaml (an upstream chart pulled into the chart cache when missing)."""
    try:
        directory = resolve_chart(release, helm=helm) or Path(release.chart_ref)
    except ChartResolveError as error:
        raise RenderError(f"chart {release.chart} {release.chart_version} cannot be fetched: {error}") from None
    values = directory / "values.yaml"
    if not values.is_file():
        return {}
    content = yaml.safe_load(values.read_text(encoding="utf-8"))
    return content if isinstance(content, dict) else {}


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset((*ARGS, *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        begin = time.monotonic()
        hub = str(task_vars.get("hub_name") or task_vars.get("inventory_hostname") or "")
        try:
            rendering = render_model(collect_variables(task_vars, self._templar.template), args.get("registry"),
                                     base_dir=str(task_vars.get("inventory_dir") or Path.cwd()), decrypt=True,
                                     sops_binary=str(args.get("sops_binary") or "sops"),
                                     env=sops_environment(args.get("age_keyfile")))
            model = rendering.model
            hub = model.hub.name
            release = model.releases["jupyterhub"]
            cases = smoke_cases(model, rendering.values["jupyterhub"],
                                chart_defaults(release, str(args.get("helm") or "helm")),
                                rendering.registry is not None and rendering.registry.pull_secret_required)
            url = self._url(args, model.hub.domain, hub)
            try:
                timeout = seconds(args.get("timeout") or "5m")
            except ValueError as error:
                raise RenderError(f"hub {hub}: hub_smoke_timeout: {error}") from None
            token = self._token(args, hub)
        except (RenderError, SmokeCaseError) as error:
            text = str(error)
            return {**result, "failed": True, "changed": False,
                    "msg": text if text.startswith("hub ") else f"hub {hub}: smoke check: {text}",
                    "hub_smoke": self._report(hub, "failed", begin, step="read the hub's model and secrets")}
        api = HubAPI(url, token, validate_certs=boolean(args.get("validate_hub_certs", True)))
        del token
        outcome = self._check(api, args, model.hub.namespace, cases, timeout, hub, url, begin)
        if not self._task.check_mode:
            try:  # the gate between upgrade batches reads it (plugins/plugin_utils/hub_smoke_record.py)
                write_record(Kube.from_args(args), model.hub.namespace, outcome["hub_smoke"])
            except (KubeConfigError, KubeError, HTTPError) as error:
                outcome.setdefault("warnings", []).append(f"hub {hub}: the smoke check's record was not kept: {error}")
        return {**result, **outcome}

    def _check(self, api: HubAPI, args: dict[str, Any], namespace: str, cases: Any, timeout: float,  # noqa: ANN401
               hub: str, url: str, begin: float) -> dict[str, Any]:
        try:
            check = SmokeCheck(api, Kube.from_args(args), namespace,
                               timeout=timeout, interval=float(args.get("interval") or 1))
            run = check.run(cases)
        except SmokeFailure as failure:
            where = f" (profile {failure.profile})" if failure.profile else ""
            return {"failed": True, "changed": False, "url": url,
                    "msg": f"hub {hub}: smoke check failed at step '{failure.step}'{where}: {failure.problem}",
                    "hub_smoke": self._report(hub, "failed", begin, step=failure.step, profile=failure.profile,
                                              error=failure.problem, url=url)}
        except KubeConfigError as error:
            return {"failed": True, "changed": False, "msg": f"hub {hub}: smoke check: {error}",
                    "hub_smoke": self._report(hub, "failed", begin, step="reach the cluster", url=url)}
        except (KubeError, HTTPError) as error:
            return {"failed": True, "changed": False,
                    "msg": f"hub {hub}: smoke check: namespace {namespace} could not be read: {error}",
                    "hub_smoke": self._report(hub, "failed", begin, step="read the user pod", url=url)}
        passed = {"changed": False, "url": url,
                  "msg": f"hub {hub}: smoke check passed: {len(run.profiles)} server(s) started, checked and stopped",
                  "hub_smoke": self._report(hub, "passed", begin, url=url, profiles=run.profiles)}
        if run.cleanup_problems:
            passed["warnings"] = [f"hub {hub}: {problem}" for problem in run.cleanup_problems]
        return passed

    @staticmethod
    def _report(hub: str, status: str, begin: float, **fields: object) -> dict[str, Any]:
        return {"hub": hub, "status": status, "duration": round(time.monotonic() - begin, 1), **fields}

    @staticmethod
    def _url(args: dict[str, Any], domain: str, hub: str) -> str:
        url = str(args.get("url") or f"https://{domain}").rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise RenderError(f"hub {hub}: hub_smoke_url: {url!r} is not a hub URL; expected http(s)://<host>[:port]")
        return url

    @staticmethod
    def _token(args: dict[str, Any], hub: str) -> str:
        path = str(args.get("secrets_file") or "")
        if not path:
            raise RenderError(f"hub {hub}: secrets_file: is empty; expected the hub's secret values file")
        secrets = decrypt_secrets_file(hub, path, sops_binary=str(args.get("sops_binary") or "sops"),
                                       env=sops_environment(args.get("age_keyfile")))
        token = get_path(secrets, SMOKE_TOKEN_KEY)
        if not isinstance(token, str) or not token:
            raise RenderError(f"hub {hub}: the secret values file {path} lacks {SMOKE_TOKEN_KEY}; expected the "
                              "secrets role to write it (run the rollout: playbooks/hub.yml)")
        return token
