"""The loopback HTTP/1.1 server: keep-alive, Content-Length on every response, clean shutdown.

Responses are written in one ``write`` (status line, headers and body together) with
TCP_NODELAY, so keep-alive clients never wait on Nagle/delayed-ACK stalls.
"""

from __future__ import annotations

import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ._http import Response
from .router import Router

SERVER_NAME = "runs-pandas-sandbox"


class SandboxServer(ThreadingHTTPServer):
    """A threading server that tracks open connections so ``close`` can end keep-alives."""

    daemon_threads = True
    block_on_close = False  # never wait on idle keep-alive connections at shutdown
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a client opening 32 connections at once
    # (a fresh session's first fan-out, as every Spark task is) overflowed it, and each
    # dropped SYN cost a 1 s retransmit. Real API front ends accept far more.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], router: Router) -> None:
        self.router = router
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """A client that went away with its keep-alive connection open (a Spark worker that
        was stopped) is not an error of the server; anything else is printed as usual."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def track(self, connection: socket.socket, alive: bool) -> None:
        """Remember (or forget) an accepted connection."""
        with self._connections_lock:
            if alive:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close(self) -> None:
        """Stop serving, close the listening socket and every open connection."""
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, asks the router, writes the answer."""

    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: requests are recorded in ``Sandbox.requests`` instead."""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        host = headers.get("host") or f"127.0.0.1:{self.server.server_address[1]}"
        response, truncate = self.server.router.respond(
            self.command, self.path, headers, body, f"http://{host}"
        )
        self._write(response, truncate)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length") or "0"
        try:
            length = int(length_text)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._write(Response(400, b'{"error":"invalid Content-Length"}'), False)
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: Response, truncate: bool) -> None:
        body = response.body
        lines = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}",
            f"Server: {SERVER_NAME}",
            f"Date: {self.date_time_string()}",
        ]
        if body:
            lines.append(f"Content-Type: {response.content_type}")
        lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if truncate:  # announce the full length, send half, then hang up
            self.wfile.write(head + body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(head + body)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
