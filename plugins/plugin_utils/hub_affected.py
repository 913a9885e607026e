"""Which hubs a change affects: a changed file that a hub's rollout depends on (its variable
files, values files, secret values file, registry files, chart directories, the inventory
source and fleet cluster files that define it, its sops configuration) affects that hub;
a change of the toolkit's own code (``hub_state.CODE_DIRS``, documentation aside) affects every
hub, as it changes every hub's digest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_state import CODE_DIRS, SKIPPED_SUFFIXES
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_waves import STAGES


def _under(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def toolkit_change(path: Path, root: Path) -> bool:
    """Whether ``path`` is toolkit code whose change rolls every hub out."""
    return path.suffix not in SKIPPED_SUFFIXES and any(_under(path, root / d) for d in CODE_DIRS)


def affected_hubs(inputs: Mapping[str, Mapping[str, Iterable[str]]], changed: Iterable[str], root: str) -> dict[str, list[str]]:
    """Hub -> the changed paths that affect it, for every affected hub. ``inputs`` is hub ->
    ``{files, directories}`` (``hub_rollout_state`` with ``state: inputs``); ``changed`` are paths
    relative to ``root`` (as ``git diff --name-only`` gives them) or absolute."""
    base = Path(root).resolve()
    paths = [(text, (base / PurePath(text)).resolve()) for text in (str(c).strip() for c in changed) if text]
    everything = [text for text, path in paths if toolkit_change(path, base)]
    found: dict[str, list[str]] = {}
    for hub, files in inputs.items():
        exact = {Path(f) for f in files.get("files", [])}
        directories = [Path(d) for d in files.get("directories", [])]
        mine = [text for text, path in paths if path in exact or any(_under(path, d) for d in directories)]
        if mine or everything:
            found[hub] = sorted(set(mine + everything))
    return dict(sorted(found.items()))


def affected_report(affected: Mapping[str, Iterable[str]], hubs: Mapping[str, tuple[str, str]],
                    changed: Iterable[str]) -> dict[str, object]:
    """The affected hubs for CI: ``hubs`` (host -> its cluster and stage, as the rollout waves read
    them: a stage other than staging is production) with the paths that affect each, and
    ``clusters``, each cluster's affected staging and production hubs, to run one job per cluster."""
    rows: dict[str, dict[str, object]] = {}
    clusters: dict[str, dict[str, list[str]]] = {}
    for host, paths in sorted(affected.items()):
        cluster, stage = hubs[host]
        stage = stage if stage in STAGES else "production"
        rows[host] = {"cluster": cluster, "stage": stage, "paths": list(paths)}
        clusters.setdefault(cluster, {s: [] for s in STAGES})[stage].append(host)
    return {"changed": sorted({str(c).strip() for c in changed if str(c).strip()}), "hubs": rows,
            "clusters": [{"cluster": cluster, **stages} for cluster, stages in sorted(clusters.items())]}
