"""Test helpers of the registry role: a CA made at test time, the real distribution registry
on loopback, a token service stand-in, plain-HTTP OCI push/pull, and running modules ad hoc.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from support import ROOT, VENV_BIN, project_env

REGISTRY_BIN = ROOT / ".local" / "bin" / "registry"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"


# --- running modules ----------------------------------------------------------------


def run_module(module: str, args: dict, *, check: bool = False, diff: bool = False) -> dict:
    """Run one of the project's modules (``imagebuilding.hubs.<module>``) with ``ansible localhost -m``;
    return its result."""
    env = project_env(
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    name = module if "." in module else f"imagebuilding.hubs.{module}"
    argv = [str(VENV_BIN / "ansible"), "localhost", "-m", name, "-a", json.dumps(args)]
    argv += ["--check"] if check else []
    argv += ["--diff"] if diff else []
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    start = proc.stdout.find("\n{")  # after profile_tasks' first line
    if start < 0:
        raise AssertionError(f"no JSON from ansible: {proc.stdout}\n{proc.stderr}")
    data, _ = json.JSONDecoder().raw_decode(proc.stdout[start + 1:])  # profile_tasks prints around it
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"]


# --- PKI ----------------------------------------------------------------------------


@dataclass
class Pki:
    """A CA made for one test session and a server certificate for 127.0.0.1/localhost."""

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("imagebuilding-hubs test CA"))
        .issuer_name(_name("imagebuilding-hubs test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(directory, directory / "ca.crt", directory / "server.crt", directory / "server.key")
    pki.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pki.key_file.chmod(0o600)
    return pki


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bcrypt_line(username: str, password: str) -> str:
    return f"{username}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"


# --- the real distribution registry -------------------------------------------------


@dataclass
class Registry:
    """A running distribution registry process."""

    directory: Path
    port: int
    pki: Pki
    process: subprocess.Popen
    htpasswd: Path | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.host}"

    def log(self) -> str:
        path = self.directory / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _wait_ready(url: str, ca_file: Path, process: subprocess.Popen, timeout: float = 30.0) -> None:
    context = ssl.create_default_context(cafile=str(ca_file))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"registry exited with {process.returncode}")
        try:
            urllib.request.urlopen(url + "/v2/", context=context, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # 401: it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"registry at {url} did not answer within {timeout} s")


@contextmanager
def run_registry(directory: Path, pki: Pki, auth: dict) -> Iterator[Registry]:
    """Start the real registry binary with ``auth`` (htpasswd or token); stop it afterwards."""
    if not REGISTRY_BIN.exists():
        import pytest

        pytest.skip(f"{REGISTRY_BIN} is not built yet: run `make tools`")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(directory / "data")}, "delete": {"enabled": True}},
        "http": {
            "addr": f"127.0.0.1:{port}",
            "secret": secrets.token_hex(16),
            "tls": {"certificate": str(pki.cert_file), "key": str(pki.key_file)},
        },
        "auth": auth,
    }
    config_file = directory / "config.yml"
    config_file.write_text(json.dumps(config, indent=2))  # JSON is YAML
    log = (directory / "registry.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "OTEL_"))}
    env["OTEL_TRACES_EXPORTER"] = "none"
    process = subprocess.Popen([str(REGISTRY_BIN), "serve", str(config_file)], stdout=log, stderr=subprocess.STDOUT, env=env)
    htpasswd = Path(auth["htpasswd"]["path"]) if "htpasswd" in auth else None
    registry = Registry(directory, port, pki, process, htpasswd)
    try:
        _wait_ready(registry.url, pki.ca_file, process)
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


# --- a token service stand-in (Docker registry token authentication) ---------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenIssuer:
    """Signs registry tokens (RS256 JWT with an x5c header) the distribution registry trusts."""

    directory: Path
    issuer: str = "imagebuilding-hubs-test-issuer"
    service: str = "imagebuilding-hubs-test-registry"
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    cert_file: Path = field(init=False)
    cert_der: bytes = field(init=False)

    def __post_init__(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("token signer"))
            .issuer_name(_name("token signer"))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.cert_file = self.directory / "token-signer.crt"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)

    def sign(self, subject: str, access: list[dict]) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(self.cert_der).decode("ascii")]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"


Permissions = Callable[[str, str], set[str]]


class _TokenHandler(BaseHTTPRequestHandler):
    server: TokenServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        header = self.headers.get("Authorization", "")
        user = None
        if header.startswith("Basic "):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if self.server.users.get(name) == password:
                user = name
        if url.path != "/token" or user is None or query.get("service", [""])[0] != self.server.issuer.service:
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
            return
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted = sorted(set(actions.split(",")) & self.server.permissions(user, name))
            access.append({"type": kind, "name": name, "actions": granted})
        token = self.server.issuer.sign(user, access)
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300})


class TokenServer(ThreadingHTTPServer):
    """STAND-IN for a registry's token service (like auth.docker.io or ghcr.io/token), over TLS."""

    daemon_threads = True

    def __init__(self, pki: Pki, issuer: TokenIssuer, users: dict[str, str], permissions: Permissions) -> None:
        super().__init__(("127.0.0.1", 0), _TokenHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki.cert_file), str(pki.key_file))
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.issuer, self.users, self.permissions = issuer, users, permissions

    @property
    def realm(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}/token"


@contextmanager
def serve_tokens(pki: Pki, issuer: TokenIssuer, users: dict[str, str], permissions: Permissions) -> Iterator[TokenServer]:
    server = TokenServer(pki, issuer, users, permissions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- plain-HTTP OCI client ----------------------------------------------------------


class OciError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Oci:
    """Just enough of the distribution API to push and pull an OCI artifact."""

    def __init__(self, url: str, username: str, password: str, ca_file: Path) -> None:
        self.url, self.username, self.password = url.rstrip("/"), username, password
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.tokens: dict[str, str] = {}

    def _basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def _send(self, method: str, url: str, auth: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        req = urllib.request.Request(url, data=data, method=method, headers={**headers, "Authorization": auth})
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def _token(self, challenge: str, repository: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = urllib.parse.urlencode({"service": params["service"], "scope": f"repository:{repository}:pull,push"})
        status, _, body = self._send("GET", f"{params['realm']}?{query}", self._basic(), None, {})
        if status != 200:
            raise OciError(status, f"token request failed: {body[:200]!r}")
        return json.loads(body)["token"]

    def request(
        self, method: str, path: str, repository: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict, bytes]:
        url = path if path.startswith("https://") else self.url + path
        auth = self.tokens.get(repository) or self._basic()
        status, resp_headers, body = self._send(method, url, auth, data, headers or {})
        challenge = resp_headers.get("WWW-Authenticate") or resp_headers.get("Www-Authenticate") or ""
        if status == 401 and challenge.startswith("Bearer ") and repository not in self.tokens:
            self.tokens[repository] = "Bearer " + self._token(challenge, repository)
            status, resp_headers, body = self._send(method, url, self.tokens[repository], data, headers or {})
        return status, resp_headers, body

    def push_blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        status, headers, body = self.request("POST", f"/v2/{repository}/blobs/uploads/", repository, b"", {"Content-Length": "0"})
        if status != 202:
            raise OciError(status, f"starting an upload: {body[:300]!r}")
        location = urllib.parse.urljoin(self.url + "/", headers["Location"])
        sep = "&" if "?" in location else "?"
        status, _, body = self.request(
            "PUT", f"{location}{sep}digest={digest}", repository, data, {"Content-Type": "application/octet-stream"}
        )
        if status != 201:
            raise OciError(status, f"finishing the upload: {body[:300]!r}")
        return digest

    def push_manifest(self, repository: str, tag: str, manifest: bytes) -> str:
        status, headers, body = self.request(
            "PUT", f"/v2/{repository}/manifests/{tag}", repository, manifest, {"Content-Type": OCI_MANIFEST}
        )
        if status != 201:
            raise OciError(status, f"pushing the manifest: {body[:300]!r}")
        return headers.get("Docker-Content-Digest", "")

    def pull_manifest(self, repository: str, tag: str) -> bytes:
        status, _, body = self.request("GET", f"/v2/{repository}/manifests/{tag}", repository, headers={"Accept": OCI_MANIFEST})
        if status != 200:
            raise OciError(status, f"pulling the manifest: {body[:300]!r}")
        return body

    def pull_blob(self, repository: str, digest: str) -> bytes:
        status, _, body = self.request("GET", f"/v2/{repository}/blobs/{digest}", repository)
        if status != 200:
            raise OciError(status, f"pulling blob {digest}: {body[:300]!r}")
        return body


def push_artifact(oci: Oci, repository: str, tag: str, payload: bytes) -> dict:
    """Push a small OCI artifact (empty config + one layer); return its manifest."""
    config_digest = oci.push_blob(repository, b"{}")
    layer_digest = oci.push_blob(repository, payload)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.imagebuilding-hubs.test.v1",
        "config": {"mediaType": OCI_EMPTY, "digest": config_digest, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(payload)}],
    }
    oci.push_manifest(repository, tag, json.dumps(manifest).encode())
    return manifest


def pull_artifact(oci: Oci, repository: str, tag: str) -> bytes:
    manifest = json.loads(oci.pull_manifest(repository, tag))
    return oci.pull_blob(repository, manifest["layers"][0]["digest"])
