#!/usr/bin/env python
"""A page server for benchmarks: pre-serialised provider pages, written back and nothing else.

    python benchmarks/pageserver.py --acr-runs 100000 --virtual 500:20 [--databricks-runs N]

It runs in a process of its own (so its CPU never shares the client's GIL) and starts the
sandbox (`runs_pandas.sandbox`) in-process only as the source of the payloads, so every
page has the real shapes. Before it answers, it walks the sandbox's four ACR registries and
stores every page as the bytes of a complete HTTP response. It also serves these pages
under virtual ACR registries of the first subscription and resource group:

- `all`: the four registries' pages in one series (one scope, one query, every run);
- `virtual000` ... (`--virtual K:P`): K registries of P pages each, cut cyclically from those
  pages (rows repeat; each page keeps its own `nextLink` to the next page of its series).

Any other request (Databricks, Airplane, the real ACR scopes, a `$filter`) is forwarded to
the sandbox once, on its first arrival, and its response stored; later arrivals are answered
from the store. Requests are matched by path and sorted query. So a benchmark runs each
contender once untimed, then `GET /__bench/reset`, times, and `GET /__bench/stats` must show
no `misses`: every timed request was a lookup and a write of bytes prepared before.

The first stdout line is JSON: url, endpoints, tokens, scopes (the sandbox's, plus
`acr_all` and `acr_virtual`).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import socket
import sys
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import orjson

from runs_pandas.sandbox import Sandbox

ACR_PATH = "/azure/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ContainerRegistry/registries/{r}/runs"
API_VERSION = "2019-06-01-preview"
HOP = {"connection", "content-length", "transfer-encoding", "keep-alive", "date", "server"}


def key_of(target: str) -> str:
    """Path plus the sorted query: the same page however a client orders its parameters."""
    parts = urlsplit(target)
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{parts.path}?{query}"


def head(status: int, reason: str, length: int, headers: list[tuple[str, str]] | None = None) -> bytes:
    """A response's status line and headers, ready to write."""
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {length}"]
    if not any(k.lower() == "content-type" for k, _ in headers or []):
        lines.append("Content-Type: application/json; charset=utf-8")
    lines += [f"{k}: {v}" for k, v in headers or []]
    return "\r\n".join(lines).encode() + b"\r\n\r\n"


def response(status: int, reason: str, body: bytes, headers: list[tuple[str, str]] | None = None) -> tuple[bytes, ...]:
    return (head(status, reason, len(body), headers), body)


class Store:
    """The prepared responses, and the sandbox behind them for first arrivals."""

    def __init__(self, sandbox: Sandbox, base: str) -> None:
        self.sandbox = sandbox
        self.base = base
        self.routes: dict[str, tuple[bytes, ...]] = {}
        self.raw: dict[bytes, str] = {}  # raw request target -> key, so a hit parses nothing
        self.hits = 0
        self.misses = 0
        host = urlsplit(sandbox.url)
        self.upstream = (host.hostname or "127.0.0.1", host.port or 80)

    def fetch(self, target: str, headers: dict[str, str]) -> tuple[int, str, bytes, list[tuple[str, str]]]:
        """One GET to the sandbox (blocking)."""
        connection = http.client.HTTPConnection(*self.upstream, timeout=600)
        try:
            connection.request("GET", target, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP]
            return answer.status, answer.reason, body, kept
        finally:
            connection.close()

    def forward(self, target: str, headers: dict[str, str]) -> tuple[bytes, ...]:
        """A first arrival: ask the sandbox, point its links here, store the response."""
        status, reason, body, kept = self.fetch(target, headers)
        body = body.replace(self.sandbox.url.encode(), self.base.encode())
        kept = [(k, v.replace(self.sandbox.url, self.base)) for k, v in kept]
        chunks = response(status, reason, body, kept)
        if status == 200:
            self.routes[key_of(target)] = chunks
        return chunks

    def acr_pages(self, scopes: list[dict[str, str]], token: str) -> list[bytes]:
        """The `value` array bytes of every page of the given registries, in order."""
        values: list[bytes] = []
        for scope in scopes:
            target: str | None = self.acr_first(scope["subscriptionId"], scope["resourceGroupName"], scope["registryName"])
            while target:
                status, _, body, _ = self.fetch(target, {"Authorization": f"Bearer {token}"})
                if status != 200:
                    raise RuntimeError(f"the sandbox answered {status} to {target}: {body[:200]!r}")
                page = orjson.loads(body)
                values.append(orjson.dumps(page["value"]))
                link = page.get("nextLink")
                target = link[len(self.sandbox.url):] if link else None
        return values

    @staticmethod
    def acr_first(sub: str, group: str, registry: str) -> str:
        return ACR_PATH.format(s=sub, g=group, r=registry) + f"?api-version={API_VERSION}"

    def add_series(self, sub: str, group: str, registry: str, values: list[bytes]) -> None:
        """One virtual registry: its pages, each linking to the next by a `$skipToken`."""
        first = self.acr_first(sub, group, registry)
        for index, value in enumerate(values):
            target = first if index == 0 else f"{first}&$skipToken=p{index}"
            if index + 1 < len(values):
                link = f"{self.base}{first}&{quote('$skipToken')}=p{index + 1}"
                tail = b',"nextLink":' + orjson.dumps(link) + b"}"
            else:
                tail = b"}"
            length = len(b'{"value":') + len(value) + len(tail)
            self.routes[key_of(target)] = (head(200, "OK", length), b'{"value":', value, tail)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    request = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                line, _, rest = request.partition(b"\r\n")
                raw = line.split(b" ")[1]
                key = self.raw.get(raw)
                if key is None:
                    key = self.raw[raw] = key_of(raw.decode())
                chunks = self.routes.get(key)
                if chunks is not None:
                    self.hits += 1
                elif key.startswith("/__bench/"):
                    chunks = self.control(key)
                else:
                    self.misses += 1
                    headers = {}
                    for header in rest.decode("latin-1").split("\r\n"):
                        name, _, value = header.partition(":")
                        if name and name.lower() not in HOP | {"host", "accept-encoding"}:
                            headers[name] = value.strip()
                    chunks = await loop.run_in_executor(None, self.forward, raw.decode(), headers)
                writer.writelines(chunks)
                await writer.drain()
        finally:
            writer.close()

    def control(self, key: str) -> tuple[bytes, ...]:
        if key.startswith("/__bench/reset"):
            self.hits = self.misses = 0
        stats = {"hits": self.hits, "misses": self.misses, "routes": len(self.routes)}
        return response(200, "OK", json.dumps(stats).encode())


async def main_async(args: argparse.Namespace) -> None:
    sandbox = Sandbox(
        seed=7, now=args.now, acr_runs=args.acr_runs,
        databricks_runs=args.databricks_runs, airplane_runs=args.airplane_runs,
    ).start()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    store = Store(sandbox, base)
    scopes = sandbox.scopes()
    registries = [s for s in scopes["azure"] if s["registryName"] != "myRegistry"]
    first = registries[0]
    sub, group = first["subscriptionId"], first["resourceGroupName"]
    virtual: list[dict[str, str]] = []
    if args.acr_runs:
        loop = asyncio.get_running_loop()
        values = await loop.run_in_executor(None, store.acr_pages, registries, sandbox.tokens["azure"])
        store.add_series(sub, group, "allruns", values)
        count, pages = (int(x) for x in args.virtual.split(":")) if args.virtual else (0, 0)
        for i in range(count):
            name = f"virtual{i:03d}"
            store.add_series(sub, group, name, [values[(i * pages + j) % len(values)] for j in range(pages)])
            virtual.append({"subscriptionId": sub, "resourceGroupName": group, "registryName": name})
    endpoints = {k: v.replace(sandbox.url, base) for k, v in sandbox.endpoints.items()}
    info: dict[str, Any] = {
        "url": base, "endpoints": endpoints, "tokens": sandbox.tokens, "scopes": scopes,
        "acr_all": {"subscriptionId": sub, "resourceGroupName": group, "registryName": "allruns"},
        "acr_virtual": virtual,
    }
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    server = await asyncio.start_server(store.serve, sock=listener, limit=1 << 20)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--acr-runs", type=int, default=100_000)
    parser.add_argument("--databricks-runs", type=int, default=1000)
    parser.add_argument("--airplane-runs", type=int, default=2000)
    parser.add_argument("--virtual", default="", help="K:P, K virtual ACR registries of P pages")
    parser.add_argument("--now", type=datetime.fromisoformat, default=datetime(2026, 11, 23))
    args = parser.parse_args(argv)
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
