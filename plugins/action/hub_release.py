"""Action plugin ``hub_release``: deploy one helm release of a hub, on the controller, in one task.

1. Reads the release's helm Secrets (one list call): the latest revision and its status, the
   deployed revision and the desired-state digest recorded on it.
2. A release left ``pending-*`` by an interrupted run is rolled back to its deployed revision
   (or uninstalled when nothing was deployed) when ``recover_pending`` says this run holds the
   hub's rollout lock; otherwise the task fails saying how to clear it.
3. No-op fast path: chart and values unchanged (digest equal) -> no helm at all. A deployed
   release without a recorded digest (adopted, or a revision made by hand) is compared with
   ``helm diff`` first: when its manifests would not change it only gets the digest recorded.
   Otherwise ``helm upgrade --install`` runs with the values on stdin (never in a file);
   then this plugin waits, looking every 0.25 s, until the release's Deployments, DaemonSets,
   StatefulSets, claims and load balancers are ready (what helm's ``--wait`` waits for; helm
   looks every 2 s). A failed upgrade, or one not ready within the timeout, is rolled back to
   the revision deployed before it, or uninstalled if it was the first install, as helm's
   ``--atomic`` does. ``force`` skips both shortcuts. Before the first install of z2jh, the
   values it would generate (its hub Secret's token, cookie secret and keys) are seeded, so that
   the install renders as every later upgrade does (``plugin_utils/chart_seeds.py``); a first
   install of another chart that renders from the cluster's state (``lookup``) is settled by one
   more upgrade before the wait, so that a ``--check --diff`` right after the deploy shows no change.
4. Check mode runs ``helm diff`` only and reports what would change; ``--diff`` shows it with
   every secret value redacted. Hooks are not compared (one-off jobs of an install or upgrade).
5. Records the digest on the deployed revision and appends the outcome to the host fact
   ``hub_rollout_releases`` (read by the ``hub_rollout_report`` callback). On failure the
   namespace's pods that are not ready and its recent warning events are reported.

With ``companions: before|after`` the task deploys the hub's companion releases of that order
(``hub_companion_releases``, ``plugin_utils/hub_model/companions.py``) the same way, one after
another: their values are their inline values and values files (sops-encrypted ones decrypted in
this process), checked against their charts' schemas; a companion with ``wait: false`` counts as
rolled out when helm has applied it; each takes its own ``timeout`` when it has one. helm labels
their release records ``imagebuilding-hubs/companion-of=<hub>``, so that one the inventory no
longer lists is named in a warning (by the jupyterhub release's task), never uninstalled.

No secret value is in the task's arguments or its result; helm's messages are redacted before
they are returned.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import yaml
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_seeds import SEEDED_LABEL, seed_name, seed_secret
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import (
    ReleaseState,
    release_state,
    release_summary,
    revision,
    settles,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_health import (
    RELEASE_KINDS,
    diagnosis,
    pending_workloads,
    release_pending,
    seconds,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import (
    DIFF_CHANGES,
    DIFF_NO_CHANGE,
    ReleaseRef,
    clear_pending_hint,
    diff_command,
    digest_patch,
    helm_environment,
    pending_recovery,
    run_helm,
    running_helm,
    undo_command,
    upgrade_command,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model, collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.companions import ORDERS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES, chart_metadata
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_objects import apply_objects
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import (
    RenderError,
    render_companions,
    render_model,
    with_secret_values,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_rollout import desired_state_digest, rollout_status
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_state import STATE_SECRET, recorded_releases
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.redaction import redact
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError, path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import KUBECONFIG, KubeAccess, kube_access
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import plain
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.release_takeover import OPT_IN, README, TAKEOVER_CHART
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import rollout_written_keys
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.versions import goes_back

WAIT_INTERVAL = 0.25  # seconds between looks at a release's objects after helm applied them
ARGS = ("releases", "companions", "secrets_file", "registry", "apply_objects", "sops_binary", "age_keyfile", "timeout",
        "force", "recover_pending", "hub", "cluster", "helm", "take_over")
# helm's label on the release records of a hub's companion releases (helm upgrade --labels): its value is the hub.
COMPANION_LABEL = "imagebuilding-hubs/companion-of"


def merge_outcomes(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two steps' results as one: changed if either changed, failed and its message from the second,
    diffs, warnings and recovery notes together."""
    merged = {**first, **second, "changed": bool(first.get("changed") or second.get("changed"))}
    for key in ("diff", "warnings", "recovered"):
        if first.get(key) or second.get(key):
            merged[key] = [*(first.get(key) or []), *(second.get(key) or [])]
    return merged


def this_run(row: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """A release's record for the run: an earlier task of the run that changed it (a takeover's
    upgrade before the role's own task) is what the run did, not the later "unchanged"."""
    before = next((r for r in earlier if (r.get("release"), r.get("namespace")) == (row["release"], row["namespace"])
                   and r.get("status") == "changed" and r.get("revision_after") == row["revision_after"]), None)
    return before if before and row["status"] == "unchanged" else row


class Deploy:
    """One release's deploy: the inputs, the API and the record being built."""

    def __init__(self, ref: ReleaseRef, values: object, secrets: object, args: dict[str, Any],
                 access: KubeAccess, *, chart: str, name_variable: str, companion_of: str = "",
                 wait: bool = True) -> None:
        self.ref, self.values, self.secrets, self.args, self.access = ref, values, secrets, args, access
        # The chart the release must be, the variable that names it, the hub it is a companion release
        # of ("" for the hub's own releases) and whether its objects must be ready before it counts.
        self.chart, self.name_variable, self.companion_of, self.waits = chart, name_variable, companion_of, wait
        self.values_yaml = yaml.safe_dump(values)
        self.digest = desired_state_digest(ref.chart_ref, ref.chart_version, values)
        self.env = helm_environment(access)
        self.helm = str(args.get("helm") or "helm")
        self.timeout = str(args.get("timeout") or "5m0s")
        self.started = time.time()
        self.notes: list[str] = []
        self.ran: list[str] = []  # the helm commands run (diff, upgrade, rollback, uninstall), for the record
        self.before: dict[str, Any] = {}  # what was deployed before this run (release_summary)

    @functools.cached_property
    def target(self) -> tuple[str, str]:
        """(chart version, app version) this deploy moves the release to: a chart directory's own
        Chart.yaml, else the pinned version (the app version is then known only once deployed)."""
        metadata = chart_metadata(Path(self.ref.chart_ref)) if Path(self.ref.chart_ref).is_dir() else {}
        return str(metadata.get("version") or self.ref.chart_version), str(metadata.get("appVersion") or "")

    @functools.cached_property
    def kube(self) -> Kube:
        """The cluster's API, made at first use: a kubeconfig that cannot be used fails the release's
        deploy (KubeConfigError, naming the variable) like any other cluster error."""
        return Kube(self.access)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)  # type: ignore[arg-type]

    def other_release(self, chart: str) -> str:
        """Another deployed release of ``chart`` in the namespace ('' when there is none): a second
        release of a chart in one namespace would fight the first over its namespaced objects."""
        selector = "owner=helm,status=deployed"
        for secret in self.kube.items(path("v1", "secrets", self.ref.namespace), labelSelector=selector):
            name = revision(secret).release
            if name != self.ref.name and release_summary(secret)["chart"] == chart:
                return name
        return ""

    def state(self) -> ReleaseState:
        selector = f"owner=helm,name={self.ref.name}"
        return release_state(self.kube.items(path("v1", "secrets", self.ref.namespace), labelSelector=selector))

    def diff(self, client_side: bool = False) -> tuple[bool, str]:
        """(would change, the diff redacted); raises RuntimeError when helm diff fails. ``client_side``
        renders without the cluster (a release to be installed after a takeover, whose objects the
        release taken over still owns: a server-side dry run would refuse them)."""
        self.ran.append("diff")
        env = {**self.env, "HELM_DIFF_USE_UPGRADE_DRY_RUN": "false"} if client_side else self.env
        proc = run_helm(diff_command(self.ref, self.helm, validate=not client_side), self.values_yaml, env)
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

    def upgrade(self, before: ReleaseState) -> str:
        """'' when the release rolled out, else why (redacted), the namespace's diagnosis and
        what undoing the upgrade did: rolled back to ``before``'s deployed revision, or uninstalled.

        Before a first install, the values its chart would generate from the cluster's state are
        seeded (``plugin_utils/chart_seeds.py``); a first install whose chart still renders from the
        cluster's state is settled before the wait: one more upgrade, so that the record matches
        what every later render gives (``settles``)."""
        self.kube.ensure_namespace(self.ref.namespace, {"app.kubernetes.io/managed-by": "imagebuilding-hubs"})
        seeded = not before.deployed and self.seed()
        self.ran.append("upgrade")
        deadline = time.monotonic() + seconds(self.timeout)
        labels = {COMPANION_LABEL: self.companion_of} if self.companion_of else {}
        command = upgrade_command(self.ref, self.timeout, self.helm, labels)
        proc = run_helm(command, self.values_yaml, self.env)
        if proc.returncode == 0 and not before.deployed and settles(self.state().deployed, seeded):
            self.ran.append("upgrade")
            proc = run_helm(command, self.values_yaml, self.env)
        if proc.returncode == 0:
            pending = self.wait(deadline) if self.waits else []
            if not pending:
                return ""
            error = f"did not roll out within {self.timeout}: {'; '.join(pending)}."
        else:
            error = self.redact(proc.stderr.strip() or proc.stdout.strip())
        health = diagnosis(self.kube, self.ref.namespace, str(self.args.get("hub") or self.ref.namespace),
                           pending_workloads(self.kube, self.ref.namespace))
        undone = self.undo(before)
        if seeded:
            self.unseed()
        return f"{error} {health['msg']}. {undone}"

    def seed(self) -> bool:
        """Create the Secret of the values the chart would generate on this first install (True
        when created; False when the chart needs none or a Secret of that name exists already:
        the chart then finds it, or helm refuses it, as without the seed)."""
        body = seed_secret(self.chart, self.ref.name, self.ref.namespace, self.values)
        if body is None:
            return False
        try:
            self.kube.create(path("v1", "secrets", self.ref.namespace), body)
        except KubeError as error:
            if error.status == 409:
                return False
            raise
        return True

    def unseed(self) -> None:
        """Delete the seeded Secret after a first install that left no release (helm deletes it with
        a release it made); a Secret another release adopted since is left alone."""
        where = path("v1", "secrets", self.ref.namespace, seed_name(self.chart))
        found = self.kube.get_or_none(where)
        labels = ((found or {}).get("metadata") or {}).get("labels") or {}
        if found is not None and labels.get(SEEDED_LABEL) and self.state().latest_revision == 0:
            self.kube.delete(where)

    def wait(self, deadline: float) -> list[str]:
        """Poll (every WAIT_INTERVAL s) until the release's objects are ready; what is still not at the deadline."""
        kinds: tuple[str, ...] = tuple(RELEASE_KINDS)
        while True:
            pending = release_pending(self.kube, self.ref.namespace, self.ref.name, kinds)
            if not pending or time.monotonic() >= deadline:
                return [line for lines in pending.values() for line in lines]
            kinds = tuple(pending)
            time.sleep(WAIT_INTERVAL)

    def undo(self, before: ReleaseState) -> str:
        """Put back what served before a failed upgrade, as helm's --atomic would."""
        latest = self.state()
        if latest.latest_revision == before.latest_revision:
            return "helm made no new revision: nothing to roll back"
        command, what = undo_command(self.ref, before, self.timeout, self.helm)
        self.ran.append(command[1])
        proc = run_helm(command, None, self.env)
        if proc.returncode != 0:
            return f"Undoing the upgrade failed ({self.redact(proc.stderr.strip())}); clear it by hand: {' '.join(command[:5])}"
        return f"The release was {what}."

    def record_digest(self, state: ReleaseState) -> None:
        if state.deployed and state.summary["digest"] != self.digest:
            self.kube.merge_patch(path("v1", "secrets", self.ref.namespace, state.deployed["metadata"]["name"]),
                                  digest_patch(self.digest))

    def entry(self, before: int, after: ReleaseState | None, status: str) -> dict[str, Any]:
        summary = after.summary if after else {"chart": "", "chart_version": "", "app_version": "", "revision": before}
        # What the release runs after this run: what helm deployed, or in check mode what it would.
        version, app_version = (self.target if status == "would change"
                                else (summary["chart_version"] or self.target[0], summary["app_version"]))
        return {"hub": self.args.get("hub") or "", "cluster": self.args.get("cluster") or "",
                "release": self.ref.name, "namespace": self.ref.namespace, "chart": summary["chart"] or self.ref.name,
                "chart_version_before": self.before.get("chart_version", ""), "chart_version": version,
                "app_version_before": self.before.get("app_version", ""), "app_version": app_version or "",
                "revision_before": before,
                "revision_after": summary["revision"], "status": status, "helm": list(self.ran),
                "started": round(self.started, 3),
                "duration": round(time.time() - self.started, 1)}


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset((*ARGS, *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        hub = str(args.get("hub") or task_vars.get("inventory_hostname"))
        if args.get("companions") is not None:
            return {**result, **self._run_companions(task_vars, args, hub)}
        releases = args["releases"]
        # registry may be empty for a hub that builds no images (the hub model says; it then has none).
        if not isinstance(releases, list) or not releases or not args["secrets_file"]:
            return {**result, "failed": True, "msg": f"hub {hub}: hub_release: releases (a list) and secrets_file "
                    "are required, and registry for a hub that builds images (the roles' <role>_secrets_file and "
                    "<role>_registry inputs: the secrets role's secrets_values_file, the registry role's "
                    "registry_definition | imagebuilding.hubs.registry_view), or companions: before|after"}
        try:
            access = kube_access(self._task.args)
        except KubeConfigError as error:
            return {**result, "failed": True, "msg": f"hub {hub}: {error}"}
        try:
            rendered = self._render(task_vars, args)
        except RenderError as error:
            return {**result, "failed": True, "msg": str(error)}
        keys = [str(key) for key in releases if key in rendered["releases"]]
        mine = {(rendered["releases"][key]["name"], rendered["releases"][key]["namespace"]) for key in keys}
        earlier = task_vars.get("hub_rollout_releases") or []
        entries = [r for r in earlier if (r.get("release"), r.get("namespace")) not in mine]
        outcome = self._apply_objects(rendered, access, hub) if args.get("apply_objects") else {}
        context = access.context if access.mode == KUBECONFIG else ""
        for key in keys:
            if outcome.get("failed"):
                break
            release = rendered["releases"][key]
            deploy = Deploy(ReleaseRef.from_mapping(release, context), rendered["release_values"][key],
                            rendered["secret_values"], args, access, chart=str(release["chart"]),
                            name_variable=RELEASE_PREFIXES[key] + "_release_name")
            deployed = self._deploy_release(deploy, hub)
            entries.append(this_run(deployed.pop("rollout"), earlier))
            outcome = merge_outcomes(outcome, deployed)
        if rendered.get("stand_ins"):
            outcome.setdefault("warnings", []).append(
                f"hub {hub}: check mode: the secret values file does not have {', '.join(rendered['stand_ins'])} yet "
                "(the secrets role writes them when the hub deploys); placeholders stand in for them in the diff")
        if "jupyterhub" in keys and not outcome.get("failed"):  # once per hub: the jupyterhub role's task
            outcome = merge_outcomes(outcome, self._left_behind(rendered, access, hub))
        return {**result, "changed": False, **outcome, "ansible_facts": {"hub_rollout_releases": entries}}

    def _run_companions(self, task_vars: dict[str, Any], args: dict[str, Any], hub: str) -> dict[str, Any]:
        """The hub's companion releases of one order (``companions``), one after another; the first
        that fails stops the others (rolled back as any release is)."""
        order = str(args["companions"])
        if order not in ORDERS:
            return {"failed": True, "msg": f"hub {hub}: hub_release: companions is {order!r}; expected one of "
                    + ", ".join(ORDERS)}
        try:
            access = kube_access(self._task.args)
        except KubeConfigError as error:
            return {"failed": True, "msg": f"hub {hub}: {error}"}
        base_dir = str(task_vars.get("inventory_dir") or Path.cwd())
        try:
            model = build_model(collect_variables(task_vars, self._templar.template), base_dir=base_dir)
            companions = render_companions(model, base_dir=base_dir, order=order, decrypt=True,
                                           sops_binary=str(args.get("sops_binary") or "sops"),
                                           env=sops_environment(args.get("age_keyfile")))
        except HubModelError as error:
            return {"failed": True, "msg": str(error)}
        except RenderError as error:
            return {"failed": True, "msg": str(error)}
        if not companions:
            return {"changed": False, "msg": f"hub {hub}: no companion release comes {order} the hub's own"}
        mine = {(c.companion.release.name, c.companion.release.namespace) for c in companions}
        entries = [r for r in task_vars.get("hub_rollout_releases") or [] if (r.get("release"), r.get("namespace")) not in mine]
        context = access.context if access.mode == KUBECONFIG else ""
        outcome: dict[str, Any] = {}
        for rendering in companions:
            if outcome.get("failed"):
                break
            companion = rendering.companion
            timeout = companion.timeout or args.get("timeout")
            deploy = Deploy(ReleaseRef.from_mapping(rendering.release, context), plain(rendering.values),
                            plain(rendering.secret_values), {**args, "timeout": timeout}, access,
                            chart=companion.release.chart, name_variable=f"{companion.variable}.name",
                            companion_of=model.hub.name, wait=companion.wait)
            deployed = self._deploy_release(deploy, hub)
            entries.append(deployed.pop("rollout"))
            outcome = merge_outcomes(outcome, deployed)
        return {"changed": False, **outcome, "ansible_facts": {"hub_rollout_releases": entries}}

    def _left_behind(self, rendered: dict[str, Any], access: KubeAccess, hub: str) -> dict[str, Any]:
        """A warning for each release deployed for the hub that it no longer has: a companion release
        of the hub (helm's label) that hub_companion_releases no longer lists, and a release of a
        chart the toolkit deploys in the hub's namespace (a hub that stopped building images keeps
        its binderhub-service release; one without dask-gateway its dask-gateway release)."""
        namespace = str(rendered["namespace"])
        own = [*rendered["releases"].values(), *rendered["companions"].values()]
        wanted = {(str(r["name"]), str(r["namespace"])) for r in own}
        warnings = []
        try:
            kube = Kube(access)
            for secret in self._companion_records(kube, rendered, own):
                name, where = revision(secret).release, str(secret["metadata"].get("namespace") or "")
                if (name, where) in wanted:
                    continue
                chart = release_summary(kube.get(path("v1", "secrets", where, secret["metadata"]["name"])))["chart"]
                warnings.append(f"hub {hub}: release {name} ({chart}) is deployed in {where} as a companion release "
                                f"of the hub, but hub_companion_releases no longer lists it; it keeps running: "
                                f"uninstall it (helm uninstall {name} -n {where}) or list it again")
            found = kube.metadata(path("v1", "secrets", namespace), labelSelector="owner=helm,status=deployed")
            for name in sorted({revision(s).release for s in found} - {name for name, _ in wanted}):
                secret = next(s for s in found if revision(s).release == name)
                if COMPANION_LABEL in ((secret.get("metadata") or {}).get("labels") or {}):
                    continue  # a companion release: named above
                chart = release_summary(kube.get(path("v1", "secrets", namespace, secret["metadata"]["name"])))["chart"]
                if chart in RELEASE_PREFIXES:
                    warnings.append(f"hub {hub}: release {name} ({chart}) is deployed in {namespace} but the hub no "
                                    f"longer has it (hub_image_building, hub_dask_gateway_enabled, a renamed "
                                    f"release); it keeps running: uninstall it (helm uninstall {name} -n "
                                    f"{namespace}) or deploy it again")
        except (KubeError, KubeConfigError, HTTPError) as error:
            warnings.append(f"hub {hub}: the namespace's other releases could not be listed: {error}")
        return {"warnings": warnings} if warnings else {}

    @staticmethod
    def _companion_records(kube: Kube, rendered: dict[str, Any], own: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The deployed revisions' helm Secrets (metadata) labelled as the hub's companion releases, in
        every namespace; where the cluster does not let this task list Secrets across namespaces, in
        those of the hub's releases and companions and of its last recorded rollout."""
        selector = f"owner=helm,status=deployed,{COMPANION_LABEL}={rendered['hub']}"
        try:
            return kube.metadata(path("v1", "secrets"), labelSelector=selector)
        except KubeError as error:
            if error.status != 403:
                raise
        record = kube.get_or_none(path("v1", "secrets", str(rendered["namespace"]), STATE_SECRET))
        namespaces = {str(r["namespace"]) for r in own}
        namespaces |= {str(r["namespace"]) for r in recorded_releases(record).values() if r.get("namespace")}
        return [s for where in sorted(namespaces) for s in kube.metadata(path("v1", "secrets", where), labelSelector=selector)]

    def _render(self, task_vars: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        """The hub's final values per release, its secret values decrypted in this process only."""
        rendering = render_model(collect_variables(task_vars, self._templar.template),
                                 self._templar.template(args.get("registry")),
                                 base_dir=str(task_vars.get("inventory_dir") or Path.cwd()),
                                 decrypt=True, sops_binary=str(args.get("sops_binary") or "sops"),
                                 env=sops_environment(args.get("age_keyfile")))
        # Check mode on a hub's first run: the keys the secrets role would write stand in (STAND_IN).
        stand_ins = (rollout_written_keys(plain(self._templar.template(task_vars.get("secrets_generated_tokens") or [])))
                     if self._task.check_mode else set())
        final = with_secret_values(rendering, str(args["secrets_file"]), [str(r) for r in args["releases"]],
                                   sops_binary=str(args.get("sops_binary") or "sops"),
                                   env=sops_environment(args.get("age_keyfile")), stand_ins=stand_ins)
        return plain(final)  # type: ignore[return-value]  # templated strings -> str, for YAML and digests

    def _apply_objects(self, rendered: dict[str, Any], access: KubeAccess, hub: str) -> dict[str, Any]:
        """The hub's own objects (the NFS home share's volume and claim), by server-side apply."""
        if not rendered["objects"]:
            return {}
        kube = Kube(access)
        diffs = []
        try:
            applied = apply_objects(kube, rendered["objects"], dry_run=self._task.check_mode)
        except (KubeError, ValueError, HTTPError) as error:
            return {"failed": True, "msg": f"hub {hub}: could not apply the hub's objects: {error}"}
        for outcome in applied:
            if outcome.changed and self._task.diff:
                diffs.append({"before_header": outcome.label, "after_header": outcome.label,
                              "before": yaml.safe_dump(outcome.before), "after": yaml.safe_dump(outcome.after)})
        return {"changed": any(o.changed for o in applied), "objects": [o.label for o in applied if o.changed],
                **({"diff": diffs} if diffs else {})}

    def _deploy_release(self, deploy: Deploy, hub: str) -> dict[str, Any]:
        ref = deploy.ref
        try:
            outcome = self._deploy(deploy)
        except (RuntimeError, KubeError, KubeConfigError, HTTPError, OSError) as error:
            outcome = {"failed": True, "msg": deploy.redact(str(error)), "rollout": deploy.entry(0, None, "failed")}
        if outcome.get("failed"):
            outcome["msg"] = f"hub {hub}: release {ref.name} in {ref.namespace}: {outcome['msg']}"
        if deploy.notes:  # shown at every verbosity: a run cleared what an interrupted one left
            outcome["recovered"] = deploy.notes
            outcome["warnings"] = [f"hub {hub}: release {note}" for note in deploy.notes]
        row = outcome.get("rollout") or {}
        if row.get("status") in ("changed", "would change") and goes_back(row["app_version_before"], row["app_version"]):
            outcome.setdefault("warnings", []).append(
                f"hub {hub}: release {ref.name}: the app version goes back from {row['app_version_before']} to "
                f"{row['app_version']} (chart {row['chart_version_before']} -> {row['chart_version']}): what the newer "
                "version migrated (e.g. the hub database) may not work with the older one (README: Upgrading the fleet)")
        if "diff" in outcome:
            outcome["diff"] = [{**outcome["diff"], "before_header": ref.name, "after_header": ref.name}]
        return outcome

    def _deploy(self, deploy: Deploy) -> dict[str, Any]:
        force = boolean(deploy.args.get("force") or False, strict=False)
        chart, variable = deploy.chart, deploy.name_variable
        state = deploy.state()
        deploy.before = state.summary
        before = state.summary["revision"]
        take_over = boolean(deploy.args.get("take_over") or False, strict=False)
        if state.summary["chart"] and state.summary["chart"] != chart and not (take_over and chart == TAKEOVER_CHART):
            found = f"{state.summary['chart']} {state.summary['chart_version']}".strip()
            rename = f"give the toolkit's release another name ({variable})"
            advice = (f"Take the hub over from it ({OPT_IN}: true; its plan first with --check --diff), {rename}"
                      if chart == TAKEOVER_CHART else rename.capitalize())
            return {"failed": True, "rollout": deploy.entry(before, state, "failed"),
                    "msg": f"release {deploy.ref.name!r} in {deploy.ref.namespace} is chart {found}, not {chart}. "
                           f"Nothing was changed: upgrading it in place would make it a {chart} release and delete "
                           f"every object only {state.summary['chart']} renders (an umbrella chart's NFS server, "
                           f"exporters, ...). {advice}, or uninstall the release first if nothing of it must stay ({README})"}
        owner = ((state.deployed or {}).get("metadata") or {}).get("labels", {}).get(COMPANION_LABEL, "")
        if deploy.companion_of and owner and owner != deploy.companion_of:
            return {"failed": True, "rollout": deploy.entry(before, state, "failed"),
                    "msg": f"release {deploy.ref.name!r} in {deploy.ref.namespace} is a companion release of hub "
                           f"{owner!r}. Nothing was changed: two hubs would take turns upgrading it. Give this hub's "
                           f"companion another name ({variable}) or namespace"}
        # A chart the toolkit knows fights a second release of itself in one namespace; a companion's
        # chart may well run twice (two exporters of one chart).
        if not deploy.companion_of and not state.latest_revision and (other := deploy.other_release(chart)):
            return {"failed": True, "rollout": deploy.entry(before, state, "failed"),
                    "msg": f"namespace {deploy.ref.namespace} already has release {other!r} of chart {chart} (deployed "
                           f"under another name, e.g. the toolkit's release names before they were named after the "
                           f"hub); {variable} is {deploy.ref.name!r}. Nothing was changed: a second {chart} release "
                           f"would fight the first over the namespace's objects. Keep the deployed release with "
                           f"{variable}: {other} (unique per cluster), or rename it (README: Release names)"}
        if state.pending:
            if self._task.check_mode or not boolean(deploy.args.get("recover_pending") or False, strict=False):
                return {"failed": True, "rollout": deploy.entry(before, state, "failed"),
                        "msg": f"revision {state.latest_revision} is {state.latest_status} (another helm run is "
                               f"under way, or one was interrupted); when none is running, clear it with: "
                               f"{clear_pending_hint(deploy.ref, state)}"}
            state = deploy.recover(state)
        if self._task.check_mode:
            changes, text = deploy.diff(client_side=take_over and not state.latest_revision)
            outcome: dict[str, Any] = {"changed": changes,
                                       "rollout": deploy.entry(before, state, "would change" if changes else "unchanged")}
            if changes and self._task.diff:
                outcome["diff"] = {"prepared": text}
            return outcome
        # A failed latest revision (an upgrade by hand that failed) is rolled out again, never unchanged.
        force = force or state.latest_status == "failed"
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
        error = deploy.upgrade(state)
        after = deploy.state()
        if error:
            return {"failed": True, "msg": error, "rollout": deploy.entry(before, after, "failed")}
        deploy.record_digest(after)
        status = rollout_status(before, after.summary["revision"], False)
        return {**outcome, "changed": status == "changed", "rollout": deploy.entry(before, after, status)}
