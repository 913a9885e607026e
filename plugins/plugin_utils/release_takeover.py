"""Taking a hub over from the incumbent's release (README: Taking over from the incumbent's release).

The incumbent deploys a hub as one helm release, named after the hub, of an umbrella chart: z2jh
is its subchart ``jupyterhub``, beside binderhub-service, dask-gateway and companion charts. The
toolkit's jupyterhub release has the same name, and z2jh names its objects the same way in both
(``hub``, ``proxy``, ``hub-db-dir``, cluster-scoped ones after the release). So the takeover
upgrades that release in place to the jupyterhub chart (``hub_release`` with ``take_over``):
helm patches every object both manifests have - the same objects, the hub database's claim and
the hub Secret with the keys z2jh generated among them - by a three-way merge against the
umbrella's manifest (so nothing only the umbrella set is left on them), and deletes what only
the umbrella's manifest has, unless the live object is marked ``helm.sh/resource-policy: keep``.
If the upgrade fails, ``hub_release`` rolls the release back to the umbrella's revision.

Before the upgrade (``plan``, the action's ``prepared`` state) each object of the umbrella's
manifest gets its fate, from the new manifest (a server-side dry run of the same upgrade):

- adopted: in the new manifest, the same object from now on;
- recreated: rendered by a subchart the hub deploys as a release of its own (binderhub-service
  as ``<hub>-binderhub``, dask-gateway as ``<hub>-dask-gateway``): deleted by the upgrade and
  created by that release, because the selectors of its workloads name the release and cannot
  change;
- deleted: what only the umbrella renders (its own templates, subcharts the hub does not deploy);
- kept: claims, volumes, namespaces and CRDs are never deleted, nor what the chart marks
  ``keep``; the takeover marks them ``keep`` (and ``MARK_ANNOTATION``) first, and a claim of a
  subchart the hub deploys as another release also gets that release's name, so that its
  install adopts it.

A claim of the jupyterhub subchart that the new manifest lacks (the hub database, when
``hub.db`` or ``fullnameOverride`` differ) refuses the takeover: the hub would start on a new,
empty database.

After the hub's releases are deployed and healthy (``finish``, state ``finished``): what the
upgrade should have deleted but left (helm ignores a failed delete) is deleted, the mark comes
off claims a release now owns, and the umbrella's revision records - helm's release Secrets of
the other chart - are deleted, so the release's history starts at the takeover (as after
helm's own ``--history-max`` pruning). Users' home directories (KubeSpawner's claims) are in no
manifest: nothing here reads or changes them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

TAKEOVER_CHART = "jupyterhub"  # the chart whose release may take over a release of another chart of its name
OPT_IN = "hub_takeover_release"
KEEP_ANNOTATION = "helm.sh/resource-policy"
KEEP = "keep"
RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
MARK_ANNOTATION = "imagebuilding-hubs/taken-over-from"  # set with keep by the takeover: the release taken over
NEVER_DELETED = frozenset({"PersistentVolumeClaim", "PersistentVolume", "Namespace", "CustomResourceDefinition"})
ADOPTED, RECREATED, DELETED, KEPT = "adopted", "recreated", "deleted", "kept"
FATES = (ADOPTED, RECREATED, DELETED, KEPT)
README = "README: Taking over from the incumbent's release"

_DOCUMENT = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (\S+)", re.MULTILINE)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ManifestObject:
    """One object of a release's manifest."""

    api_version: str
    kind: str
    name: str
    namespace: str  # metadata.namespace, else the release's (also for cluster-scoped kinds: keys only)
    source: str = ""  # helm's "# Source:" template path, e.g. basehub/charts/jupyterhub/templates/hub/pvc.yaml
    keep: bool = False  # the manifest marks it helm.sh/resource-policy: keep

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What names the object whatever its apiVersion's version (policy/v1beta1 and v1 alike)."""
        return (self.group, self.kind, self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def chart(self, charts: Collection[str]) -> str:
        """The innermost chart of ``charts`` whose templates rendered the object, '' for none:
        ``daskhub/charts/basehub/charts/jupyterhub/templates/...`` is jupyterhub's."""
        parts = self.source.split("/")
        names = parts[:1]
        index = 1
        while index + 1 < len(parts) and parts[index] == "charts":
            names.append(parts[index + 1])
            index += 2
        found = [name for name in names if name in charts]
        return found[-1] if found else ""


def _items(document: object) -> Iterable[Mapping[str, Any]]:
    if not isinstance(document, Mapping) or not document.get("kind"):
        return []
    if str(document["kind"]).endswith("List") and isinstance(document.get("items"), list):
        return [item for item in document["items"] if isinstance(item, Mapping) and item.get("kind")]
    return [document]


def manifest_objects(manifest: str, namespace: str) -> list[ManifestObject]:
    """The objects of a release's manifest (helm's documents, each after its Source comment)."""
    found = []
    for chunk in _DOCUMENT.split(manifest or ""):
        if not chunk.strip():
            continue
        source = _SOURCE.search(chunk)
        try:
            document = yaml.load(chunk, Loader=_LOADER)  # noqa: S506 - the C or pure-Python *safe* loader
        except yaml.YAMLError:
            continue  # helm could not have applied it either
        for item in _items(document):
            metadata = item.get("metadata") or {}
            annotations = metadata.get("annotations") or {}
            found.append(ManifestObject(str(item.get("apiVersion", "")), str(item["kind"]), str(metadata.get("name", "")),
                                        str(metadata.get("namespace") or namespace),
                                        source[1] if source else "", annotations.get(KEEP_ANNOTATION) == KEEP))
    return found


@dataclass(frozen=True)
class Takeover:
    """The release being taken over and the hub's releases that take its objects."""

    hub: str
    release: str  # its name, which the jupyterhub release keeps
    namespace: str
    chart: str  # the chart it was (e.g. basehub) and its version
    chart_version: str
    revision: int  # its last deployed revision of that chart
    releases: Mapping[str, str]  # chart -> the hub's release of it (jupyterhub -> ``release``)

    @property
    def was(self) -> str:
        return f"{self.chart} {self.chart_version}".strip()


@dataclass(frozen=True)
class Fate:
    """What becomes (or became) of one object of the taken-over release's manifest."""

    obj: ManifestObject
    fate: str  # ADOPTED, RECREATED, DELETED or KEPT
    release: str = ""  # the release that owns it afterwards ('' none)
    why: str = ""

    def line(self) -> str:
        owner = f" by {self.release}" if self.release and self.fate in (ADOPTED, RECREATED) else ""
        handed = f", for {self.release} to adopt" if self.release and self.fate == KEPT else ""
        why = f" ({self.why})" if self.why else ""
        return f"{self.fate}{owner}: {self.obj.label}{handed}{why}"


def _kept_why(obj: ManifestObject) -> str:
    return "the chart marks it keep" if obj.keep else f"a {obj.kind} is never deleted"


def plan(takeover: Takeover, old: Iterable[ManifestObject], new: Iterable[ManifestObject]) -> list[Fate]:
    """The fate of each object of the old manifest when the release is upgraded to ``new``."""
    new_keys = {obj.key for obj in new}
    fates = []
    for obj in old:
        owner = takeover.releases.get(obj.chart(takeover.releases), "")
        other = owner if owner != takeover.release else ""
        if obj.key in new_keys:
            fates.append(Fate(obj, ADOPTED, takeover.release))
        elif obj.kind in NEVER_DELETED or obj.keep:
            fates.append(Fate(obj, KEPT, other if obj.kind == "PersistentVolumeClaim" else "", _kept_why(obj)))
        elif other:
            fates.append(Fate(obj, RECREATED, other))
        else:
            fates.append(Fate(obj, DELETED, "", f"only {takeover.chart} renders it"))
    return fates


def problems(takeover: Takeover, fates: Iterable[Fate]) -> list[str]:
    """Why the takeover must not go ahead: a claim of the jupyterhub subchart (the hub database)
    that the new release would not have."""
    lost = [f.obj.label for f in fates if f.fate == KEPT and f.obj.kind == "PersistentVolumeClaim"
            and f.obj.chart(takeover.releases) == TAKEOVER_CHART]
    if not lost:
        return []
    return [f"hub {takeover.hub}: release {takeover.release!r} ({takeover.was}) has {', '.join(lost)} from its "
            f"{TAKEOVER_CHART} subchart, which the {TAKEOVER_CHART} release would not have (hub.db.type, hub.db.pvc or "
            f"fullnameOverride differ from the {takeover.chart} values): the hub would start on a new, empty "
            "database. Nothing was changed: give the hub the values of these keys that the release has (helm get "
            f"values {takeover.release} -n {takeover.namespace}) in its hub_values_files and run again ({README})"]


def keep_patch(takeover: Takeover, fate: Fate) -> dict[str, Any] | None:
    """The merge patch that keeps a live object through the upgrade (None: nothing to mark)."""
    if fate.fate != KEPT or fate.obj.keep:
        return None
    annotations = {KEEP_ANNOTATION: KEEP, MARK_ANNOTATION: takeover.release}
    if fate.release:  # a claim for another of the hub's releases to adopt
        annotations[RELEASE_NAME_ANNOTATION] = fate.release
    return {"metadata": {"annotations": annotations}}


UNMARK_PATCH = {"metadata": {"annotations": {KEEP_ANNOTATION: None, MARK_ANNOTATION: None}}}


def marked(live: Mapping[str, Any] | None, release: str) -> bool:
    """Whether the takeover of ``release`` marked the live object keep."""
    annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
    return annotations.get(MARK_ANNOTATION) == release


def leftover(obj: ManifestObject, live: Mapping[str, Any] | None, release: str) -> bool:
    """Whether a live object of the old manifest that no release owns now is one the upgrade
    should have deleted: still the old release's, deletable, not marked keep."""
    if live is None or obj.kind in NEVER_DELETED or obj.keep:
        return False
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return annotations.get(KEEP_ANNOTATION) != KEEP and annotations.get(RELEASE_NAME_ANNOTATION) == release


def outcome(takeover: Takeover, old: Iterable[ManifestObject], owned: Mapping[str, Iterable[ManifestObject]],
            live: Mapping[tuple[str, str, str, str], bool]) -> list[Fate]:
    """What became of each object of the old manifest: ``owned`` are the hub's releases' objects
    now (release -> objects), ``live`` whether each object no release owns still exists."""
    owners = {obj.key: release for release, objects in owned.items() for obj in objects}
    fates = []
    for obj in old:
        owner = owners.get(obj.key, "")
        if owner == takeover.release or (owner and obj.kind in NEVER_DELETED):
            fates.append(Fate(obj, ADOPTED, owner))
        elif owner:
            fates.append(Fate(obj, RECREATED, owner))
        elif live.get(obj.key):
            fates.append(Fate(obj, KEPT, "", _kept_why(obj) + "; no release owns it now"))
        else:
            fates.append(Fate(obj, DELETED, "", f"only {takeover.chart} rendered it"))
    return fates


def summary(fates: Iterable[Fate]) -> dict[str, list[str]]:
    """Object labels by fate (each fate present, possibly empty)."""
    found: dict[str, list[str]] = {fate: [] for fate in FATES}
    for fate in fates:
        found[fate.fate].append(fate.obj.label + (f" ({fate.release})" if fate.release else ""))
    return found


def report(takeover: Takeover, fates: Iterable[Fate], heading: str) -> list[str]:
    """The report's lines: a heading, then each object's fate (adopted first, kept last)."""
    order = {fate: index for index, fate in enumerate(FATES)}
    lines = sorted((f for f in fates), key=lambda f: (order[f.fate], f.obj.kind, f.obj.name))
    return [heading, *(f"  {fate.line()}" for fate in lines)]


def refusal(hub: str, host: str, inventory: str, takeover: Takeover) -> str:
    """The validate play's message for a hub that does not opt in to taking over its release."""
    return (f"hub {hub}: release {takeover.release!r} in namespace {takeover.namespace} is chart {takeover.was}, not "
            f"{TAKEOVER_CHART}: the incumbent's release under the name of the hub's {TAKEOVER_CHART} release "
            f"(jupyterhub_release_name). Nothing was changed. To take the hub over from it - one hub restart; the hub "
            f"database (its claim), users' home directories and every other claim kept; what only {takeover.chart} "
            f"renders deleted; binderhub-service and dask-gateway recreated as releases of their own - look first: "
            f"ansible-playbook -i {inventory} playbooks/hub.yml -l {host} -e {OPT_IN}=true --check --diff, then run "
            f"it without --check (or set {OPT_IN}: true in the hub's host_vars). {README}. Or give the toolkit's "
            "release another name (jupyterhub_release_name), or uninstall the release if nothing of it must stay")


def foreign(hub: str, name: str, namespace: str, found: str, chart: str, variable: str) -> str:
    """The validate play's message for a release of another chart under the name of a hub's
    release that is not the jupyterhub one (only that one can be taken over)."""
    return (f"hub {hub}: release {name!r} in namespace {namespace} is chart {found}, not {chart}. Nothing was changed: "
            f"only the {TAKEOVER_CHART} release ({TAKEOVER_CHART}_release_name) takes over a release of another chart. "
            f"Give the toolkit's release another name ({variable}), or uninstall that release (helm uninstall {name} "
            f"-n {namespace}) if nothing of it must stay")
