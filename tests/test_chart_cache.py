"""Upstream charts are resolved before a rollout changes anything (plugin_utils/chart_cache.py).

A real chart repository on loopback: the genuine dask-gateway chart (../shared/charts)
packaged by helm into a temporary directory with helm's index, served over HTTP. helm pulls
the pinned version into the chart cache once; a version the repository does not have fails
with helm's reason.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support import SHARED_CHARTS, project_env

CHART = "dask-gateway"


@pytest.fixture(scope="module")
def chart_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(repository URL, the chart's version) of a chart repository serving the genuine chart."""
    if not (SHARED_CHARTS / CHART / "Chart.yaml").is_file():
        pytest.skip(f"the genuine charts are not at {SHARED_CHARTS}")
    served = tmp_path_factory.mktemp("repo")
    env = project_env()
    subprocess.run(["helm", "package", str(SHARED_CHARTS / CHART), "--destination", str(served)], env=env,
                   check=True, capture_output=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    subprocess.run(["helm", "repo", "index", str(served), "--url", url], env=env, check=True, capture_output=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    version = str(yaml.safe_load((SHARED_CHARTS / CHART / "Chart.yaml").read_text(encoding="utf-8"))["version"])
    yield url, version
    server.shutdown()


def _release(url: str, version: str):  # noqa: ANN202 - the plugin's Release
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release

    return Release(name="h-dask-gateway", chart=CHART, chart_ref=CHART, chart_version=version, chart_repo_url=url,
                   namespace="h")


def test_pinned_version_is_pulled_once(chart_repo: tuple[str, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import resolve_chart
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import chart_schema

    monkeypatch.setenv("IBH_CACHE", str(tmp_path))
    url, version = chart_repo
    release = _release(url, version)
    assert chart_schema(release) is None  # not resolved yet: helm checks the schema
    found = resolve_chart(release, env=project_env())
    assert found is not None
    assert found.is_relative_to(tmp_path / "charts")
    assert yaml.safe_load((found / "Chart.yaml").read_text(encoding="utf-8"))["version"] == version
    # The release rules get the pulled chart's schema.
    assert "gateway" in (chart_schema(release) or {}).get("properties", {})
    # A second hub of the run finds it in the cache: no helm at all (a helm that cannot run proves it).
    assert resolve_chart(release, helm="/nonexistent/helm") == found
    assert [p.name for p in found.parent.iterdir()] == [found.name]  # no scratch directory left behind


def test_missing_version_names_it(chart_repo: tuple[str, str], tmp_path: Path) -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import ChartResolveError, resolve_chart

    url, _ = chart_repo
    with pytest.raises(ChartResolveError, match=r"0\.0\.1-missing"):
        resolve_chart(_release(url, "0.0.1-missing"), root=tmp_path, env=project_env())
    assert not list((tmp_path / "charts").rglob("Chart.yaml"))


def test_chart_directories_need_no_pull(tmp_path: Path) -> None:
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.chart_cache import resolve_chart
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Release

    directory = Release(name="h", chart="jupyterhub", chart_ref=str(SHARED_CHARTS / "jupyterhub"), chart_version="",
                        chart_repo_url="", namespace="h")
    assert resolve_chart(directory, helm="/nonexistent/helm", root=tmp_path) is None
