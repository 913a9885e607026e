"""The registry role's pure rules: image prefixes per registry type, names, definitions."""

from __future__ import annotations

import pytest
from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_rules import (
    RegistrySettings,
    build_definition,
    check_image_prefix,
    check_settings,
    default_quay_robot,
    repository_for_check,
)

GCP = RegistrySettings(type="gcp", hub="research", name="research", gcp_project="my-project-123", gcp_region="us-central1")
QUAY = RegistrySettings(type="quay", hub="research", cluster="eu", quay_org="myorg", quay_robot="eu_research")
LOCAL = RegistrySettings(type="generic", hub="research", cluster="local", host="127.0.0.1:5443", username="research")
GHCR = RegistrySettings(type="generic", hub="research", host="ghcr.io", username="bot")
DOCKER_HUB = RegistrySettings(type="generic", hub="research", host="docker.io", username="bot")

# (settings, image_prefix, expected error fragment or None for a good prefix)
PREFIXES = [
    # gcp: <region>-docker.pkg.dev/<project>/<name>-registry/
    (GCP, "us-central1-docker.pkg.dev/my-project-123/research-registry/", None),
    (GCP, "us-central1-docker.pkg.dev/my-project-123/research-registry/binder-", None),
    (
        GCP,
        "us-central1-docker.pkg.dev/my-project-123/research/",
        "must start with 'us-central1-docker.pkg.dev/my-project-123/research-registry/'",
    ),
    (GCP, "europe-west1-docker.pkg.dev/my-project-123/research-registry/", "must start with 'us-central1-docker.pkg.dev"),
    (GCP, "us-central1-docker.pkg.dev/other-project/research-registry/", "must start with"),
    (GCP, "gcr.io/my-project-123/research-registry/", "must start with"),
    (GCP, "us-central1-docker.pkg.dev/my-project-123/research-registry", "must end in '/' or '-'"),
    (GCP, "https://us-central1-docker.pkg.dev/my-project-123/research-registry/", "must not contain a scheme"),
    # quay: quay.io/<org>/... and no nested paths
    (QUAY, "quay.io/myorg/eu-research-", None),
    (QUAY, "quay.io/myorg/", None),
    (QUAY, "quay.io/otherorg/eu-research-", "must start with 'quay.io/myorg/'"),
    (QUAY, "quay.io/myorg/eu/research-", "must not nest paths"),
    (QUAY, "quay.io/myorg/eu-research", "must end in '/' or '-'"),
    (QUAY, "quay.io/MyOrg/eu-research-", "must be lowercase"),
    (QUAY, "docker.io/myorg/eu-research-", "must start with 'quay.io/myorg/'"),
    # generic self-hosted: <host>/..., host with port must match
    (LOCAL, "127.0.0.1:5443/local-research/", None),
    (LOCAL, "127.0.0.1:5443/local-research/binder-", None),
    (LOCAL, "127.0.0.1:5443/binder-", None),
    (LOCAL, "127.0.0.1:5000/local-research/", "must start with the registry host '127.0.0.1:5443/'"),
    (LOCAL, "localhost:5443/local-research/", "must start with the registry host"),
    (LOCAL, "local-research/", "must start with the registry host"),
    (LOCAL, "127.0.0.1:5443/Local-Research/", "must be lowercase"),
    (LOCAL, "127.0.0.1:5443/local research/", "whitespace"),
    (LOCAL, "127.0.0.1:5443/local--/", "invalid path component"),
    (LOCAL, "127.0.0.1:5443/-research/", "invalid path component"),
    (LOCAL, "127.0.0.1:5443//", "invalid path component"),
    (LOCAL, "127.0.0.1:5443/local_research.", "must end in '/' or '-'"),
    (LOCAL, "127.0.0.1:5443/" + "a" * 250 + "/", "too long"),
    # ghcr.io and Docker Hub need a namespace (owner or organization)
    (GHCR, "ghcr.io/myorg/binder-", None),
    (GHCR, "ghcr.io/binder-", "must name a namespace"),
    (DOCKER_HUB, "docker.io/myorg/binder-", None),
    (DOCKER_HUB, "index.docker.io/myorg/binder-", None),
    (DOCKER_HUB, "registry-1.docker.io/myorg/binder-", "must start with 'docker.io/<namespace>/'"),
    (DOCKER_HUB, "docker.io/binder-", "must name a namespace"),
    (DOCKER_HUB, "myorg/binder-", "must start with 'docker.io/<namespace>/'"),
]


@pytest.mark.parametrize(
    ("settings", "prefix", "expected"), PREFIXES, ids=[f"{s.type}:{p[:60]}" for s, p, _ in PREFIXES]
)
def test_image_prefix_rules(settings: RegistrySettings, prefix: str, expected: str | None) -> None:
    errors = check_image_prefix(settings, prefix)
    if expected is None:
        assert errors == []
    else:
        assert errors, f"{prefix!r} should be refused"
        assert expected in errors[0]
        assert "registry_image_prefix" in errors[0] or "the host part of registry_image_prefix" in errors[0]


def test_default_definitions() -> None:
    assert build_definition(GCP) == {
        "type": "gcp",
        "host": "us-central1-docker.pkg.dev",
        "url": "https://us-central1-docker.pkg.dev",
        "image_prefix": "us-central1-docker.pkg.dev/my-project-123/research-registry/",
        "username": "_json_key",
        "pull_secret_required": False,
    }
    assert build_definition(QUAY) == {
        "type": "quay",
        "host": "quay.io",
        "url": "https://quay.io",
        "image_prefix": "quay.io/myorg/eu-research-",
        "username": "myorg+eu_research",
        "pull_secret_required": True,
    }
    local = RegistrySettings(**{**LOCAL.__dict__, "namespace": "local-research", "ca_file": "/tmp/ca.crt"})
    assert build_definition(local) == {
        "type": "generic",
        "host": "127.0.0.1:5443",
        "url": "https://127.0.0.1:5443",
        "image_prefix": "127.0.0.1:5443/local-research/",
        "username": "research",
        "pull_secret_required": False,
        "ca_file": "/tmp/ca.crt",
    }
    hub = RegistrySettings(**{**DOCKER_HUB.__dict__, "image_prefix": "docker.io/myorg/binder-", "pull_secret_required": True})
    definition = build_definition(hub)
    assert definition["url"] == "https://registry-1.docker.io"
    assert definition["pull_secret_required"] is True


def test_repository_for_check() -> None:
    assert repository_for_check("127.0.0.1:5443/local-research/") == "local-research/registry-check"
    assert repository_for_check("quay.io/myorg/eu-research-") == "myorg/eu-research-registry-check"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"type": "ecr"}, "registry_type 'ecr' is invalid"),
        ({"hub": "Research"}, "hub_name 'Research' is invalid"),
        ({"gcp_project": ""}, "registry_gcp_project is required"),
        ({"gcp_region": "us central"}, "registry_gcp_region 'us central' is invalid"),
        ({"name": "Research_Hub"}, "registry_name 'Research_Hub' is invalid"),
    ],
)
def test_gcp_settings_errors(changes: dict, expected: str) -> None:
    errors = check_settings(RegistrySettings(**{**GCP.__dict__, **changes}))
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quay_robot": "eu-research"}, "registry_quay_robot 'eu-research' is invalid"),
        ({"quay_org": "My Org"}, "registry_quay_org 'My Org' is invalid"),
        ({"cluster": ""}, "cluster_name is required"),
        ({"quay_api_url": "quay.io"}, "registry_quay_api_url 'quay.io' must be scheme://host"),
    ],
)
def test_quay_settings_errors(changes: dict, expected: str) -> None:
    errors = check_settings(RegistrySettings(**{**QUAY.__dict__, **changes}))
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"host": ""}, "registry_host is required"),
        ({"host": "https://registry.example.org"}, "must not contain a scheme"),
        ({"host": "Registry.example.org"}, "must be lowercase"),
        ({"host": "registry.example.org/path"}, "must not contain a path"),
        ({"url": "https://other.example.org"}, "points at 'other.example.org' but registry_host is '127.0.0.1:5443'"),
        ({"url": "ftp://127.0.0.1:5443"}, "must start with https://"),
        ({"url": "https://127.0.0.1:5443/v2/"}, "with no path"),
        ({"cluster": "", "namespace": ""}, "registry_namespace (or registry_image_prefix) is required"),
    ],
)
def test_generic_settings_errors(changes: dict, expected: str) -> None:
    settings = RegistrySettings(**{**LOCAL.__dict__, "namespace": "local-research", **changes})
    errors = check_settings(settings)
    assert any(expected in error for error in errors), errors


def test_docker_hub_url_rules() -> None:
    base = {**DOCKER_HUB.__dict__, "image_prefix": "docker.io/myorg/binder-"}
    assert check_settings(RegistrySettings(**base)) == []
    assert check_settings(RegistrySettings(**{**base, "url": "https://registry-1.docker.io"})) == []
    errors = check_settings(RegistrySettings(**{**base, "url": "https://ghcr.io"}))
    assert errors and "does not belong to Docker Hub" in errors[0]


def test_default_quay_robot_is_a_valid_robot_name() -> None:
    assert default_quay_robot("eu-west", "research-hub") == "eu_west_research_hub"


@pytest.mark.parametrize("cluster", ["3-fjord", "2024", "eu-west"])
def test_default_registry_names_are_valid_for_any_cluster_name(cluster: str) -> None:
    """A DNS label may start with a digit; quay robot names may not (the default robot and the
    default generic namespace follow the cluster's name)."""
    from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_check import settings_from

    robot = default_quay_robot(cluster, "prod")
    assert robot[0].isalpha() and robot.endswith(cluster.replace("-", "_") + "_prod")
    base = {"hub": "prod", "cluster": cluster, "name": "", "image_prefix": "", "host": "", "url": "", "namespace": "",
            "username": "", "gcp_project": "", "gcp_region": "", "quay_org": "myorg", "quay_robot": "", "quay_host": "quay.io",
            "quay_api_url": "", "ca_file": "", "pull_secret_required": None, "htpasswd_file": ""}
    assert check_settings(settings_from({**base, "type": "quay"})) == []
    assert check_settings(settings_from({**base, "type": "generic", "host": "registry.example.org"})) == []


@pytest.mark.parametrize(("hub", "repository"), [("3dlab", "hub-3dlab"), ("2024-course", "hub-2024-course"),
                                                 ("research", "research")])
def test_default_gcp_repository_is_valid_for_any_hub_name(hub: str, repository: str) -> None:
    """An Artifact Registry repository id starts with a letter; a hub name may start with a digit."""
    from ansible_collections.imagebuilding.hubs.plugins.module_utils.registry_check import settings_from

    params = {"hub": hub, "cluster": "eu", "name": "", "image_prefix": "", "host": "", "url": "", "namespace": "",
              "username": "", "gcp_project": "my-project-123", "gcp_region": "us-central1", "quay_org": "",
              "quay_robot": "", "quay_host": "quay.io", "quay_api_url": "", "ca_file": "", "pull_secret_required": None,
              "htpasswd_file": "", "type": "gcp"}
    settings = settings_from(params)
    assert settings.name == repository
    assert check_settings(settings) == []
    assert check_settings(settings_from({**params, "name": hub})) == ([] if hub[0].isalpha() else [
        f"registry_name '{hub}' is invalid: expected a lowercase name (letters, digits, '-') for the container_repos entry"])
