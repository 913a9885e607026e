"""The build node's kubelet port: the build pods' logs, as the kube-apiserver asks a node for them
(``GET /containerLogs/<namespace>/<pod>/<container>?follow=true``, HTTPS; the apiserver verifies
no kubelet certificate unless it is given a kubelet CA, and the embedded cluster's is not).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

KUBELET_PORT = 10250
# How long a log request waits for its pod's build to start.
WAIT_FOR_BUILD = 60.0


@dataclass
class BuildLog:
    lines: list[bytes] = field(default_factory=list)
    done: bool = False

    def add(self, line: bytes) -> None:
        self.lines.append(line)

    def finish(self) -> None:
        self.done = True


class Logs:
    """Build logs by (namespace, pod)."""

    def __init__(self) -> None:
        self.logs: dict[tuple[str, str], BuildLog] = {}

    def of(self, namespace: str, pod: str) -> BuildLog:
        return self.logs.setdefault((namespace, pod), BuildLog())

    def forget(self, namespace: str, pod: str) -> None:
        self.logs.pop((namespace, pod), None)


def serving_context(state_dir: Path) -> ssl.SSLContext:
    """A self-signed serving certificate for the kubelet port, made once per state directory."""
    cert, key = state_dir / "kubelet.crt", state_dir / "kubelet.key"
    if not cert.exists() or not key.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
                        "/CN=build-node", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
        key.chmod(0o600)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def _respond(writer: asyncio.StreamWriter, status: str, body: bytes) -> None:
    writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n".encode() + body)
    await writer.drain()


async def _stream(writer: asyncio.StreamWriter, log: BuildLog, follow: bool) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    sent = 0
    while True:
        lines, done = log.lines[sent:], log.done
        for line in lines:
            writer.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        sent += len(lines)
        await writer.drain()
        if done or not follow:
            break
        await asyncio.sleep(0.1)
    writer.write(b"0\r\n\r\n")
    await writer.drain()


async def serve(logs: Logs, context: ssl.SSLContext, host: str = "127.0.0.1", port: int = KUBELET_PORT) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            method, target = head.split(" ", 2)[:2]
            url = urllib.parse.urlsplit(target)
            parts = url.path.strip("/").split("/")
            if method != "GET" or len(parts) != 4 or parts[0] != "containerLogs":
                await _respond(writer, "404 Not Found", b"the test bed's build node serves build pods' logs only\n")
                return
            namespace, pod = parts[1], parts[2]
            follow = urllib.parse.parse_qs(url.query).get("follow", ["false"])[0] == "true"
            if (namespace, pod) not in logs.logs:
                await asyncio.sleep(0)
                for _ in range(int(WAIT_FOR_BUILD / 0.2)):
                    if (namespace, pod) in logs.logs:
                        break
                    await asyncio.sleep(0.2)
                else:
                    await _respond(writer, "404 Not Found", f"no build of {namespace}/{pod} on this node\n".encode())
                    return
            await _stream(writer, logs.of(namespace, pod), follow)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(OSError, ssl.SSLError):
                writer.close()

    return await asyncio.start_server(answer, host, port, ssl=context, reuse_address=True)
