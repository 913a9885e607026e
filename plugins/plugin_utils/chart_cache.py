"""Upstream charts resolved before a rollout changes anything: the pinned version must exist.

A release from a chart repository (``--repo``) or an OCI registry (``oci://``) is pulled once
per controller into ``<cache>/charts/<digest of the reference>/<chart>-<version>/`` (``helm
pull --untar``, into a scratch directory renamed into place, so parallel hubs never see half a
chart). The pull proves that the repository answers and has that version; the unpacked chart
gives the preflight its ``values.schema.json``. A chart directory (``hub_charts_source:
directory`` or a path ``chart_ref``) is checked by the hub model and needs nothing here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release

CACHE_ENV = "IBH_CACHE"


def cache_root() -> Path:
    """``$IBH_CACHE`` (the Makefile's tool cache), else ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "imagebuilding-hubs"


def is_upstream(release: Release) -> bool:
    """True for a chart that helm fetches (a repository's chart name, or an oci:// reference)."""
    return bool(release.chart_version) and (bool(release.chart_repo_url) or release.chart_ref.startswith("oci://"))


def cached_chart_dir(release: Release, root: Path | None = None) -> Path | None:
    """Where the resolved upstream chart is unpacked (None for a chart directory)."""
    if not is_upstream(release):
        return None
    key = hashlib.sha256(f"{release.chart_repo_url}\0{release.chart_ref}".encode()).hexdigest()[:16]
    return (root or cache_root()) / "charts" / key / f"{release.chart}-{release.chart_version}"


class ChartResolveError(Exception):
    """The pinned chart version cannot be fetched; says from where and why (helm's words)."""


def pull_command(release: Release, destination: str, helm: str = "helm") -> list[str]:
    command = [helm, "pull", release.chart_ref, "--version", release.chart_version, "--untar", "--untardir", destination]
    if release.chart_repo_url:
        command += ["--repo", release.chart_repo_url]
    return command


def resolve_chart(release: Release, *, helm: str = "helm", root: Path | None = None,
                  env: dict[str, str] | None = None, timeout: float = 120) -> Path | None:
    """The unpacked upstream chart (pulled when not cached yet), None for a chart directory.

    Raises ChartResolveError when helm cannot pull that version."""
    target = cached_chart_dir(release, root)
    if target is None or (target / "Chart.yaml").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pull-") as scratch:
        try:
            done = subprocess.run(pull_command(release, scratch, helm), capture_output=True, text=True, env=env,
                                  timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ChartResolveError(f"helm pull did not run: {error}") from None
        if done.returncode != 0:
            words = " ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
            raise ChartResolveError(words.removeprefix("Error: ") or f"helm pull exited {done.returncode}")
        unpacked = [entry for entry in Path(scratch).iterdir() if (entry / "Chart.yaml").is_file()]
        if len(unpacked) != 1:
            raise ChartResolveError("helm pull gave no chart")
        try:
            unpacked[0].rename(target)
        except OSError:  # another hub of this run put it in place first
            if not (target / "Chart.yaml").is_file():
                raise
            shutil.rmtree(unpacked[0], ignore_errors=True)
    return target
