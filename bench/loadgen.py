"""A lean HTTP/1.1 load client for the benches: keep-alive sockets, no parsing beyond need.

On a 2-core machine the load generator shares the CPU with the server under test; httpx
spends about a millisecond of CPU per call (its pool, its models, h11), which at a few
hundred calls a second is a core's worth of noise in the server's p99. This client writes a
pre-built request and reads the status line, the headers and ``Content-Length`` bytes: tens
of microseconds a call. It speaks only what uvicorn answers (``Content-Length`` bodies;
``Connection: close`` honoured) and is not a general client.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    body: bytes


@dataclass
class LeanClient:
    """Requests to one ``http://host:port`` over a pool of keep-alive connections."""

    base_url: str
    timeout: float = 10.0
    _idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)
    _all: list[asyncio.StreamWriter] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._all:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def request_bytes(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> bytes:
        """The whole request, built once so a bench can send it many times."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, raw: bytes) -> Answer:
        """Send a request built by :meth:`request_bytes`; raises TimeoutError or OSError.

        A kept-alive connection the server closed while it sat idle (uvicorn does after 5 s)
        fails before any answer; the request is then sent once more on a new connection, as
        HTTP clients do.
        """
        async with asyncio.timeout(self.timeout):
            while self._idle:
                reader, writer = self._idle.pop()
                try:
                    return await self._exchange(reader, writer, raw)
                except (ConnectionError, asyncio.IncompleteReadError) as exc:
                    writer.close()
                    if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                        raise  # the server had begun to answer: not a stale connection
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._all.append(writer)
            return await self._exchange(reader, writer, raw)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
    ) -> Answer:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, keep = 0, True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                keep = False
        body = await reader.readexactly(length) if length else b""
        if keep:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return Answer(status, body)
