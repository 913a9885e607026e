"""Action plugin ``hub_takeover``: take a hub over from the incumbent's release of another chart
under the name of the hub's jupyterhub release (``plugin_utils/release_takeover.py`` says how).

- ``state: checked`` (the validate play): reads the helm records of the hub's namespace. A
  release under the name of one of the hub's releases that is of another chart fails the hub,
  naming the release, its chart and what to run - unless it is the jupyterhub release's name and
  ``take_over`` (the hub's ``hub_takeover_release``) is true. A release the toolkit deployed (its
  digest recorded) is not read further. A cluster that cannot be read is a warning: the deploy
  refuses such a release again.
- ``state: prepared`` (the deploy play, before the hub's releases): when the release under the
  jupyterhub release's name is of another chart, reads its manifest, renders the new one (a
  server-side dry run of the upgrade, the values rendered and decrypted in this process as
  ``hub_release`` does), plans each object's fate, refuses a takeover that would leave the hub
  database behind, and marks what must be kept; returns ``pending`` (the upgrade is for
  ``hub_release`` with ``take_over``). Check mode marks nothing.
- ``state: finished`` (the jupyterhub role, after the health check): once the release is the
  jupyterhub chart's, deletes what the upgrade left of the old manifest, takes the keep mark off
  claims a release owns now, deletes the old chart's revision records and reports each object's
  fate. Check mode changes nothing. Nothing to finish: unchanged.

No secret value is in the arguments, the result or a message (helm's errors are redacted).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible_collections.imagebuilding.hubs.plugins.module_utils.sops_files import sops_environment
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import (
    DIGEST_ANNOTATION,
    ReleaseState,
    release_record,
    release_state,
    release_states,
    release_summary,
    revision,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import (
    ReleaseRef,
    clear_pending_hint,
    dry_run_command,
    helm_environment,
    run_helm,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model, collect_variables
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, render_model, with_secret_values
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.redaction import redact
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import HTTPError, Kube, KubeConfigError, KubeError, path
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import ARGS as KUBE_ARGS
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_auth import KUBECONFIG, kube_access
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_resources import Resources
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import plain
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.release_takeover import (
    KEPT,
    NEVER_DELETED,
    TAKEOVER_CHART,
    UNMARK_PATCH,
    ManifestObject,
    Takeover,
    foreign,
    keep_patch,
    leftover,
    manifest_objects,
    marked,
    outcome,
    plan,
    problems,
    refusal,
    report,
    summary,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import rollout_written_keys

ARGS = ("state", "take_over", "secrets_file", "registry", "sops_binary", "age_keyfile", "hub", "helm")
STATES = ("checked", "prepared", "finished")


class TakeoverError(RuntimeError):
    """The takeover cannot go on (the message names the hub and what to do)."""


def _read(kube: Kube, namespace: str, release: str) -> tuple[list[dict[str, Any]], ReleaseState]:
    """The metadata of a release's helm Secrets and its state, the deployed revision's Secret read
    in full (one record: a release's history holds a record of its chart per revision)."""
    metadata = kube.metadata(path("v1", "secrets", namespace), labelSelector=f"owner=helm,name={release}")
    state = release_state(metadata)
    if state.deployed:
        state.deployed = kube.get(path("v1", "secrets", namespace, state.deployed["metadata"]["name"]))
    return metadata, state


class ActionModule(ActionBase):
    _requires_connection = False
    _VALID_ARGS = frozenset((*ARGS, *KUBE_ARGS))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = {key: self._task.args.get(key) for key in ARGS}
        hub = str(args.get("hub") or self._templar.template(task_vars.get("hub_name") or "")
                  or task_vars.get("inventory_hostname"))
        state = str(args.get("state") or "")
        if state not in STATES:
            return {**result, "failed": True, "msg": f"hub {hub}: hub_takeover: state must be one of {', '.join(STATES)}"}
        take_over = boolean(args.get("take_over") or False, strict=False)
        try:
            kube = Kube(kube_access(self._task.args))
            if state == "checked":
                return {**result, **self._checked(task_vars, kube, hub, take_over)}
            if state == "prepared":
                return {**result, **self._prepared(task_vars, args, kube, hub)}
            return {**result, **self._finished(task_vars, kube, hub)}
        except (RenderError, HubModelError, TakeoverError) as error:
            return {**result, "failed": True, "msg": str(error)}
        except (KubeError, KubeConfigError, HTTPError, OSError) as error:
            if state == "checked":  # the deploy refuses such a release again
                return {**result, "changed": False, "warnings": [
                    f"hub {hub}: the releases in the hub's namespace could not be read ({error}); a release of "
                    "another chart under one of the hub's release names is refused when the hub deploys"]}
            return {**result, "failed": True, "msg": f"hub {hub}: taking over the incumbent's release: {error}"}

    def _model_releases(self, task_vars: dict[str, Any]) -> dict[str, Release]:
        variables = collect_variables(task_vars, self._templar.template)
        model = build_model(variables, base_dir=str(task_vars.get("inventory_dir") or Path.cwd()))
        return dict(model.releases)

    # -- state: checked ---------------------------------------------------------------------------

    def _checked(self, task_vars: dict[str, Any], kube: Kube, hub: str, take_over: bool) -> dict[str, Any]:
        releases = self._model_releases(task_vars)
        errors, notes = [], []
        for namespace in sorted({r.namespace for r in releases.values()}):
            found = kube.metadata(path("v1", "secrets", namespace), labelSelector="owner=helm")
            states = release_states(found)
            for key, release in releases.items():
                state = states.get(release.name)
                if release.namespace != namespace or state is None:
                    continue
                latest = state.deployed or next(s for s in found if s["metadata"]["name"] == state.latest_secret)
                if ((latest.get("metadata") or {}).get("annotations") or {}).get(DIGEST_ANNOTATION):
                    continue  # deployed by the toolkit: its chart
                summary_ = release_summary(kube.get(path("v1", "secrets", namespace, latest["metadata"]["name"])))
                if not summary_["chart"] or summary_["chart"] == release.chart:
                    continue
                was = f"{summary_['chart']} {summary_['chart_version']}".strip()
                if key != TAKEOVER_CHART:
                    errors.append(foreign(hub, release.name, namespace, was, release.chart,
                                          f"{RELEASE_PREFIXES[key]}_release_name"))
                elif take_over:
                    notes.append(f"hub {hub}: release {release.name!r} ({was}) will be taken over: upgraded in "
                                 f"place to {release.chart} when the hub deploys")
                else:
                    takeover = Takeover(hub, release.name, namespace, summary_["chart"], summary_["chart_version"],
                                        summary_["revision"], {})
                    inventory = str(task_vars.get("inventory_file") or "<inventory>")
                    errors.append(refusal(hub, str(task_vars.get("inventory_hostname") or hub), inventory, takeover))
        if errors:
            return {"failed": True, "msg": "; ".join(errors)}
        return {"changed": False, "msg": "; ".join(notes) or f"hub {hub}: no release of another chart under its names",
                "takeover": bool(notes)}

    # -- state: prepared --------------------------------------------------------------------------

    def _prepared(self, task_vars: dict[str, Any], args: dict[str, Any], kube: Kube, hub: str) -> dict[str, Any]:
        rendering = render_model(collect_variables(task_vars, self._templar.template),
                                 self._templar.template(args.get("registry")),
                                 base_dir=str(task_vars.get("inventory_dir") or Path.cwd()), decrypt=True,
                                 sops_binary=str(args.get("sops_binary") or "sops"),
                                 env=sops_environment(args.get("age_keyfile")))
        release = rendering.model.releases[TAKEOVER_CHART]
        _, state = _read(kube, release.namespace, release.name)
        if not state.deployed or state.summary["chart"] == release.chart:
            return {"changed": False, "pending": False, "msg": f"hub {hub}: no release of another chart to take over"}
        if state.pending:
            ref = ReleaseRef(release.name, release.namespace, release.chart_ref)
            raise TakeoverError(f"hub {hub}: release {release.name!r} is {state.latest_status} (revision "
                                f"{state.latest_revision}); nothing was changed: when no helm is running on it, clear "
                                f"it ({clear_pending_hint(ref, state)}) and run again")
        # Check mode on the hub's first run (every takeover's): what the secrets role would write stands in.
        stand_ins = (rollout_written_keys(plain(self._templar.template(task_vars.get("secrets_generated_tokens") or [])))
                     if self._task.check_mode else set())
        rendered = plain(with_secret_values(rendering, str(args.get("secrets_file") or ""), [TAKEOVER_CHART],
                                            sops_binary=str(args.get("sops_binary") or "sops"),
                                            env=sops_environment(args.get("age_keyfile")), stand_ins=stand_ins))
        takeover = self._takeover(hub, state, rendered["releases"])
        old = manifest_objects(str(release_record(state.deployed).get("manifest") or ""), release.namespace)
        new = self._new_manifest(rendered, hub, args)
        fates = plan(takeover, old, new)
        refused = problems(takeover, fates)
        if refused:
            raise TakeoverError("; ".join(refused))
        marks = [(fate, patch) for fate in fates if (patch := keep_patch(takeover, fate))]
        if not self._task.check_mode:
            resources = Resources(kube)
            for fate, patch in marks:
                where = resources.path(fate.obj.api_version, fate.obj.kind, fate.obj.namespace, fate.obj.name)
                if where and kube.get_or_none(where) is not None:
                    kube.merge_patch(where, patch)
        heading = (f"hub {hub}: release {takeover.release!r} in {takeover.namespace} ({takeover.was}, revision "
                   f"{takeover.revision}) {'would be' if self._task.check_mode else 'is'} taken over: upgraded in place "
                   f"to {release.chart}; its objects:")
        lines = report(takeover, fates, heading)
        outcome_ = {"changed": True, "pending": True, "release": takeover.release, "chart_before": takeover.was,
                    "revision_before": takeover.revision, "plan": summary(fates), "marked": [f.obj.label for f, _ in marks],
                    "report": lines}
        if self._task.diff:
            outcome_["diff"] = {"prepared": "\n".join(lines) + "\n"}
        return outcome_

    def _takeover(self, hub: str, state: ReleaseState, releases: dict[str, Any]) -> Takeover:
        summary_ = state.summary
        name = str(revision(state.deployed or {}).release)
        return Takeover(hub, name, str(releases[TAKEOVER_CHART]["namespace"]), summary_["chart"], summary_["chart_version"],
                        summary_["revision"], {str(r["chart"]): str(r["name"]) for r in releases.values()})

    def _new_manifest(self, rendered: dict[str, Any], hub: str, args: dict[str, Any]) -> list[ManifestObject]:
        """The jupyterhub release's objects after the upgrade: helm's server-side dry run of it."""
        access = kube_access(self._task.args)
        release = rendered["releases"][TAKEOVER_CHART]
        ref = ReleaseRef.from_mapping(release, access.context if access.mode == KUBECONFIG else "")
        values = json.dumps(rendered["release_values"][TAKEOVER_CHART])  # JSON is YAML: helm reads it on stdin
        proc = run_helm(dry_run_command(ref, str(args.get("helm") or "helm")), values, helm_environment(access))
        if proc.returncode != 0:
            raise TakeoverError(f"hub {hub}: release {ref.name}: the dry run of the upgrade to {release['chart']} failed; "
                                f"nothing was changed: {redact(proc.stderr.strip(), rendered['secret_values'])}")
        try:
            manifest = str(json.loads(proc.stdout).get("manifest") or "")
        except ValueError:
            raise TakeoverError(f"hub {hub}: release {ref.name}: helm's dry run gave no release record") from None
        return manifest_objects(manifest, ref.namespace)

    # -- state: finished --------------------------------------------------------------------------

    def _finished(self, task_vars: dict[str, Any], kube: Kube, hub: str) -> dict[str, Any]:
        releases = self._model_releases(task_vars)
        release = releases[TAKEOVER_CHART]
        metadata, state = _read(kube, release.namespace, release.name)
        if state.deployed and state.summary["chart"] != release.chart:  # check mode: nothing was taken over
            return {"changed": False, "msg": f"hub {hub}: not taken over yet; the takeover's plan says what a run would do"}
        # The toolkit records its digest on each revision it deploys: only the others are read.
        unknown = [m["metadata"]["name"] for m in metadata
                   if not (m["metadata"].get("annotations") or {}).get(DIGEST_ANNOTATION)
                   and m["metadata"]["name"] != (state.deployed or {}).get("metadata", {}).get("name")]
        old = [s for s in (kube.get(path("v1", "secrets", release.namespace, name)) for name in unknown)
               if release_summary(s)["chart"] not in ("", release.chart)]
        if not old or not state.deployed:
            return {"changed": False, "msg": f"hub {hub}: no takeover to finish"}
        last = max(old, key=lambda s: revision(s).version)
        before = release_summary(last)
        takeover = Takeover(hub, release.name, release.namespace, before["chart"], before["chart_version"],
                            before["revision"], {r.chart: r.name for r in releases.values()})
        previous = manifest_objects(str(release_record(last).get("manifest") or ""), release.namespace)
        owned = self._owned(kube, releases, release.name, state)
        resources = Resources(kube)
        owned_keys = {obj.key for objects in owned.values() for obj in objects}
        live: dict[tuple[str, str, str, str], bool] = {}
        deleted, unmarked = [], []
        for obj in previous:
            if obj.key in owned_keys:
                if obj.kind in NEVER_DELETED:  # kept through the upgrade and adopted: the keep mark comes off
                    found = resources.get(obj.api_version, obj.kind, obj.namespace, obj.name)
                    if marked(found, release.name):
                        unmarked.append(obj.label)
                        if not self._task.check_mode:
                            kube.merge_patch(str(resources.path(obj.api_version, obj.kind, obj.namespace, obj.name)),
                                             UNMARK_PATCH)
                continue
            found = resources.get(obj.api_version, obj.kind, obj.namespace, obj.name)
            if leftover(obj, found, release.name):
                deleted.append(obj.label)
                if not self._task.check_mode:
                    kube.delete(str(resources.path(obj.api_version, obj.kind, obj.namespace, obj.name)))
                found = None
            live[obj.key] = found is not None
        retired = sorted(revision(s).version for s in old)
        if not self._task.check_mode:
            for secret in old:
                kube.delete(path("v1", "secrets", release.namespace, secret["metadata"]["name"]))
        fates = outcome(takeover, previous, owned, live)
        verb = "would be" if self._task.check_mode else "was"
        heading = (f"hub {hub}: release {release.name!r} in {release.namespace} {verb} taken over from {takeover.was} "
                   f"(revision {takeover.revision}); its {takeover.chart} revision records "
                   f"{', '.join(map(str, retired))} {'would be' if self._task.check_mode else 'were'} deleted; "
                   "what became of its objects:")
        lines = report(takeover, fates, heading)
        kept = [f.obj.label for f in fates if f.fate == KEPT]
        result: dict[str, Any] = {"changed": True, "release": release.name, "chart_before": takeover.was,
                                  "revision_before": takeover.revision, "retired_revisions": retired,
                                  "outcome": summary(fates), "leftovers_deleted": deleted, "unmarked": unmarked,
                                  "report": lines}
        if kept:
            result["warnings"] = [f"hub {hub}: kept after taking over release {release.name!r}, owned by no release now "
                                  f"(delete them by hand when nothing needs them): {', '.join(kept)}"]
        if self._task.diff:
            result["diff"] = {"prepared": "\n".join(lines) + "\n"}
        return result

    def _owned(self, kube: Kube, releases: dict[str, Release], name: str, state: ReleaseState) -> dict[str, list[ManifestObject]]:
        """Each of the hub's releases' objects now (its deployed revision's manifest)."""
        owned = {name: manifest_objects(str(release_record(state.deployed).get("manifest") or ""),
                                        releases[TAKEOVER_CHART].namespace)}
        for key, release in releases.items():
            if key == TAKEOVER_CHART:
                continue
            _, other = _read(kube, release.namespace, release.name)
            if other.deployed:
                owned[release.name] = manifest_objects(str(release_record(other.deployed).get("manifest") or ""),
                                                       release.namespace)
        return owned
