"""Companion releases (hub_companion_releases) in the hub model, their values and the inputs of a
rollout: every rule has a failing case whose message names the hub, the variable path and (where
one is at fault) the file; valid entries are normalized; the rollout state, the version map and
helm's command know them. The deploy on the embedded cluster: tests/test_companions_deploy.py.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_helm import ReleaseRef, upgrade_command
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.companions import (
    companion_chart_directories,
    companion_values_file_paths,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, render_companions
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_state import record_body, releases_elsewhere
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_status import Deployed, pinned_companions, status_rows
from companion_support import APP_VERSION, CHART, VERSION, write_chart
from fleet_support import AgeKey, make_age_key, sops_encrypt_to
from test_hub_model import HUB, assert_error, valid_variables


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """An inventory directory with the test chart in charts/home-nfs and a values file."""
    write_chart(tmp_path / "charts" / CHART)
    (tmp_path / "values").mkdir()
    (tmp_path / "values" / "nfs.values.yaml").write_text(yaml.safe_dump({"quota": {"enabled": True}}))
    return tmp_path


def with_companions(*entries: Any) -> dict[str, Any]:  # noqa: ANN401 - any entry, valid or not
    variables = copy.deepcopy(valid_variables())
    variables["hub_companion_releases"] = list(entries)
    return variables


def nfs(**overrides: Any) -> dict[str, Any]:  # noqa: ANN401 - any value, valid or not
    entry: dict[str, Any] = {"chart": f"charts/{CHART}", "order": "before", "values_files": ["values/nfs.values.yaml"]}
    entry.update(overrides)
    return entry


def errors_of(variables: dict[str, Any], base_dir: Path) -> list[str]:
    with pytest.raises(HubModelError) as raised:
        build_model(variables, base_dir=str(base_dir))
    assert raised.value.hub == variables["hub_name"]
    return raised.value.errors


def test_a_chart_directory_entry_is_normalized(inventory: Path) -> None:
    model = build_model(with_companions(nfs(), {"chart": str(inventory / "charts" / CHART), "name": "exporter",
                                                "namespace": "metrics", "wait": False, "timeout": "90s"}),
                        base_dir=str(inventory))
    first, second = model.companions
    assert first.release.name == f"{HUB}-{CHART}" and first.release.chart == CHART
    assert first.release.chart_ref == str(inventory / "charts" / CHART) and first.release.chart_version == ""
    assert first.release.namespace == model.hub.namespace and first.order == "before"
    assert (first.wait, first.timeout, first.values) == (True, "", {})
    assert [(Path(f.path).name, f.content, f.encrypted) for f in first.values_files] == [
        ("nfs.values.yaml", {"quota": {"enabled": True}}, False)]
    assert (second.release.name, second.release.namespace, second.order, second.wait, second.timeout) == (
        "exporter", "metrics", "after", False, "90s")
    assert second.variable == "hub_companion_releases[1]"


def test_repository_and_oci_entries_pin_their_version(inventory: Path) -> None:
    model = build_model(with_companions(
        {"chart": "prometheus-node-exporter", "repo": "https://prometheus-community.github.io/helm-charts",
         "version": "4.47.0", "values": {"hostNetwork": False}},
        {"chart": "oci://ghcr.io/example/charts/jupyterhub-home-nfs", "version": "1.2.0", "order": "before"}),
        base_dir=str(inventory))
    repo, oci = (c.release for c in model.companions)
    assert (repo.name, repo.chart, repo.chart_ref, repo.chart_version, repo.chart_repo_url) == (
        f"{HUB}-prometheus-node-exporter", "prometheus-node-exporter", "prometheus-node-exporter", "4.47.0",
        "https://prometheus-community.github.io/helm-charts")
    assert (oci.name, oci.chart, oci.chart_ref, oci.chart_version, oci.chart_repo_url) == (
        f"{HUB}-jupyterhub-home-nfs", "jupyterhub-home-nfs", "oci://ghcr.io/example/charts/jupyterhub-home-nfs",
        "1.2.0", "")
    assert model.companions[0].values == {"hostNetwork": False}


def test_no_companions_by_default(inventory: Path) -> None:
    assert build_model(valid_variables(), base_dir=str(inventory)).companions == []


def _two_named(name: str) -> list[dict[str, Any]]:
    return [nfs(), nfs(name=name)]


# (id, entries of hub_companion_releases, the variable path, fragments of its message)
RULES: list[tuple[str, Callable[[], object], str, tuple[str, ...]]] = [
    ("not a list", lambda: {"chart": "x"}, "hub_companion_releases", ("is a mapping", "a list")),
    ("entry not a mapping", lambda: ["charts/home-nfs"], "hub_companion_releases[0]", ("is a string", "a mapping")),
    ("unknown key", lambda: [nfs(value_files=["x.yaml"])], "hub_companion_releases[0].value_files",
     ("unknown key", "did you mean 'values_files'")),
    ("no chart", lambda: [{"version": "1.0.0"}], "hub_companion_releases[0].chart",
     ("is missing", "a chart directory", "oci://")),
    ("chart directory missing", lambda: [nfs(chart="charts/nfs-server")], "hub_companion_releases[0].chart",
     ("charts/nfs-server is not a chart directory, and no repo is given",)),
    ("chart directory without Chart.yaml", lambda: [nfs(chart="values")], "hub_companion_releases[0].chart",
     ("has no readable Chart.yaml",)),
    ("chart directory at another version", lambda: [nfs(version="0.4.0")], "hub_companion_releases[0].version",
     ("is 0.4.0", "Chart.yaml is version '0.3.0'")),
    ("repository chart unpinned", lambda: [{"chart": "nfs", "repo": "https://charts.example.org/"}],
     "hub_companion_releases[0].version", ("is missing for the repository chart nfs", "pinned")),
    ("oci chart unpinned", lambda: [{"chart": "oci://ghcr.io/example/nfs"}], "hub_companion_releases[0].version",
     ("is missing for the oci:// chart",)),
    ("oci chart with a tag", lambda: [{"chart": "oci://ghcr.io/example/nfs:1.0.0", "version": "1.0.0"}],
     "hub_companion_releases[0].chart", ("carries a tag or digest",)),
    ("oci chart with a repo", lambda: [{"chart": "oci://ghcr.io/example/nfs", "version": "1", "repo": "https://x/"}],
     "hub_companion_releases[0].repo", ("beside the oci:// chart",)),
    ("repo not a URL", lambda: [{"chart": "nfs", "repo": "charts.example.org", "version": "1.0.0"}],
     "hub_companion_releases[0].repo", ("is not a chart repository URL",)),
    ("repository alias", lambda: [{"chart": "bitnami/nfs", "repo": "https://charts.example.org/", "version": "1"}],
     "hub_companion_releases[0].chart", ("is not a chart name",)),
    ("name not a DNS label", lambda: [nfs(name="Home_NFS")], "hub_companion_releases[0].name", ("DNS label",)),
    ("name too long", lambda: [nfs(name="n" * 54)], "hub_companion_releases[0].name",
     ("is longer than 53 characters", "a shorter helm release name")),
    ("namespace not a DNS label", lambda: [nfs(namespace="Home NFS")], "hub_companion_releases[0].namespace",
     ("DNS label",)),
    ("order unknown", lambda: [nfs(order="first")], "hub_companion_releases[0].order", ("before, after",)),
    ("wait not a boolean", lambda: [nfs(wait="yes")], "hub_companion_releases[0].wait", ("true or false",)),
    ("timeout not a duration", lambda: [nfs(timeout="five minutes")], "hub_companion_releases[0].timeout",
     ("--timeout", "5m0s")),
    ("values not a mapping", lambda: [nfs(values=["quota"])], "hub_companion_releases[0].values", ("a mapping",)),
    ("values file missing", lambda: [nfs(values_files=["values/gone.yaml"])],
     "hub_companion_releases[0].values_files[0]", ("values/gone.yaml does not exist",)),
    ("values files not a list", lambda: [nfs(values_files="values/nfs.values.yaml")],
     "hub_companion_releases[0].values_files", ("is a string", "a list")),
    ("name of the hub's jupyterhub release", lambda: [nfs(name=HUB)], "hub_companion_releases[0].name",
     (f"'{HUB}' is the name of the hub's jupyterhub release (jupyterhub_release_name)",)),
    ("name of the hub's binderhub release", lambda: [nfs(name=f"{HUB}-binderhub")], "hub_companion_releases[0].name",
     ("binderhub-service release (binderhub_service_release_name)",)),
    ("two companions of one derived name", lambda: [nfs(), nfs(order="after")], "hub_companion_releases[1].name",
     (f"'{HUB}-home-nfs' (derived from the hub and the chart) is also the name of hub_companion_releases[0]",)),
    ("two companions of one given name", lambda: _two_named(f"{HUB}-home-nfs"), "hub_companion_releases[1].name",
     ("is also the name of hub_companion_releases[0]",)),
]


@pytest.mark.parametrize(("entries", "path", "fragments"), [pytest.param(e, p, f, id=i) for i, e, p, f in RULES])
def test_each_bad_entry_is_named(inventory: Path, entries: Callable[[], object], path: str,
                                 fragments: tuple[str, ...]) -> None:
    variables = copy.deepcopy(valid_variables())
    variables["hub_companion_releases"] = entries()
    assert_error(errors_of(variables, inventory), path, *fragments)


def test_derived_name_too_long_says_to_set_one(inventory: Path) -> None:
    variables = with_companions(nfs())
    variables["hub_name"] = "h" * 45
    errors = errors_of(variables, inventory)
    assert_error(errors, "hub_companion_releases[0].name", "(derived from hub_name; set hub_companion_releases[0].name",
                 hub="h" * 45)


def test_a_values_file_that_is_not_a_mapping_is_named(inventory: Path) -> None:
    (inventory / "values" / "list.yaml").write_text("- quota\n")
    errors = errors_of(with_companions(nfs(values_files=["values/list.yaml"])), inventory)
    assert_error(errors, "hub_companion_releases[0].values_files[0]", f"{inventory}/values/list.yaml holds a list")


# --- final values: the chart's schema, secrets in plain text ----------------------------


def _render(variables: dict[str, Any], inventory: Path, **kwargs: Any) -> list[Any]:  # noqa: ANN401
    return render_companions(build_model(variables, base_dir=str(inventory)), base_dir=str(inventory), **kwargs)


def test_final_values_are_the_inline_values_then_the_files_in_order(inventory: Path) -> None:
    (inventory / "values" / "size.yaml").write_text(yaml.safe_dump({"storage": {"size": "5Gi"}, "quota": {"hardLimit": "2Gi"}}))
    rendered = _render(with_companions(nfs(values={"quota": {"enabled": False, "hardLimit": "1Gi"}, "storage": {"size": "3Gi"}},
                                           values_files=["values/nfs.values.yaml", "values/size.yaml"])), inventory)
    assert rendered[0].values == {"quota": {"enabled": True, "hardLimit": "2Gi"}, "storage": {"size": "5Gi"}}


def test_schema_problems_name_the_file_and_the_key(inventory: Path) -> None:
    (inventory / "values" / "bad.yaml").write_text(yaml.safe_dump({"quota": {"enabled": "yes"}, "quotas": {}}))
    with pytest.raises(RenderError) as raised:
        _render(with_companions(nfs(values_files=["values/nfs.values.yaml", "values/bad.yaml"],
                                    values={"storage": {"size": 5}})), inventory)
    errors = raised.value.details["errors"]
    name = f"{HUB}-{CHART}"
    assert_error(errors, "hub_companion_releases[0].values_files[1] (values/bad.yaml)", f"{name}.quota.enabled: is a string",
                 "boolean, as the chart's schema says")
    assert_error(errors, "hub_companion_releases[0].values_files[1] (values/bad.yaml)",
                 f"{name}.quotas: is not a key the chart accepts", "did you mean 'quota'")
    assert_error(errors, "hub_companion_releases[0].values", f"{name}.storage.size: is a integer")


def test_only_the_companions_of_the_order_are_rendered(inventory: Path) -> None:
    exporter = nfs(name="exporter", order="after", values={"quota": {"enabled": "no"}}, values_files=[])
    variables = with_companions(nfs(), exporter)
    assert [r.companion.release.name for r in _render(variables, inventory, order="before")] == [f"{HUB}-{CHART}"]
    with pytest.raises(RenderError, match=r"exporter\.quota\.enabled: is a string"):
        _render(variables, inventory, order="after")


def test_a_secret_in_plain_text_is_refused(inventory: Path) -> None:
    (inventory / "values" / "plain.yaml").write_text(yaml.safe_dump({"exportToken": "s3cr3t-in-the-clear"}))
    with pytest.raises(RenderError) as raised:
        _render(with_companions(nfs(values_files=["values/plain.yaml"])), inventory)
    assert "s3cr3t" not in str(raised.value)
    assert_error(raised.value.details["errors"], "hub_companion_releases[0].values_files[0] (values/plain.yaml)",
                 f"{HUB}-{CHART}.exportToken: holds a secret in a file that is not sops-encrypted")


@pytest.fixture(scope="module")
def age_key(tmp_path_factory: pytest.TempPathFactory, tool_bin: Path) -> AgeKey:
    return make_age_key(tmp_path_factory.mktemp("companion-key"), tool_bin)


def test_an_encrypted_values_file_is_decrypted_in_memory_and_checked(inventory: Path, age_key: AgeKey,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    token = "companion-export-token-5f1c9e"
    sops_encrypt_to(inventory / "values" / "nfs.secret.values.yaml", {"exportToken": token, "quota": {"hardLimit": 7}},
                    age_key)
    variables = with_companions(nfs(values_files=["values/nfs.values.yaml", "values/nfs.secret.values.yaml"]))
    model = build_model(variables, base_dir=str(inventory))
    assert model.companions[0].values_files[1].encrypted and model.companions[0].values_files[1].content == {}
    assert token not in str(model.to_dict())
    # Not decrypted: the file counts as empty. Decrypted: its values, checked against the schema.
    assert _render(variables, inventory)[0].values == {"quota": {"enabled": True}}
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(age_key.key_file))
    with pytest.raises(RenderError) as raised:
        _render(variables, inventory, decrypt=True)
    assert token not in str(raised.value)
    assert_error(raised.value.details["errors"], "hub_companion_releases[0].values_files[1] (values/nfs.secret.values.yaml)",
                 f"{HUB}-{CHART}.quota.hardLimit: is a integer")
    sops_encrypt_to(inventory / "values" / "nfs.secret.values.yaml", {"exportToken": token}, age_key)
    rendered = _render(variables, inventory, decrypt=True)[0]
    assert rendered.values == {"quota": {"enabled": True}, "exportToken": token}
    assert rendered.secret_values == [{"exportToken": token}]


def test_an_undecryptable_values_file_names_the_file(inventory: Path, age_key: AgeKey, tmp_path: Path,
                                                     tool_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sops_encrypt_to(inventory / "values" / "nfs.secret.values.yaml", {"exportToken": "x" * 20}, age_key)
    other = make_age_key(tmp_path / "other", tool_bin)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(other.key_file))
    variables = with_companions(nfs(values_files=["values/nfs.secret.values.yaml"]))
    with pytest.raises(RenderError) as raised:
        _render(variables, inventory, decrypt=True)
    assert_error(raised.value.details["errors"], "hub_companion_releases[0].values_files[0]",
                 "nfs.secret.values.yaml", "a sops file the controller can decrypt")


# --- what the rollout, the version map and helm make of them --------------------------


def test_the_rollout_inputs_are_the_companions_files_and_chart_directories(inventory: Path) -> None:
    variables = with_companions(nfs(values_files=["values/nfs.values.yaml", "/abs/x.yaml"]), "not a mapping",
                                {"chart": "nfs", "repo": "https://charts.example.org/", "version": "1.0.0",
                                 "values_files": ["values/exporter.yaml"]})
    assert companion_values_file_paths(variables, str(inventory)) == {
        "hub_companion_releases[0].values_files[0]": str(inventory / "values" / "nfs.values.yaml"),
        "hub_companion_releases[0].values_files[1]": "/abs/x.yaml",
        "hub_companion_releases[2].values_files[0]": str(inventory / "values" / "exporter.yaml")}
    assert companion_chart_directories(variables, str(inventory)) == {
        "hub_companion_releases[0]": str(inventory / "charts" / CHART)}
    assert companion_chart_directories({}, str(inventory)) == {}


def test_the_state_record_names_the_companions_of_other_namespaces() -> None:
    record = record_body("sha256:x", {"research": {"revision": 3, "namespace": "research"},
                                      "research-home-nfs": {"revision": 1, "namespace": "research"},
                                      "research-exporter": {"revision": 2, "namespace": "metrics"},
                                      "old": {"revision": 1}}, "now")
    assert releases_elsewhere(record, "research") == {"metrics": ["research-exporter"]}
    assert releases_elsewhere(None, "research") == {}


def test_the_version_map_lists_companions_in_their_namespaces(inventory: Path) -> None:
    model = build_model(with_companions(nfs(), nfs(name="exporter", namespace="metrics", order="after")),
                        base_dir=str(inventory))
    pins = pinned_companions(model)
    assert [(p.release, p.chart, p.chart_version, p.app_version, p.namespace) for p in pins] == [
        (f"{HUB}-{CHART}", CHART, VERSION, APP_VERSION, HUB), ("exporter", CHART, VERSION, APP_VERSION, "metrics")]
    now = datetime.datetime.now(datetime.UTC)
    deployed = {"exporter": Deployed(CHART, VERSION, APP_VERSION, 2, "deployed", now)}
    rows = status_rows(HUB, "geo", HUB, pins, deployed, now)
    assert [(r["release"], r["namespace"], r["drift"]) for r in rows] == [
        (f"{HUB}-{CHART}", HUB, "not deployed"), ("exporter", "metrics", "")]


def test_helm_labels_a_companion_release() -> None:
    ref = ReleaseRef("research-home-nfs", "research", "/charts/home-nfs")
    command = upgrade_command(ref, "5m0s", labels={"imagebuilding-hubs/companion-of": "research"})
    assert command[command.index("--labels") + 1] == "imagebuilding-hubs/companion-of=research"
    assert "--labels" not in upgrade_command(ref, "5m0s")
