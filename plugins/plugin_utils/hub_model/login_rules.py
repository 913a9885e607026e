"""Who can log in with each authenticator the toolkit offers, written once for the hub model's
check of ``jupyterhub_auth`` and the release rules' check of the final values.

Facts of the hub image's versions (z2jh 4.4.0: JupyterHub 5.5.0, oauthenticator 17.4.0,
jupyterhub-tmpauthenticator 1.0.0):

- ``Authenticator.allow_all`` lets in everybody who can authenticate. For Google that is anybody
  with a Google account, unless ``GoogleOAuthenticator.hosted_domain`` is set: oauthenticator
  17 checks it in ``check_blocked_users``, before any allow rule, so an account outside those
  Workspace domains is refused whatever else is configured. ``hosted_domain`` alone lets nobody
  in (it is no allow rule): the domains' users still need ``allow_all``, ``allowed_users`` or
  ``allowed_google_groups``.
- ``shared-password`` (JupyterHub's SharedPasswordAuthenticator): whoever knows the one password
  logs in as any allowed user name (with ``allow_all``: as any name at all); there is no
  identity behind a login, so it counts as open access.
- ``tmp`` (TmpAuthenticator): every visitor becomes a new random user without logging in.
  Version 1.0.0 predates JupyterHub 5, so ``allow_all`` must be set for it to let anybody in.
- ``null`` (NullAuthenticator): nobody can log in through the browser (``/hub/login`` answers
  403); the hub is used through API tokens only. Not open, but no hub for people either.
- ``dummy`` (DummyAuthenticator): any password; ``allowed_users`` names who.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# type -> (JupyterHub.authenticator_class entry point, the class's name in hub.config)
AUTHENTICATORS: dict[str, tuple[str, str]] = {
    "github": ("github", "GitHubOAuthenticator"),
    "generic": ("generic-oauth", "GenericOAuthenticator"),
    "cilogon": ("cilogon", "CILogonOAuthenticator"),
    "google": ("google", "GoogleOAuthenticator"),
    "shared_password": ("shared-password", "SharedPasswordAuthenticator"),
    "dummy": ("dummy", "DummyAuthenticator"),
    "null": ("null", "NullAuthenticator"),
    "tmp": ("tmp", "TmpAuthenticator"),
}
OAUTH_TYPES = ("github", "generic", "cilogon", "google")
# Authenticators for tests and demos: refused outside a local cluster unless opted in.
TEST_TYPES: dict[str, str] = {
    "dummy": "accepts any password",
    "null": "lets nobody log in through the browser (API tokens only)",
    "tmp": "makes every visitor a new user without any login",
}
# Authenticators that let anybody in by what they are (refused without the open-access opt-in).
OPEN_TYPES: dict[str, str] = {
    "shared_password": "lets anybody who knows the one shared password log in, as any allowed user name",
    "tmp": "lets every visitor in as a new user, without a login",
}
# SharedPasswordAuthenticator's passwords and the lengths JupyterHub 5 requires of them (it
# refuses to start otherwise; the two must differ). Both live in the secret values file.
SHARED_PASSWORD_MIN_LENGTHS = {"user_password": 8, "admin_password": 32}
# Settings that let anybody in whatever the authenticator (the open-access opt-in's settings).
OPEN_SETTINGS = ("allow_all", "open_signup")
TEST_OPT_IN = "jupyterhub_test_authenticator_opt_in"
OPEN_OPT_IN = "jupyterhub_open_access_opt_in"
# Other spellings of the Google authenticator in JupyterHub.authenticator_class.
_GOOGLE_SPELLINGS = ("local-google", "localgoogleoauthenticator")


def authenticator_type(authenticator_class: object) -> str:
    """The type of a ``JupyterHub.authenticator_class`` value: an entry point (``google``), a
    class name or a dotted path (``jupyterhub.auth.DummyAuthenticator``); "" for others."""
    if not isinstance(authenticator_class, str):
        return ""
    spelled = authenticator_class.strip().lower()
    last = spelled.rsplit(".", 1)[-1]
    if spelled in _GOOGLE_SPELLINGS or last in _GOOGLE_SPELLINGS:
        return "google"
    for kind, (entry_point, class_name) in AUTHENTICATORS.items():
        if spelled == entry_point or last == class_name.lower():
            return kind
    return ""


def test_authenticator_refused(kind: str, *, cluster_local: bool, opt_in: bool) -> str:
    """Why a test authenticator may not be used here ("" when it may): only where cluster_local
    is true, or with the explicit opt-in."""
    if kind not in TEST_TYPES or cluster_local or opt_in:
        return ""
    return f"the test authenticator ({kind}), which {TEST_TYPES[kind]}"


def test_authenticator_expected(kind: str) -> str:
    return (f"a real authenticator (github, generic, cilogon, google, shared_password); {kind} is allowed only "
            f"where cluster_local is true, or with {TEST_OPT_IN}: true")


def hosted_domains(settings: Mapping[str, Any]) -> list[str]:
    """``GoogleOAuthenticator.hosted_domain`` as oauthenticator reads it (a string is one domain)."""
    value = settings.get("hosted_domain")
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)):
        return [str(domain) for domain in value if domain]
    return []


def allow_all_is_open(kind: str, domains: list[str]) -> bool:
    """Whether ``allow_all`` lets in anybody at all: not for Google restricted to hosted domains."""
    return not (kind == "google" and domains)


def open_to_anybody(kind: str, *, allow_all: bool, domains: list[str]) -> bool:
    """Whether the hub lets in anybody who finds it (what the open-access opt-in is for)."""
    return kind in OPEN_TYPES or (allow_all and allow_all_is_open(kind, domains))
