"""The fleet's version map: what each hub runs (from helm's release records on its cluster)
next to what its inventory pins, and where the two differ.

One row per release: the inventory's releases of the hub (its companion releases too, in
their namespaces), and any other release helm keeps in the hub's namespace (an incumbent's
umbrella release, a release left by a renamed hub).
``drift`` says why a row differs from the inventory; empty when it does not.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.helm_records import release_record, release_states
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import HubModel, Release
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.releases import RELEASE_PREFIXES, chart_metadata
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.kube_api import Kube, path

RFC3339 = re.compile(r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?P<fraction>\.\d+)?(?P<offset>Z|[+-]\d\d:\d\d)?$")
COLUMNS = ("hub", "cluster", "release", "pinned", "deployed", "app version", "revision", "age", "drift")


@dataclass(frozen=True)
class Pinned:
    """What the inventory pins for one release."""

    release: str
    chart: str
    chart_version: str
    app_version: str  # "" when the chart is not on this machine
    namespace: str = ""  # a companion release's namespace ("" for the hub's)


def pinned(release: Release, version_variable: str, namespace: str = "") -> Pinned:
    """The chart version a release is pinned to: its ``*_chart_version`` (a chart directory's
    own Chart.yaml when the release deploys from a path), and the app version of that chart
    when it is on this machine."""
    metadata = chart_metadata(Path(release.chart_ref)) if Path(release.chart_ref).is_dir() else {}
    version = str(metadata.get("version") or release.chart_version or version_variable)
    return Pinned(release.name, release.chart, version, str(metadata.get("appVersion") or ""), namespace)


def pinned_releases(model: HubModel, versions: Mapping[str, str]) -> list[Pinned]:
    """Each release of the hub's model, with ``versions`` (release key -> the pinned
    ``*_chart_version``) for releases whose model carries none (chart directories)."""
    return [pinned(release, versions.get(key, "")) for key, release in model.releases.items()]


def pinned_companions(model: HubModel) -> list[Pinned]:
    """Each companion release of the hub's model (``hub_companion_releases``), with its namespace."""
    return [pinned(c.release, "", c.release.namespace) for c in model.companions]


def deployed_at(record: Mapping[str, Any]) -> datetime.datetime | None:
    """The time helm deployed a release record (``info.last_deployed``, RFC 3339 with nanoseconds)."""
    text = str((record.get("info") or {}).get("last_deployed") or "")
    if not text:
        return None
    match = RFC3339.match(text)
    if not match:
        return None
    # Python parses at most microseconds; a time without an offset is UTC.
    fraction = (match["fraction"] or "")[:7]
    offset = "+00:00" if match["offset"] in (None, "Z") else match["offset"]
    stamp = f"{match['time']}{fraction}{offset}"
    try:
        return datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return None


@dataclass(frozen=True)
class Deployed:
    """What helm's records say about one release."""

    chart: str
    chart_version: str
    app_version: str
    revision: int
    status: str  # of the latest revision: deployed, failed, pending-upgrade, ...
    deployed_at: datetime.datetime | None
    serving: bool = True  # a revision is deployed (else the fields are the latest revision's)


def deployed_releases(latest_secrets: Iterable[Mapping[str, Any]], metadata: Iterable[dict[str, Any]]) -> dict[str, Deployed]:
    """Each release of a namespace: ``metadata`` are its helm Secrets' metadata (every revision),
    ``latest_secrets`` the full Secrets of the revisions to read (the latest deployed ones)."""
    records = {str(((s.get("metadata") or {}).get("labels") or {}).get("name", "")): release_record(s)
               for s in latest_secrets}
    found: dict[str, Deployed] = {}
    for name, state in release_states(metadata).items():
        record = records.get(name) or {}
        chart = (record.get("chart") or {}).get("metadata") or {}
        found[name] = Deployed(str(chart.get("name", "")), str(chart.get("version", "")),
                               str(chart.get("appVersion", "")), state.deployed_revision or state.latest_revision,
                               state.latest_status, deployed_at(record), state.deployed is not None)
    return found


def read_releases(kube: Kube, namespace: str) -> dict[str, Deployed]:
    """Each helm release of ``namespace``, read from the Secret of its deployed revision (of its
    latest revision when none is deployed)."""
    metadata = kube.metadata(path("v1", "secrets", namespace), labelSelector="owner=helm")
    wanted = [state.deployed["metadata"]["name"] if state.deployed else state.latest_secret
              for state in release_states(metadata).values()]
    return deployed_releases([kube.get(path("v1", "secrets", namespace, name)) for name in wanted if name], metadata)


def read_elsewhere(kube: Kube, pins: Iterable[Pinned], namespace: str) -> dict[str, Deployed]:
    """The pinned releases of namespaces other than the hub's ``namespace`` (companion releases of
    their own namespaces): only those, never the other releases there."""
    wanted: dict[str, set[str]] = {}
    for pin in pins:
        if pin.namespace and pin.namespace != namespace:
            wanted.setdefault(pin.namespace, set()).add(pin.release)
    return {name: found for where, names in sorted(wanted.items())
            for name, found in read_releases(kube, where).items() if name in names}


def pinned_versions(variables: Mapping[str, Any]) -> dict[str, str]:
    """Release key -> the hub's ``*_chart_version`` (for releases deployed from chart directories)."""
    return {key: str(variables.get(f"{prefix}_chart_version") or "") for key, prefix in RELEASE_PREFIXES.items()}


def drift(pin: Pinned | None, deployed: Deployed | None) -> str:
    """Why a release differs from the inventory ("" when it does not)."""
    if pin is None:
        return "not in the inventory"
    if deployed is None:
        return "not deployed"
    if deployed.status != "deployed":
        return f"latest revision {deployed.status}"
    if deployed.chart != pin.chart:
        return f"chart {deployed.chart}, pinned {pin.chart}"
    if deployed.chart_version != pin.chart_version:
        return f"chart version {deployed.chart_version}, pinned {pin.chart_version}"
    return ""


def status_rows(hub: str, cluster: str, namespace: str, pins: list[Pinned], deployed: Mapping[str, Deployed],
                now: datetime.datetime) -> list[dict[str, Any]]:
    """The version map's rows of one hub: its pinned releases first, then the others of its namespace."""
    by_name = {pin.release: pin for pin in pins}
    names = [pin.release for pin in pins] + sorted(set(deployed) - set(by_name))
    rows = []
    for name in names:
        pin, found = by_name.get(name), deployed.get(name)
        at = found.deployed_at if found else None
        rows.append({
            "hub": hub, "cluster": cluster, "namespace": (pin.namespace if pin else "") or namespace, "release": name,
            "chart": (pin.chart if pin else found.chart if found else ""),
            "pinned_chart_version": pin.chart_version if pin else "",
            "pinned_app_version": pin.app_version if pin else "",
            "chart_version": found.chart_version if found else "",
            "app_version": found.app_version if found else "",
            "revision": found.revision if found else 0,
            "status": found.status if found else "",
            "deployed_at": at.isoformat() if at else "",
            "age_seconds": round((now - at).total_seconds()) if at else None,
            "drift": drift(pin, found),
        })
    return rows


def age(seconds: float | None) -> str:
    """``seconds`` as the largest whole unit: 45s, 12m, 5h, 3d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def status_table(rows: list[dict[str, Any]]) -> str:
    """The version map as an aligned text table, drifting rows marked."""
    cells = [COLUMNS] + [(r["hub"], r["cluster"], r["release"], r["pinned_chart_version"] or "-",
                          r["chart_version"] or "-", r["app_version"] or "-", str(r["revision"] or "-"),
                          age(r["age_seconds"]), r["drift"] or "-") for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells)


def fleet_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for the report: hubs, releases, drifting releases, and each chart's versions in use."""
    versions: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["chart_version"]:
            counts = versions.setdefault(row["chart"] or row["release"], {})
            counts[row["chart_version"]] = counts.get(row["chart_version"], 0) + 1
    return {"hubs": len({r["hub"] for r in rows}), "releases": len(rows),
            "drifting": sum(1 for r in rows if r["drift"]), "chart_versions": versions}
