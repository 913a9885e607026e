"""TCP and unix-socket forwarders: how the boot's network namespace reaches the kube-apiserver and
how the host reaches the booted hub's proxy."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """``tcp`` (host, port) or ``unix`` (path)."""

    kind: str
    host: str = ""
    port: int = 0
    path: str = ""

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Endpoint:
        return cls(**data)

    def describe(self) -> str:
        return self.path if self.kind == "unix" else f"{self.host}:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.kind == "unix":
            return await asyncio.open_unix_connection(self.path)
        return await asyncio.open_connection(self.host, self.port)

    async def listen(self, handler: Any) -> asyncio.Server:  # noqa: ANN401 - asyncio's client callback
        if self.kind == "unix":
            with contextlib.suppress(FileNotFoundError):
                Path(self.path).unlink()
            return await asyncio.start_unix_server(handler, self.path)
        return await asyncio.start_server(handler, self.host, self.port, reuse_address=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()


async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: Endpoint, first: bytes = b"") -> None:
    """Relay one accepted connection to a new connection to ``target`` (closed if it cannot be made),
    ``first`` being what was read from it already."""
    try:
        target_reader, target_writer = await target.connect()
    except OSError:
        writer.close()
        return
    target_writer.write(first)
    await asyncio.gather(_pipe(reader, target_writer), _pipe(target_reader, writer))
    for stream in (writer, target_writer):
        stream.close()


async def forward(listen: Endpoint, target: Endpoint) -> asyncio.Server:
    """Accept on ``listen`` and relay each connection to a new connection to ``target``."""

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await relay(reader, writer, target)

    return await listen.listen(accepted)
