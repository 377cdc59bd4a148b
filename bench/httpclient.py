"""A small keep-alive HTTP/1.1 client on asyncio streams, for load generation.

httpx costs the load generator about a millisecond of CPU per request; on a 2-core machine
that CPU is taken from the server under test. This client costs a fraction of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        if self.writer is None:
            await self._open()
        assert self.reader is not None
        assert self.writer is not None
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        start = time.perf_counter()
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        received: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            received[key.strip().lower()] = value.strip()
        length = int(received.get("content-length", "0"))
        data = await self.reader.readexactly(length) if length else b""
        if received.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, received, data, time.perf_counter() - start)

    async def json(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        body = b""
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        return await self.request(method, path, body=body, headers=sent)

    async def form(self, path: str, fields: dict[str, str]) -> Response:
        from urllib.parse import urlencode

        body = urlencode(fields).encode()
        return await self.request(
            "POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )

    async def multipart(
        self, path: str, data: Any, files: list[tuple[str, bytes, str]], *, token: str
    ) -> Response:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n'
            f"Content-Type: application/json\r\n\r\n".encode()
            + json.dumps(data, ensure_ascii=False).encode()
            + b"\r\n"
        ]
        for name, content, ctype in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                f'filename="{name}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return await self.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Authorization": f"Bearer {token}",
            },
        )
