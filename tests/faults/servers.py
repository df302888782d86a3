"""Scripted misbehaving servers on loopback: each answers from a function of the request.

A server serves at most `max_requests` requests and at most `lifetime` seconds, then stops
by itself, so a client that loops cannot make a test hang. What it saw (path, query,
headers, body) is kept in `seen`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import runs_pandas as rp


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What to send: status, headers, body (bytes or JSON), sent in `chunks` pieces `gap` s apart."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: int = 1
    gap: float = 0.0

    def content(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None and self.status == 204 else json.dumps(self.body).encode()


Script = Callable[[Seen, int], Answer]  # the request, its number (0-based) -> the answer


class Server:
    """A loopback server answering by `script`; `url` is its base URL."""

    def __init__(self, script: Script, *, max_requests: int = 200, lifetime: float = 20.0) -> None:
        self.script = script
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers), self.rfile.read(length))
                with outer._lock:
                    index = len(outer.seen)
                    outer.seen.append(seen)
                if index >= outer.max_requests:
                    answer = Answer(500, {"error": "scripted server: request cap reached"})
                else:
                    answer = outer.script(seen, index)
                content = answer.content()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                size = max(1, -(-len(content) // max(answer.chunks, 1)))
                for start in range(0, len(content), size):
                    try:
                        self.wfile.write(content[start : start + size])
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    if answer.gap:
                        time.sleep(answer.gap)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Server:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._stopper = threading.Timer(self.lifetime, self.stop)
        self._stopper.daemon = True
        self._stopper.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._stopper.cancel()


@contextmanager
def serving(script: Script, **options: Any) -> Iterator[Server]:
    server = Server(script, **options).start()
    try:
        yield server
    finally:
        server.stop()


SECRETS = {"azure": "AZ-SECRET-1234", "airplane": "tkn_SECRET_5678", "databricks_workspace": "dapi-SECRET-9012"}


def session_for(url: str, **settings: object) -> rp.Session:
    """A session whose three providers all point at `url` (a scripted server), retries quick."""
    defaults: dict[str, object] = {"progress": False, "backoff_base": 0.0, "retry_budget": 5.0}
    return rp.Session(
        endpoints={"azure": url, "airplane": url, "databricks_workspace": url},
        secrets=SECRETS,
        settings=rp.Settings(**{**defaults, **settings}),
    )
