"""A closed-loop HTTP/1.1 load generator for the benchmarks: ``connections`` persistent
connections to 127.0.0.1, each sending its next request as soon as the answer to the
last one has arrived, for a fixed time.

It runs on asyncio with plain streams in one thread, so that on the 2-core machine the
client takes a small share of the CPU that the server under test needs (a thread per
connection with ``http.client`` and a new connection per request took about a sixth of a
core at 400 requests/s). A connection the server closes (``Connection: close``, an error)
is opened again, and the request that failed is counted as failed (status 0), never
retried. ``LoadResult.cpu_s`` is the client's own CPU time, printed beside the figures.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    started: float
    elapsed: float
    status: int
    body: bytes = b""


@dataclass
class LoadResult:
    results: list[Result] = field(default_factory=list)
    took: float = 0.0
    cpu_s: float = 0.0
    connects: int = 0


# make_request(i) -> (method, path, headers, body)
RequestMaker = Callable[[int], tuple[str, str, dict[str, str], bytes]]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _encode(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep, chunked = None, lines[0].startswith("HTTP/1.1"), False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            keep = value != "close"
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(p[:-2] for p in parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body, keep = await reader.read(), False
    return status, body, keep


async def _run(
    port: int, make: RequestMaker, connections: int, seconds: float, keep_bodies: bool
) -> LoadResult:
    out = LoadResult()
    counter = iter(range(10**12))
    deadline = time.monotonic() + seconds

    async def connection() -> None:
        reader = writer = None
        while time.monotonic() < deadline:
            i = next(counter)
            payload = _encode(port, *make(i))
            started = time.monotonic()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    out.connects += 1
                assert reader is not None
                writer.write(payload)
                status, body, keep = await asyncio.wait_for(_read_response(reader), 30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status, body, keep = 0, b"", False
            out.results.append(
                Result(started, time.monotonic() - started, status, body if keep_bodies else b"")
            )
            if not keep and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    cpu, started = _cpu(), time.monotonic()
    await asyncio.gather(*(connection() for _ in range(connections)))
    out.took, out.cpu_s = time.monotonic() - started, _cpu() - cpu
    return out


def closed_loop(
    port: int, make: RequestMaker, connections: int, seconds: float, keep_bodies: bool = False
) -> LoadResult:
    """``connections`` persistent connections, each sending one request after the other
    for ``seconds``; every answer (status 0: no answer) and the time the load took."""
    return asyncio.run(_run(port, make, connections, seconds, keep_bodies))
