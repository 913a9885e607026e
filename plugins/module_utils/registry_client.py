"""Log in to an OCI distribution registry the way a build pod's docker client does.

``GET /v2/`` first; a registry answering 401 names its scheme in ``WWW-Authenticate``:

* ``Basic``: repeat ``GET /v2/`` with basic credentials.
* ``Bearer realm="...",service="..."``: ask the realm for a token with the basic
  credentials and a ``repository:<name>:pull,push`` scope, then repeat ``GET /v2/``
  with ``Authorization: Bearer <token>``.

Failures raise :class:`RegistryLoginError` whose ``kind`` tells wrong credentials,
an unknown host, an unreachable registry, TLS problems and protocol surprises apart.
Messages name the user and the registry but never the password or a token.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

USER_AGENT = "imagebuilding-hubs-registry-check/1.0"


class RegistryLoginError(Exception):
    """A failed login; ``kind`` is one of credentials, forbidden, unknown_host,
    unreachable, tls, protocol."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> dict:
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise RegistryLoginError("protocol", f"expected a JSON answer, got: {self.body[:200]!r}") from exc
        if not isinstance(data, dict):
            raise RegistryLoginError("protocol", "expected a JSON object")
        return data


@dataclass
class LoginResult:
    scheme: str  # basic | bearer | anonymous
    push_checked: bool = False
    warnings: list[str] = field(default_factory=list)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow redirects: credentials must not travel to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl) -> None:  # noqa: ANN001
        return None


def ssl_context(ca_file: str | None = None, validate_certs: bool = True) -> ssl.SSLContext:
    if not validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_file or None)


def basic_auth(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _network_error(url: str, reason: object) -> RegistryLoginError:
    host = _host_of(url)
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = reason.verify_message or str(reason)
        return RegistryLoginError(
            "tls",
            f"the TLS certificate of {host} is not trusted ({detail}): "
            "set registry_ca_file to the CA that signs the registry's certificate",
        )
    if isinstance(reason, ssl.SSLError):
        hint = ""
        if "WRONG_VERSION_NUMBER" in str(reason) or "wrong version number" in str(reason):
            hint = " (does the registry serve plain HTTP? then its url must start with http://)"
        return RegistryLoginError("tls", f"TLS handshake with {host} failed: {reason}{hint}")
    if isinstance(reason, socket.gaierror):
        return RegistryLoginError("unknown_host", f"unknown host: {host} cannot be resolved ({reason.strerror or reason})")
    if isinstance(reason, ConnectionRefusedError):
        return RegistryLoginError("unreachable", f"{host} is unreachable: connection refused (is the registry running?)")
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return RegistryLoginError("unreachable", f"{host} is unreachable: the connection timed out")
    return RegistryLoginError("unreachable", f"{host} is unreachable: {reason}")


def request(
    method: str,
    url: str,
    context: ssl.SSLContext,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 20.0,
) -> Response:
    """One HTTP request; HTTP error statuses are returned, network errors raised."""
    if not url.startswith(("https://", "http://")):
        raise RegistryLoginError("protocol", f"refusing to open {url!r}: only http(s) URLs are used")
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the scheme is checked above
    req.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp else b""
        return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body)
    except urllib.error.URLError as exc:
        raise _network_error(url, exc.reason) from None
    except (ssl.SSLError, OSError) as exc:
        raise _network_error(url, exc) from None


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """('bearer', {'realm': ..., 'service': ...}) from a WWW-Authenticate header."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    key, buf, in_quotes, reading_key = "", "", False, True
    for char in rest + ",":
        if reading_key:
            if char == "=":
                key, buf, reading_key = buf.strip().lower(), "", False
            elif char == ",":
                buf = ""
            else:
                buf += char
            continue
        if char == '"':
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            params[key] = buf.strip()
            key, buf, reading_key = "", "", True
        else:
            buf += char
    return scheme.lower(), params


def token_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


def _jwt_claims(token: str) -> dict | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def granted_actions(token: str, repository: str) -> set[str] | None:
    """Actions a JWT token grants on the repository (None when the token is opaque)."""
    claims = _jwt_claims(token)
    if claims is None or not isinstance(claims.get("access"), list):
        return None
    actions: set[str] = set()
    for entry in claims["access"]:
        if isinstance(entry, dict) and entry.get("type") == "repository" and entry.get("name") == repository:
            actions.update(str(a) for a in entry.get("actions") or [])
    return actions


def fetch_token(
    challenge: dict[str, str], username: str, password: str, repository: str, context: ssl.SSLContext, timeout: float
) -> str:
    realm = challenge.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        raise RegistryLoginError("protocol", f"the registry's Bearer challenge has no usable realm: {realm!r}")
    query = {"scope": token_scope(repository)}
    if challenge.get("service"):
        query["service"] = challenge["service"]
    sep = "&" if "?" in realm else "?"
    url = realm + sep + urllib.parse.urlencode(query)
    resp = request("GET", url, context, {"Authorization": basic_auth(username, password)}, timeout=timeout)
    if resp.status in (401, 403):
        raise RegistryLoginError(
            "credentials",
            f"the token service {_host_of(realm)} rejected the credentials of user '{username}' "
            f"(HTTP {resp.status}): wrong username or password",
        )
    if resp.status != 200:
        raise RegistryLoginError("protocol", f"the token service {_host_of(realm)} answered HTTP {resp.status}")
    data = resp.json()
    token = data.get("token") or data.get("access_token")
    if not isinstance(token, str) or not token:
        raise RegistryLoginError("protocol", f"the token service {_host_of(realm)} returned no token")
    return token


def _v2(url: str) -> str:
    return url.rstrip("/") + "/v2/"


def _check_v2(url: str, authorization: str, context: ssl.SSLContext, timeout: float, username: str) -> None:
    resp = request("GET", _v2(url), context, {"Authorization": authorization}, timeout=timeout)
    if resp.status == 200:
        return
    if resp.status == 401:
        raise RegistryLoginError(
            "credentials", f"{_host_of(url)} rejected the credentials of user '{username}' (HTTP 401): wrong username or password"
        )
    if resp.status == 403:
        raise RegistryLoginError("forbidden", f"{_host_of(url)} accepted user '{username}' but denies access (HTTP 403)")
    raise RegistryLoginError("protocol", f"GET {_v2(url)} answered HTTP {resp.status} after logging in")


def check_push(url: str, authorization: str, repository: str, context: ssl.SSLContext, timeout: float, username: str) -> None:
    """Start a blob upload (what a push does first) and cancel it again."""
    upload = f"{url.rstrip('/')}/v2/{repository}/blobs/uploads/"
    resp = request("POST", upload, context, {"Authorization": authorization, "Content-Length": "0"}, data=b"", timeout=timeout)
    if resp.status in (401, 403):
        raise RegistryLoginError(
            "forbidden",
            f"user '{username}' may not push to {_host_of(url)}/{repository} (HTTP {resp.status} on starting an upload)",
        )
    if resp.status != 202:
        raise RegistryLoginError("protocol", f"starting an upload to {repository} answered HTTP {resp.status}")
    location = resp.header("location")
    if location:
        target = urllib.parse.urljoin(upload, location)
        request("DELETE", target, context, {"Authorization": authorization}, timeout=timeout)


def reach(url: str, *, ca_file: str | None = None, validate_certs: bool = True, timeout: float = 20.0) -> None:
    """The registry answers its API over verified TLS (before there are credentials to log in
    with); raise RegistryLoginError (unknown host, unreachable, TLS, not a registry)."""
    probe = request("GET", _v2(url), ssl_context(ca_file, validate_certs), timeout=timeout)
    if probe.status not in (200, 401):
        raise RegistryLoginError("protocol", f"{url} is not an OCI distribution registry API "
                                 f"(GET /v2/ answered HTTP {probe.status})")


def login(
    url: str,
    username: str,
    password: str,
    repository: str,
    *,
    ca_file: str | None = None,
    validate_certs: bool = True,
    timeout: float = 20.0,
    push: bool = False,
) -> LoginResult:
    """Log in like ``docker login`` / a build pod's push would; raise RegistryLoginError."""
    context = ssl_context(ca_file, validate_certs)
    probe = request("GET", _v2(url), context, timeout=timeout)
    if probe.status == 404:
        raise RegistryLoginError("protocol", f"{url} is not an OCI distribution registry API (GET /v2/ answered 404)")
    if probe.status not in (200, 401):
        raise RegistryLoginError("protocol", f"GET {_v2(url)} answered HTTP {probe.status}")
    scheme, challenge = parse_challenge(probe.header("www-authenticate")) if probe.status == 401 else ("", {})
    result = LoginResult(scheme="basic")
    if scheme == "bearer":
        token = fetch_token(challenge, username, password, repository, context, timeout)
        actions = granted_actions(token, repository)
        if actions is not None and "push" not in actions:
            raise RegistryLoginError(
                "forbidden",
                f"user '{username}' logged in, but the token grants no push on {repository} (granted: {sorted(actions)})",
            )
        authorization = f"Bearer {token}"
        result.scheme = "bearer"
    else:
        authorization = basic_auth(username, password)
        if probe.status == 200:
            result.scheme = "anonymous"
            result.warnings.append(
                f"{_host_of(url)} allows anonymous access to /v2/: the credentials could only be checked by a push"
            )
    _check_v2(url, authorization, context, timeout, username)
    if push:
        check_push(url, authorization, repository, context, timeout, username)
        result.push_checked = True
    return result
