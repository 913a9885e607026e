"""The final values of each release are checked with the rules of the variables they override.

A demo hub of inventories/local (staging; research where a pull secret is needed) gets one
extra values file (or secret values file content) at a time; the rendering must be refused
with a message naming the hub, the file that set the value and the key path - and never
showing a value. The genuine charts' schemas (../shared/charts) check keys and types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hub_support import LOCAL_INVENTORY, PLACEHOLDER_TOKEN, inventory_hub, local_registry_definition

SECRET = "s3cr3t-value-never-shown"


def _rendering(tmp_path: Path, values: dict[str, Any] | None, host: str = "staging", **overrides: Any):  # noqa: ANN202, ANN401
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import render_model

    hub = inventory_hub(host, LOCAL_INVENTORY)
    variables = {**hub.variables, **overrides}
    if values is not None:
        extra = tmp_path / f"{host}.extra.values.yaml"
        extra.write_text(yaml.safe_dump(values), encoding="utf-8")
        variables["hub_values_files"] = [*variables.get("hub_values_files", []), str(extra)]
    return render_model(variables, local_registry_definition(hub), base_dir=hub.inventory_dir)


def _secrets(rendering: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:  # noqa: ANN401
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.nested_values import deep_merge
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_values import desired_secret_values

    base = {"jupyterhub": {"hub": {"services": {"binder": {"apiToken": PLACEHOLDER_TOKEN}}}}}
    definition = {**rendering.registry.__dict__, "password": SECRET}
    return deep_merge(desired_secret_values(base, registry=definition, tokens=[]), extra or {})


def problems(rendering: Any, secrets: dict[str, Any] | None = None) -> list[str]:  # noqa: ANN401
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, final_values

    try:
        final_values(rendering, secrets if secrets is not None else _secrets(rendering), "the secret values file")
    except RenderError as error:
        assert SECRET not in str(error)
        return list(error.details["errors"])
    return []


def test_demo_hubs_pass(tmp_path: Path) -> None:
    for host in ("staging", "research"):
        assert problems(_rendering(tmp_path, None, host)) == []


# (id, values file content, fragments of the one expected message, host, variable overrides)
CASES: list[tuple[str, dict[str, Any], list[str], str, dict[str, Any]]] = [
    ("binderhub-auth-disabled", {"binderhub-service": {"config": {"BinderHub": {"auth_enabled": False}}}},
     ["binderhub-service.config.BinderHub.auth_enabled", "is false", "expected true"], "staging", {}),
    ("binderhub-ui-mode", {"binderhub-service": {"config": {"BinderHub": {"enable_api_only_mode": False}}}},
     ["binderhub-service.config.BinderHub.enable_api_only_mode", "is false"], "staging", {}),
    ("binderhub-no-registry", {"binderhub-service": {"config": {"BinderHub": {"use_registry": False}}}},
     ["binderhub-service.config.BinderHub.use_registry", "is false"], "staging", {}),
    ("image-prefix-malformed", {"binderhub-service": {"config": {"BinderHub": {"image_prefix": "https://x/y/"}}}},
     ["binderhub-service.config.BinderHub.image_prefix", "must not contain a scheme"], "staging", {}),
    ("image-prefix-other-registry", {"binderhub-service": {"config": {"BinderHub": {"image_prefix": "quay.io/me/"}}}},
     ["binderhub-service.config.BinderHub.image_prefix", "pushes to quay.io, not to the hub's registry 127.0.0.1:5443"],
     "staging", {}),
    ("build-credentials-elsewhere", {"binderhub-service": {"buildPodsRegistryCredentials": {"server": "https://quay.io"}}},
     ["binderhub-service.buildPodsRegistryCredentials.server", "https://127.0.0.1:5443"], "staging", {}),
    ("quantity-words", {"binderhub-service": {"dockerApi": {"storage": {"emptyDir": {"sizeLimit": "lots"}}}}},
     ["binderhub-service.dockerApi.storage.emptyDir.sizeLimit", "not a Kubernetes quantity"], "staging", {}),
    ("quantity-in-limits", {"jupyterhub": {"hub": {"resources": {"limits": {"memory": "1 GB"}}}}},
     ["jupyterhub.hub.resources.limits.memory", "not a Kubernetes quantity"], "staging", {}),
    ("singleuser-memory", {"jupyterhub": {"singleuser": {"memory": {"limit": "two gigs"}}}},
     ["jupyterhub.singleuser.memory.limit", "not a Kubernetes quantity"], "staging", {}),
    ("node-pool-unknown", {"jupyterhub": {"singleuser": {"nodeSelector": {"hub.jupyter.org/node-purpose": "gpu"}}}},
     ["jupyterhub.singleuser.nodeSelector.hub.jupyter.org/node-purpose", "selects no node pool of cluster local",
      "user (hub.jupyter.org/node-purpose=user)"], "staging", {}),
    ("open-access", {"jupyterhub": {"hub": {"config": {"Authenticator": {"allow_all": True}}}}},
     ["jupyterhub.hub.config.Authenticator.allow_all", "opens the hub to anybody"], "staging", {}),
    ("dummy-on-real-cluster", {"jupyterhub": {"hub": {"config": {"JupyterHub": {"authenticator_class": "dummy"}}}}},
     ["jupyterhub.hub.config.JupyterHub.authenticator_class", "test authenticator"], "staging",
     {"cluster_local": False, "jupyterhub_auth": {"type": "github", "client_id": "abc", "allowed_organizations": ["org"]}}),
    ("pull-secret-off", {"jupyterhub": {"imagePullSecret": {"create": False}}},
     ["jupyterhub.imagePullSecret.create", "unable to pull"], "research", {}),
    ("dask-pull-secret-dropped", {"dask-gateway": {"gateway": {"backend": {"imagePullSecrets": []}}}},
     ["dask-gateway.gateway.backend.imagePullSecrets", "{name: image-pull-secret}"], "research", {}),
    ("schema-unknown-key", {"jupyterhub": {"hub": {"confg": {}}}},
     ["jupyterhub.hub.confg", "is not a key the chart accepts", "did you mean 'config'"], "staging", {}),
    ("schema-wrong-type", {"binderhub-service": {"replicas": "two"}},
     ["binderhub-service.replicas", "is a string", "integer"], "staging", {}),
]


@pytest.mark.parametrize(("values", "fragments", "host", "overrides"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_file_is_refused(tmp_path: Path, values: dict[str, Any], fragments: list[str], host: str,
                                overrides: dict[str, Any]) -> None:
    found = problems(_rendering(tmp_path, values, host, **overrides))
    source = f"hub_values_files[{len(inventory_hub(host).variables['hub_values_files'])}] ({tmp_path}/{host}.extra"
    matching = [m for m in found if all(f in m for f in [f"hub '{host}'", source, *fragments])]
    assert matching, f"no message names {source} and {fragments}: {found}"


def test_allowed_with_the_opt_in_and_on_the_local_cluster(tmp_path: Path) -> None:
    values = {"jupyterhub": {"hub": {"config": {"Authenticator": {"allow_all": True},
                                                "JupyterHub": {"authenticator_class": "dummy"}}}}}
    assert problems(_rendering(tmp_path, values, jupyterhub_open_access_opt_in=True)) == []


def test_secret_file_typos_named_without_values(tmp_path: Path) -> None:
    rendering = _rendering(tmp_path, None)
    secrets = _secrets(rendering, {"jupyterhbu": {"hub": {"cookieSecret": SECRET}},
                                   "binderhub-service": {"buildPodsRegistryCredentials": {"pasword": SECRET}}})
    found = problems(rendering, secrets)
    assert any("the secret values file: jupyterhbu" in m and "did you mean 'jupyterhub'" in m for m in found), found
    assert any("the secret values file: binderhub-service.buildPodsRegistryCredentials.pasword" in m
               and "did you mean 'password'" in m for m in found), found


def test_the_last_layer_that_sets_a_value_is_named(tmp_path: Path) -> None:
    rendering = _rendering(tmp_path, {"binderhub-service": {"config": {"BinderHub": {"auth_enabled": True}}}})
    secrets = _secrets(rendering, {"binderhub-service": {"config": {"BinderHub": {"auth_enabled": False}}}})
    found = problems(rendering, secrets)
    assert [m for m in found if "auth_enabled" in m] == [
        "hub 'staging': the secret values file: binderhub-service.config.BinderHub.auth_enabled: is false; expected "
        "true: BinderHub checks every request with the hub (users log in there); without it anybody who reaches the "
        "service can build and run images"]


def test_plaintext_values_file_holds_no_secret(tmp_path: Path) -> None:
    values = {"jupyterhub": {"hub": {"config": {"GitHubOAuthenticator": {"client_secret": SECRET},
                                                "CryptKeeper": {"keys": [SECRET]}},
                                     "existingSecret": "hub-secret"},
                             "proxy": {"secretToken": SECRET}}}
    found = problems(_rendering(tmp_path, values))
    named = sorted(m.split(": ")[2] for m in found if "not sops-encrypted" in m)
    assert named == ["jupyterhub.hub.config.CryptKeeper.keys", "jupyterhub.hub.config.GitHubOAuthenticator.client_secret",
                     "jupyterhub.proxy.secretToken"], found


def test_secrets_belong_in_the_secret_values_file(tmp_path: Path) -> None:
    rendering = _rendering(tmp_path, None)
    assert problems(rendering, _secrets(rendering, {"jupyterhub": {"proxy": {"secretToken": SECRET}}})) == []
