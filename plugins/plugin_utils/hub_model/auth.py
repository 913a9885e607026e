"""``jupyterhub_auth``: the hub's authenticator, who may log in, the open-access opt-in and the
test authenticators' opt-in (the rules of each authenticator: ``login_rules``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.imagebuilding.hubs.plugins.module_utils.dns_names import HOSTNAME_RE
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.login_rules import (
    AUTHENTICATORS,
    OAUTH_TYPES,
    OPEN_OPT_IN,
    OPEN_SETTINGS,
    OPEN_TYPES,
    allow_all_is_open,
    test_authenticator_expected,
    test_authenticator_refused,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.model import Auth
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.hub_model.readers import (
    Errors,
    check_keys,
    read_bool,
    read_mapping,
    read_one_of,
    read_str,
    read_str_list,
)
from ansible_collections.imagebuilding.hubs.plugins.plugin_utils.secret_names import is_secret_key

AUTH_TYPES = tuple(AUTHENTICATORS)
AUTHENTICATOR_CLASS_NAMES = {kind: class_name for kind, (_, class_name) in AUTHENTICATORS.items()}
GITHUB_ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
GITHUB_TEAM_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}):[A-Za-z0-9_.-]+$")

AUTH_KEYS = {
    "github": {"type", "client_id", "allowed_organizations", "allowed_teams", "allowed_users", "allow_all",
               "scope", "extra_config"},
    "generic": {"type", "client_id", "authorize_url", "token_url", "userdata_url", "username_claim", "scope",
                "login_service", "allowed_users", "allowed_groups", "groups_claim", "allow_all", "extra_config"},
    "cilogon": {"type", "client_id", "allowed_idps", "allowed_users", "allow_all", "scope", "extra_config"},
    "google": {"type", "client_id", "allowed_hosted_domains", "allowed_users", "allow_all", "scope", "login_service",
               "extra_config"},
    "shared_password": {"type", "allowed_users", "allow_all", "extra_config"},
    "dummy": {"type", "allowed_users", "allow_all", "extra_config"},
    "null": {"type", "extra_config"},
    "tmp": {"type", "extra_config"},
}
# Who may log in, by type, when nobody may (the error's expected part).
ALLOW_RULES = {
    "github": "allowed_organizations, allowed_teams or allowed_users",
    "generic": "allowed_users or allowed_groups",
    "cilogon": "allowed_users or allowed_domains on an identity provider",
    "google": "allowed_hosted_domains or allowed_users",
    "shared_password": "allowed_users",
    "dummy": "allowed_users",
}
# Settings of extra_config the toolkit renders from keys of its own.
EXTRA_CONFIG_OWN_KEYS = {"google": {"hosted_domain": "allowed_hosted_domains"}}


def _check_extra_config(errs: Errors, path: str, kind: str, extra: Mapping[str, Any], opt_in: bool,
                        domains: list[str]) -> None:
    """No open-access setting without the opt-in, no setting the toolkit renders from its own key,
    and no secret: extra_config is plain inventory."""
    for setting in OPEN_SETTINGS:
        opens = setting != "allow_all" or allow_all_is_open(kind, domains)
        if extra.get(setting) and opens and not opt_in:
            errs.add(f"{path}.{setting}", "opens the hub to anybody", f"{OPEN_OPT_IN}: true to say so explicitly")
    for key, own in EXTRA_CONFIG_OWN_KEYS.get(kind, {}).items():
        if key in extra:
            errs.add(f"{path}.{key}", f"is rendered from jupyterhub_auth.{own}", f"jupyterhub_auth.{own} instead")
    for key_path in _secret_key_paths(extra):
        dotted = ".".join(key_path)
        errs.add(f"{path}.{dotted}", "is a secret in plain inventory (the value is not shown)",
                 f"it in the hub's secret values file: scripts/hub-secrets set <hub> "
                 f"jupyterhub.hub.config.{AUTHENTICATOR_CLASS_NAMES[kind]}.{dotted} (and rotate it if this file "
                 "was ever committed or shared)")


def _secret_key_paths(node: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for key, value in node.items():
        if isinstance(value, Mapping):
            found += _secret_key_paths(value, (*prefix, str(key)))
        elif value and isinstance(value, str) and is_secret_key(key):
            found.append((*prefix, str(key)))
    return found


def _check_github_entries(errs: Errors, path: str, entries: list[str], pattern: re.Pattern[str],
                          expected: str) -> None:
    for index, entry in enumerate(entries):
        if not pattern.match(entry):
            errs.add(f"{path}[{index}]", f"{entry!r} is not valid", expected)


def _read_idps(errs: Errors, path: str, value: object) -> dict[str, Any]:
    idps = read_mapping(errs, path, value, required=True)
    if not idps:
        errs.add(path, "is empty", "CILogon identity providers: entity id -> {username_derivation: {...}}")
    for entity, settings in idps.items():
        entry = read_mapping(errs, f"{path}[{entity!r}]", settings, required=True)
        derivation = read_mapping(errs, f"{path}[{entity!r}].username_derivation",
                                   entry.get("username_derivation"), required=True)
        read_str(errs, f"{path}[{entity!r}].username_derivation.username_claim",
                  derivation.get("username_claim"), required=True)
    return idps


def _read_hosted_domains(errs: Errors, path: str, value: object) -> list[str]:
    """Google Workspace domains, lowercase (as oauthenticator compares them with the hd claim)."""
    domains = [domain.lower() for domain in read_str_list(errs, path, value)]
    for index, domain in enumerate(domains):
        if "." not in domain or not HOSTNAME_RE.match(domain):
            errs.add(f"{path}[{index}]", f"{domain!r} is not a domain name", "a Google Workspace domain such as example.org")
    return domains


def _check_google_user_names(errs: Errors, auth: Auth, admin_users: list[str]) -> None:
    """Google user names are e-mail addresses, with the domain stripped when there is exactly one
    hosted domain (oauthenticator's strip_domain default): a name of the other form never matches."""
    if auth.type != "google" or "username_claim" in auth.extra_config:
        return
    domains = auth.allowed_hosted_domains
    strip = auth.extra_config.get("strip_domain")
    stripped = bool(domains) and (strip if isinstance(strip, bool) else len(domains) == 1)
    if stripped:
        problem, expected = "has a domain, but Google user names here are without it", "the name before the @"
    else:
        problem = "is not an e-mail address, but Google user names here are"
        expected = "<name>@<domain> (names lose the domain only with exactly one allowed_hosted_domains entry)"
    for path, names in (("jupyterhub_auth.allowed_users", auth.allowed_users), ("jupyterhub_admin_users", admin_users)):
        for index, name in enumerate(names):
            if ("@" in name) is stripped:
                errs.add(f"{path}[{index}]", f"{name!r} {problem}", expected)


def _auth_allows_somebody(auth: Auth) -> bool:
    if auth.type in ("null", "tmp"):
        return True  # null lets nobody in by design (API tokens only); tmp lets everybody in
    idp_domains = any(isinstance(v, Mapping) and v.get("allowed_domains") for v in auth.allowed_idps.values())
    google = auth.type == "google" and bool(auth.allowed_hosted_domains or auth.extra_config.get("allowed_google_groups"))
    return bool(auth.allow_all or auth.allowed_users or auth.allowed_organizations or auth.allowed_groups
                or idp_domains or google)


def _check_open_access(errs: Errors, path: str, auth: Auth, opt_in: bool) -> None:
    """The open-access opt-in: for authenticators that let anybody in, and for allow_all where it
    lets in anybody (not on Google restricted to hosted domains)."""
    if opt_in:
        return
    if auth.type in OPEN_TYPES:
        errs.add(f"{path}.type", f"the {auth.type} authenticator {OPEN_TYPES[auth.type]}",
                 f"{OPEN_OPT_IN}: true next to it, to say so explicitly")
    elif auth.allow_all and allow_all_is_open(auth.type, auth.allowed_hosted_domains):
        errs.add(f"{path}.allow_all", "lets anybody who can log in use the hub",
                 f"{OPEN_OPT_IN}: true next to it, to say so explicitly")


def read_auth(errs: Errors, value: object, *, cluster_local: bool, opt_in: bool, test_opt_in: bool = False,
              admin_users: list[str] | None = None) -> Auth:
    path = "jupyterhub_auth"
    raw = read_mapping(errs, path, value, required=True)
    if not raw:
        return Auth(type="")
    if "type" in raw and raw["type"] is None:
        errs.add(f"{path}.type", "is empty (YAML reads an unquoted null as no value)",
                 "one of " + ", ".join(AUTH_TYPES) + '; the NullAuthenticator as type: "null", in quotes')
        return Auth(type="")
    kind = read_one_of(errs, f"{path}.type", raw.get("type"), AUTH_TYPES)
    if not kind:
        return Auth(type="")
    check_keys(errs, path, raw, AUTH_KEYS[kind], f"for type {kind}")
    refused = test_authenticator_refused(kind, cluster_local=cluster_local, opt_in=test_opt_in)
    if refused:
        errs.add(f"{path}.type", refused, test_authenticator_expected(kind))
    extra = read_mapping(errs, f"{path}.extra_config", raw.get("extra_config"))
    orgs = read_str_list(errs, f"{path}.allowed_organizations", raw.get("allowed_organizations"))
    teams = read_str_list(errs, f"{path}.allowed_teams", raw.get("allowed_teams"))
    _check_github_entries(errs, f"{path}.allowed_organizations", orgs, GITHUB_ORG_RE, "a GitHub organization name")
    _check_github_entries(errs, f"{path}.allowed_teams", teams, GITHUB_TEAM_RE,
                          "a GitHub team as <organization>:<team-slug>")
    generic = kind == "generic"
    auth = Auth(
        type=kind,
        client_id=read_str(errs, f"{path}.client_id", raw.get("client_id"), required=kind in OAUTH_TYPES),
        allowed_organizations=orgs + teams,
        allowed_users=read_str_list(errs, f"{path}.allowed_users", raw.get("allowed_users")),
        allowed_groups=read_str_list(errs, f"{path}.allowed_groups", raw.get("allowed_groups")),
        # tmp is allow_all by what it is (tmpauthenticator 1.0.0 predates JupyterHub 5's allow_all)
        allow_all=read_bool(errs, f"{path}.allow_all", raw.get("allow_all")) or kind == "tmp",
        scope=read_str_list(errs, f"{path}.scope", raw.get("scope")),
        authorize_url=read_str(errs, f"{path}.authorize_url", raw.get("authorize_url"), required=generic),
        token_url=read_str(errs, f"{path}.token_url", raw.get("token_url"), required=generic),
        userdata_url=read_str(errs, f"{path}.userdata_url", raw.get("userdata_url"), required=generic),
        username_claim=read_str(errs, f"{path}.username_claim", raw.get("username_claim"),
                                 default="preferred_username" if generic else ""),
        groups_claim=read_str(errs, f"{path}.groups_claim", raw.get("groups_claim"),
                               default="groups" if generic else ""),
        login_service=read_str(errs, f"{path}.login_service", raw.get("login_service")),
        allowed_idps=_read_idps(errs, f"{path}.allowed_idps", raw.get("allowed_idps")) if kind == "cilogon" else {},
        allowed_hosted_domains=_read_hosted_domains(errs, f"{path}.allowed_hosted_domains",
                                                    raw.get("allowed_hosted_domains")),
        extra_config=extra,
    )
    _check_extra_config(errs, f"{path}.extra_config", kind, extra, opt_in, auth.allowed_hosted_domains)
    _check_open_access(errs, path, auth, opt_in)
    _check_google_user_names(errs, auth, admin_users or [])
    if not _auth_allows_somebody(auth):
        errs.add(path, "allows nobody but admin users to log in", f"{ALLOW_RULES[kind]} (or allow_all with the opt-in)")
    return auth
