"""``jupyterhub_auth``: the hub's authenticator, who may log in, and the open-access opt-in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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

AUTH_TYPES = ("github", "generic", "cilogon", "dummy")
AUTHENTICATOR_CLASS_NAMES = {
    "github": "GitHubOAuthenticator",
    "generic": "GenericOAuthenticator",
    "cilogon": "CILogonOAuthenticator",
    "dummy": "DummyAuthenticator",
}
GITHUB_ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
GITHUB_TEAM_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}):[A-Za-z0-9_.-]+$")

AUTH_KEYS = {
    "github": {"type", "client_id", "allowed_organizations", "allowed_teams", "allowed_users", "allow_all",
               "scope", "extra_config"},
    "generic": {"type", "client_id", "authorize_url", "token_url", "userdata_url", "username_claim", "scope",
                "login_service", "allowed_users", "allowed_groups", "groups_claim", "allow_all", "extra_config"},
    "cilogon": {"type", "client_id", "allowed_idps", "allowed_users", "allow_all", "scope", "extra_config"},
    "dummy": {"type", "allowed_users", "allow_all", "extra_config"},
}
# Authenticator settings that let anybody in: refused without jupyterhub_open_access_opt_in.
OPEN_ACCESS_SETTINGS = ("allow_all", "open_signup")


def _read_open_access(errs: Errors, path: str, value: object, opt_in: bool) -> bool:
    allow_all = read_bool(errs, path, value)
    if allow_all and not opt_in:
        errs.add(path, "lets anybody who can log in use the hub",
                 "jupyterhub_open_access_opt_in: true next to it, to say so explicitly")
    return allow_all


def _check_extra_config_open_access(errs: Errors, path: str, extra: Mapping[str, Any], opt_in: bool) -> None:
    for setting in OPEN_ACCESS_SETTINGS:
        if extra.get(setting) and not opt_in:
            errs.add(f"{path}.{setting}", "opens the hub to anybody",
                     "jupyterhub_open_access_opt_in: true to say so explicitly")


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


def _auth_allows_somebody(auth: Auth) -> bool:
    idp_domains = any(isinstance(v, Mapping) and v.get("allowed_domains") for v in auth.allowed_idps.values())
    return bool(auth.allow_all or auth.allowed_users or auth.allowed_organizations or auth.allowed_groups
                or idp_domains)


def read_auth(errs: Errors, value: object, *, cluster_local: bool, opt_in: bool) -> Auth:
    path = "jupyterhub_auth"
    raw = read_mapping(errs, path, value, required=True)
    if not raw:
        return Auth(type="")
    kind = read_one_of(errs, f"{path}.type", raw.get("type"), AUTH_TYPES)
    if not kind:
        return Auth(type="")
    check_keys(errs, path, raw, AUTH_KEYS[kind], f"for type {kind}")
    if kind == "dummy" and not cluster_local:
        errs.add(f"{path}.type", "the test authenticator (dummy) accepts any password",
                 "a real authenticator (github, generic, cilogon); dummy is allowed only where cluster_local is true")
    extra = read_mapping(errs, f"{path}.extra_config", raw.get("extra_config"))
    _check_extra_config_open_access(errs, f"{path}.extra_config", extra, opt_in)
    needs_client = kind != "dummy"
    orgs = read_str_list(errs, f"{path}.allowed_organizations", raw.get("allowed_organizations"))
    teams = read_str_list(errs, f"{path}.allowed_teams", raw.get("allowed_teams"))
    _check_github_entries(errs, f"{path}.allowed_organizations", orgs, GITHUB_ORG_RE, "a GitHub organization name")
    _check_github_entries(errs, f"{path}.allowed_teams", teams, GITHUB_TEAM_RE,
                          "a GitHub team as <organization>:<team-slug>")
    generic = kind == "generic"
    auth = Auth(
        type=kind,
        client_id=read_str(errs, f"{path}.client_id", raw.get("client_id"), required=needs_client),
        allowed_organizations=orgs + teams,
        allowed_users=read_str_list(errs, f"{path}.allowed_users", raw.get("allowed_users")),
        allowed_groups=read_str_list(errs, f"{path}.allowed_groups", raw.get("allowed_groups")),
        allow_all=_read_open_access(errs, f"{path}.allow_all", raw.get("allow_all"), opt_in),
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
        extra_config=extra,
    )
    if not _auth_allows_somebody(auth):
        expected = {
            "github": "allowed_organizations, allowed_teams or allowed_users",
            "generic": "allowed_users or allowed_groups",
            "cilogon": "allowed_users or allowed_domains on an identity provider",
            "dummy": "allowed_users",
        }[kind]
        errs.add(path, "allows nobody but admin users to log in", f"{expected} (or allow_all with the opt-in)")
    return auth
