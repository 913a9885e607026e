"""The stand-in server: it answers where the hub would connect to a fake kwok pod (a user server,
or a Service of the namespace such as BinderHub's that has no process on this machine).

It answers every request with 200 and a small JSON body naming itself, and logs one line per
request, so a test can see what the hub asked for. It is no Jupyter server: a user server
"starts" when the hub gets an answer from it, which is all JupyterHub waits for.

A real process can take a Service over (``scripts/binder_boot`` runs the genuine BinderHub): while
the takeover file (``<state>/takeover/<Service>.json``, an endpoint inside the boot) exists, each
new connection is relayed there instead of answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import TextIO

from hub_boot.bridge import Endpoint, relay

JUPYTERHUB_VERSION_HEADER = "X-JupyterHub-Version"


def takeover_file(state_dir: Path, service: str) -> Path:
    return state_dir / "takeover" / f"{service}.json"


async def serve(name: str, listen: Endpoint, log: TextIO, jupyterhub_version: str,
                takeover: Path | None = None) -> asyncio.Server:
    """Answer HTTP requests on ``listen`` as ``name``, or relay them to whoever took it over."""

    def taken_over() -> Endpoint | None:
        if takeover is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            return Endpoint.parse(json.loads(takeover.read_text()))
        return None

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = [*lines[0].split(" "), "", ""][:3]
                headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
                length = int(headers.get("Content-Length", headers.get("content-length", "0")).strip() or 0)
                body = await reader.readexactly(length) if length else b""
                real = taken_over()
                if real is not None:
                    # From this request on, the connection (kept alive or new) is the real process's.
                    await relay(reader, writer, real, head + body)
                    return
                log.write(json.dumps({"time": time.time(), "stand_in": name, "method": method, "path": target}) + "\n")
                log.flush()
                body = json.dumps({"stand_in": name, "path": target}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"{JUPYTERHUB_VERSION_HEADER}: {jupyterhub_version}\r\n".encode()
                    + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    return await listen.listen(answer)
