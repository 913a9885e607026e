"""The login methods of real fleets: Google restricted to hosted domains, a shared password, and
the null and tmp test authenticators. For each: the hub model's rules, the exact z2jh values
(``hub.config``), the open-access check, the secret keys the hub needs, and the same rules on
the final values (a values file that switches the authenticator).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model import HubModelError, build_model
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.login_rules import authenticator_type
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.jupyterhub import authenticator_config
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.secret_keys import required_secret_keys
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_values.wiring import SMOKE_USER
from hub_support import LOCAL_INVENTORY, PLACEHOLDER_TOKEN, inventory_hub, local_registry_definition
from test_hub_model import HUB, assert_error, valid_variables

GOOGLE = {"type": "google", "client_id": "1234-abc.apps.googleusercontent.com", "allowed_hosted_domains": ["example.edu"]}
SHARED = {"type": "shared_password", "allowed_users": ["student1", "student2"]}
CONFIG = "jupyterhub.hub.config"
# Never shown in any message.
USER_PASSWORD = "user-pw-never-shown-1"
ADMIN_PASSWORD = "admin-password-never-shown-0123456789abcdef"


def hub(auth: dict[str, Any], **variables: Any) -> dict[str, Any]:  # noqa: ANN401 - any variable's value
    hub_vars = copy.deepcopy(valid_variables())
    hub_vars.update(jupyterhub_auth=copy.deepcopy(auth), **variables)
    return hub_vars


def errors(variables: dict[str, Any]) -> list[str]:
    with pytest.raises(HubModelError) as raised:
        build_model(variables)
    return raised.value.errors


def hub_config(variables: dict[str, Any]) -> dict[str, Any]:
    return authenticator_config(build_model(variables))


# --- Google ----------------------------------------------------------------------------


def test_google_hosted_domains_alone_let_in_every_account_of_the_domains_and_are_not_open() -> None:
    config = hub_config(hub(GOOGLE))
    assert config == {
        "JupyterHub": {"authenticator_class": "google"},
        "Authenticator": {"admin_users": ["ada"], "blocked_users": [SMOKE_USER], "allow_all": True},
        "GoogleOAuthenticator": {"client_id": GOOGLE["client_id"],
                                 "oauth_callback_url": "https://research.hubs.example.org/hub/oauth_callback",
                                 "hosted_domain": ["example.edu"]},
    }


def test_google_users_within_the_domains_get_no_allow_all() -> None:
    config = hub_config(hub({**GOOGLE, "allowed_hosted_domains": ["Example.EDU", "lab.example.org"],
                             "allowed_users": ["ada@example.edu"]}, jupyterhub_admin_users=["ada@example.edu"]))
    assert config["Authenticator"] == {"admin_users": ["ada@example.edu"], "blocked_users": [SMOKE_USER],
                                       "allowed_users": ["ada@example.edu"]}
    assert config["GoogleOAuthenticator"]["hosted_domain"] == ["example.edu", "lab.example.org"]


def test_google_groups_in_extra_config_are_an_allow_rule() -> None:
    groups = {"example.edu": ["hub-users@example.edu"]}
    config = hub_config(hub({**GOOGLE, "extra_config": {"allowed_google_groups": groups}}))
    assert "allow_all" not in config["Authenticator"]
    assert config["GoogleOAuthenticator"]["allowed_google_groups"] == groups


def test_google_allow_all_with_hosted_domains_needs_no_opt_in() -> None:
    model = build_model(hub({**GOOGLE, "allow_all": True}))
    assert model.jupyterhub.auth.allow_all and not model.jupyterhub.open_access_opt_in


def test_google_allow_all_without_hosted_domains_is_open() -> None:
    auth, admins = {"type": "google", "client_id": "c", "allow_all": True}, ["ada@example.edu"]
    assert_error(errors(hub(auth, jupyterhub_admin_users=admins)), "jupyterhub_auth.allow_all", "lets anybody",
                 "jupyterhub_open_access_opt_in: true")
    config = hub_config(hub(auth, jupyterhub_admin_users=admins, jupyterhub_open_access_opt_in=True))
    assert config["Authenticator"]["allow_all"] is True and "hosted_domain" not in config["GoogleOAuthenticator"]


GOOGLE_RULES: list[tuple[str, dict[str, Any], dict[str, Any], str, tuple[str, ...]]] = [
    ("nobody allowed", {"type": "google", "client_id": "c"}, {}, "jupyterhub_auth",
     ("nobody but admin users", "allowed_hosted_domains or allowed_users")),
    ("client id missing", {"type": "google", "allowed_hosted_domains": ["example.edu"]}, {}, "jupyterhub_auth.client_id",
     ("missing",)),
    ("domain not a domain", {**GOOGLE, "allowed_hosted_domains": ["https://example.edu"]}, {},
     "jupyterhub_auth.allowed_hosted_domains[0]", ("not a domain name", "example.org")),
    ("domain without a dot", {**GOOGLE, "allowed_hosted_domains": ["localhost"]}, {},
     "jupyterhub_auth.allowed_hosted_domains[0]", ("not a domain name",)),
    ("one domain: names are stripped", {**GOOGLE, "allowed_users": ["ada@example.edu"]}, {},
     "jupyterhub_auth.allowed_users[0]", ("has a domain", "before the @")),
    ("one domain: admin names are stripped too", GOOGLE, {"jupyterhub_admin_users": ["ada@example.edu"]},
     "jupyterhub_admin_users[0]", ("has a domain",)),
    ("several domains: names are e-mail addresses",
     {**GOOGLE, "allowed_hosted_domains": ["example.edu", "example.org"], "allowed_users": ["ada"]}, {},
     "jupyterhub_auth.allowed_users[0]", ("not an e-mail address", "<name>@<domain>")),
    ("no domain: names are e-mail addresses", {"type": "google", "client_id": "c", "allowed_users": ["ada"]}, {},
     "jupyterhub_auth.allowed_users[0]", ("not an e-mail address",)),
    ("hosted_domain in extra config", {**GOOGLE, "extra_config": {"hosted_domain": ["other.org"]}}, {},
     "jupyterhub_auth.extra_config.hosted_domain", ("jupyterhub_auth.allowed_hosted_domains instead",)),
    ("key of another type", {**GOOGLE, "allowed_organizations": ["x"]}, {}, "jupyterhub_auth.allowed_organizations",
     ("unknown key for type google",)),
]


@pytest.mark.parametrize(("auth", "extra", "path", "fragments"), [r[1:] for r in GOOGLE_RULES],
                         ids=[r[0] for r in GOOGLE_RULES])
def test_google_rule(auth: dict[str, Any], extra: dict[str, Any], path: str, fragments: tuple[str, ...]) -> None:
    assert_error(errors(hub(auth, **extra)), path, *fragments)


def test_google_strip_domain_in_extra_config_decides_the_name_form() -> None:
    auth = {**GOOGLE, "allowed_hosted_domains": ["example.edu", "example.org"], "allowed_users": ["ada"],
            "extra_config": {"strip_domain": True}}
    assert build_model(hub(auth)).jupyterhub.auth.allowed_users == ["ada"]


# --- shared password ---------------------------------------------------------------------


def test_shared_password_is_open_access_and_needs_the_opt_in() -> None:
    assert_error(errors(hub(SHARED)), "jupyterhub_auth.type", "shared password", "jupyterhub_open_access_opt_in: true")
    assert_error(errors(hub({"type": "shared_password", "allow_all": True})), "jupyterhub_auth.type",
                 "jupyterhub_open_access_opt_in: true")


def test_shared_password_values_carry_no_password() -> None:
    config = hub_config(hub(SHARED, jupyterhub_open_access_opt_in=True))
    assert config == {
        "JupyterHub": {"authenticator_class": "shared-password"},
        "Authenticator": {"admin_users": ["ada"], "blocked_users": [SMOKE_USER],
                          "allowed_users": ["student1", "student2"]},
    }


def test_shared_password_needs_an_allow_rule() -> None:
    auth = {"type": "shared_password"}
    assert_error(errors(hub(auth, jupyterhub_open_access_opt_in=True)), "jupyterhub_auth", "allowed_users")


@pytest.mark.parametrize("key", ["user_password", "admin_password", "Password"])
def test_a_password_in_plain_inventory_is_refused_without_showing_it(key: str) -> None:
    found = errors(hub({**SHARED, "extra_config": {key: USER_PASSWORD}}, jupyterhub_open_access_opt_in=True))
    assert_error(found, f"jupyterhub_auth.extra_config.{key}", "secret in plain inventory",
                 f"scripts/hub-secrets set <hub> {CONFIG}.SharedPasswordAuthenticator.{key}")
    assert USER_PASSWORD not in "\n".join(found)


def test_a_client_secret_in_plain_inventory_is_refused() -> None:
    found = errors(hub({**GOOGLE, "extra_config": {"client_secret": USER_PASSWORD}}))
    assert_error(found, "jupyterhub_auth.extra_config.client_secret", f"{CONFIG}.GoogleOAuthenticator.client_secret")
    assert USER_PASSWORD not in "\n".join(found)


# --- null and tmp --------------------------------------------------------------------------


def test_null_and_tmp_are_refused_outside_a_local_cluster_like_dummy() -> None:
    for kind in ("dummy", "null", "tmp"):
        auth = {"type": kind, **({"allowed_users": ["a"]} if kind == "dummy" else {})}
        found = errors(hub(auth, jupyterhub_open_access_opt_in=True))
        assert_error(found, "jupyterhub_auth.type", f"the test authenticator ({kind})",
                     f"{kind} is allowed only where cluster_local is true",
                     "jupyterhub_test_authenticator_opt_in: true")


@pytest.mark.parametrize("where", [{"cluster_local": True}, {"jupyterhub_test_authenticator_opt_in": True}])
def test_null_is_not_open_and_renders_the_null_authenticator(where: dict[str, Any]) -> None:
    config = hub_config(hub({"type": "null"}, **where))
    assert config == {"JupyterHub": {"authenticator_class": "null"},
                      "Authenticator": {"admin_users": ["ada"], "blocked_users": [SMOKE_USER]}}


def test_tmp_is_open_access_and_renders_allow_all() -> None:
    assert_error(errors(hub({"type": "tmp"}, cluster_local=True)), "jupyterhub_auth.type", "every visitor",
                 "jupyterhub_open_access_opt_in: true")
    config = hub_config(hub({"type": "tmp"}, cluster_local=True, jupyterhub_open_access_opt_in=True))
    # jupyterhub-tmpauthenticator 1.0.0 predates JupyterHub 5: without allow_all nobody gets in.
    assert config == {"JupyterHub": {"authenticator_class": "tmp"},
                      "Authenticator": {"admin_users": ["ada"], "blocked_users": [SMOKE_USER], "allow_all": True}}


def test_unquoted_null_type_is_explained() -> None:
    found = errors(yaml.safe_load("jupyterhub_auth: {type: null}") | {k: v for k, v in valid_variables().items()
                                                                       if k != "jupyterhub_auth"})
    assert_error(found, "jupyterhub_auth.type", "unquoted null", 'type: "null", in quotes')


def test_test_authenticators_take_no_allow_rules() -> None:
    assert_error(errors(hub({"type": "tmp", "allowed_users": ["a"]}, cluster_local=True, jupyterhub_open_access_opt_in=True)),
                 "jupyterhub_auth.allowed_users", "unknown key for type tmp")


# --- secret keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(("auth", "variables", "keys"), [
    (GOOGLE, {}, [f"{CONFIG}.GoogleOAuthenticator.client_secret"]),
    (SHARED, {"jupyterhub_open_access_opt_in": True},
     [f"{CONFIG}.SharedPasswordAuthenticator.user_password", f"{CONFIG}.SharedPasswordAuthenticator.admin_password"]),
    (SHARED, {"jupyterhub_open_access_opt_in": True, "jupyterhub_admin_users": []},
     [f"{CONFIG}.SharedPasswordAuthenticator.user_password"]),
    ({"type": "null"}, {"cluster_local": True}, []),
    ({"type": "tmp"}, {"cluster_local": True, "jupyterhub_open_access_opt_in": True}, []),
], ids=["google", "shared-with-admins", "shared-without-admins", "null", "tmp"])
def test_secret_keys_of_each_login(auth: dict[str, Any], variables: dict[str, Any], keys: list[str]) -> None:
    assert required_secret_keys(build_model(hub(auth, **variables)), None) == keys


# --- the same rules on the final values ------------------------------------------------------


def _problems(tmp_path: Path, values: dict[str, Any] | None, secrets: dict[str, Any] | None = None,
              **overrides: Any) -> list[str]:  # noqa: ANN401 - any variable's value
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_render import RenderError, final_values, render_model

    demo = inventory_hub("staging", LOCAL_INVENTORY)
    variables = {**demo.variables, **overrides}
    if values is not None:
        extra = tmp_path / "login.values.yaml"
        extra.write_text(yaml.safe_dump(values), encoding="utf-8")
        variables["hub_values_files"] = [*variables.get("hub_values_files", []), str(extra)]
    rendering = render_model(variables, local_registry_definition(demo), base_dir=demo.inventory_dir)
    content = {"jupyterhub": {"hub": {"services": {"binder": {"apiToken": PLACEHOLDER_TOKEN}}}}}
    for key, value in (secrets or {}).items():
        node = content["jupyterhub"]
        *parents, last = key.split(".")[1:]
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    try:
        final_values(rendering, content, "the secret values file", ["jupyterhub"])
    except RenderError as error:
        text = str(error)
        assert USER_PASSWORD not in text and ADMIN_PASSWORD not in text
        return list(error.details["errors"])
    return []


def _switch(authenticator_class: str, **sections: dict[str, Any]) -> dict[str, Any]:
    return {"jupyterhub": {"hub": {"config": {"JupyterHub": {"authenticator_class": authenticator_class}, **sections}}}}


def _named(found: list[str], *fragments: str) -> bool:
    return any(all(f in m for f in fragments) for m in found)


@pytest.mark.parametrize("spelling", ["google", "oauthenticator.google.GoogleOAuthenticator", "GoogleOAuthenticator",
                                      "local-google"])
def test_values_file_google_restricted_by_hosted_domain_is_not_open(tmp_path: Path, spelling: str) -> None:
    restricted = _switch(spelling, Authenticator={"allow_all": True}, GoogleOAuthenticator={"hosted_domain": ["x.org"]})
    assert _problems(tmp_path, restricted) == []
    as_string = _switch(spelling, GoogleOAuthenticator={"hosted_domain": "x.org", "allow_all": True})
    assert _problems(tmp_path, as_string) == []
    found = _problems(tmp_path, _switch(spelling, Authenticator={"allow_all": True}))
    assert _named(found, "jupyterhub.hub.config.Authenticator.allow_all", "opens the hub to anybody"), found


@pytest.mark.parametrize(("spelling", "kind"), [("shared-password", "shared_password"),
                                                ("jupyterhub.authenticators.shared.SharedPasswordAuthenticator",
                                                 "shared_password"),
                                                ("tmp", "tmp"), ("tmpauthenticator.TmpAuthenticator", "tmp")])
def test_values_file_switching_to_an_open_authenticator_needs_the_opt_in(tmp_path: Path, spelling: str, kind: str) -> None:
    secrets = {f"{CONFIG}.SharedPasswordAuthenticator.user_password": USER_PASSWORD}
    found = _problems(tmp_path, _switch(spelling), secrets)
    assert _named(found, "login.values.yaml", "jupyterhub.hub.config.JupyterHub.authenticator_class",
                  f"is the {kind} authenticator", "jupyterhub_open_access_opt_in: true"), found
    assert _problems(tmp_path, _switch(spelling), secrets, jupyterhub_open_access_opt_in=True) == []


@pytest.mark.parametrize("spelling", ["null", "jupyterhub.auth.NullAuthenticator", "tmp", "dummy"])
def test_values_file_switching_to_a_test_authenticator_on_a_real_cluster(tmp_path: Path, spelling: str) -> None:
    github = {"type": "github", "client_id": "abc", "allowed_organizations": ["org"]}
    found = _problems(tmp_path, _switch(spelling), None, cluster_local=False, jupyterhub_auth=github,
                      jupyterhub_open_access_opt_in=True)
    kind = authenticator_type(spelling)
    assert _named(found, "jupyterhub.hub.config.JupyterHub.authenticator_class", f"test authenticator ({kind})",
                  "jupyterhub_test_authenticator_opt_in: true"), found
    assert _problems(tmp_path, _switch(spelling), None, cluster_local=False, jupyterhub_auth=github,
                     jupyterhub_open_access_opt_in=True, jupyterhub_test_authenticator_opt_in=True) == []


PASSWORDS: list[tuple[str, dict[str, str], list[str]]] = [
    ("good", {"user_password": USER_PASSWORD, "admin_password": ADMIN_PASSWORD}, []),
    ("user password short", {"user_password": "seven77"},
     ["SharedPasswordAuthenticator.user_password", "shorter than 8 characters"]),
    ("admin password short", {"user_password": USER_PASSWORD, "admin_password": "a" * 31},
     ["SharedPasswordAuthenticator.admin_password", "shorter than 32 characters"]),
    ("same passwords", {"user_password": ADMIN_PASSWORD, "admin_password": ADMIN_PASSWORD},
     ["SharedPasswordAuthenticator.admin_password", "the same as user_password"]),
    ("no password at all", {}, ["SharedPasswordAuthenticator.user_password", "is missing"]),
]


@pytest.mark.parametrize(("passwords", "fragments"), [p[1:] for p in PASSWORDS], ids=[p[0] for p in PASSWORDS])
def test_shared_passwords_in_the_secret_values_file(tmp_path: Path, passwords: dict[str, str],
                                                     fragments: list[str]) -> None:
    secrets = {f"{CONFIG}.SharedPasswordAuthenticator.{key}": value for key, value in passwords.items()}
    found = _problems(tmp_path, _switch("shared-password"), secrets, jupyterhub_open_access_opt_in=True)
    if not fragments:
        assert found == []
    else:
        assert _named(found, "hub 'staging'", *fragments), found
        assert all(value not in "\n".join(found) for value in passwords.values())


def test_the_model_checks_the_shared_password_hub_end_to_end(tmp_path: Path) -> None:
    """A shared_password hub in the inventory: its rendered values and secrets pass together."""
    shared = {"jupyterhub_auth": SHARED, "jupyterhub_open_access_opt_in": True}
    secrets = {f"{CONFIG}.SharedPasswordAuthenticator.user_password": USER_PASSWORD,
               f"{CONFIG}.SharedPasswordAuthenticator.admin_password": ADMIN_PASSWORD}
    assert _problems(tmp_path, None, secrets, **shared) == []
    short = {**secrets, f"{CONFIG}.SharedPasswordAuthenticator.user_password": "short"}
    assert _named(_problems(tmp_path, None, short, **shared), "the secret values file",
                  "SharedPasswordAuthenticator.user_password", "shorter than 8")


@pytest.mark.parametrize(("spelling", "kind"), [
    ("github", "github"), ("generic-oauth", "generic"), ("oauthenticator.generic.GenericOAuthenticator", "generic"),
    ("cilogon", "cilogon"), ("google", "google"), ("local-google", "google"), ("shared-password", "shared_password"),
    ("dummy", "dummy"), ("DummyAuthenticator", "dummy"), ("null", "null"), ("tmp", "tmp"), ("pam", ""), (None, ""),
])
def test_authenticator_class_spellings(spelling: object, kind: str) -> None:
    assert authenticator_type(spelling) == kind


def test_every_type_has_a_rule_set() -> None:
    """Each type the model accepts renders and names its secrets (no KeyError for a new type)."""
    from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.auth import AUTH_KEYS, AUTH_TYPES

    assert set(AUTH_KEYS) == set(AUTH_TYPES)
    examples: dict[str, Callable[[], dict[str, Any]]] = {
        "github": lambda: hub({"type": "github", "client_id": "c", "allowed_users": ["a"]}),
        "generic": lambda: hub({"type": "generic", "client_id": "c", "authorize_url": "https://x/a",
                                "token_url": "https://x/t", "userdata_url": "https://x/u", "allowed_users": ["a"]}),
        "cilogon": lambda: hub({"type": "cilogon", "client_id": "c", "allowed_users": ["a"], "allowed_idps": {
            "https://idp": {"username_derivation": {"username_claim": "email"}}}}),
        "google": lambda: hub(GOOGLE),
        "shared_password": lambda: hub(SHARED, jupyterhub_open_access_opt_in=True),
        "dummy": lambda: hub({"type": "dummy", "allowed_users": ["a"]}, cluster_local=True),
        "null": lambda: hub({"type": "null"}, cluster_local=True),
        "tmp": lambda: hub({"type": "tmp"}, cluster_local=True, jupyterhub_open_access_opt_in=True),
    }
    assert set(examples) == set(AUTH_TYPES)
    for kind, example in examples.items():
        model = build_model(example())
        assert model.hub.name == HUB
        assert authenticator_type(authenticator_config(model)["JupyterHub"]["authenticator_class"]) == kind
