"""Plain request/response values passed between the HTTP handler and the fake providers.

Keeping them free of ``http.server`` lets each provider be a pure function of a request,
which is what makes the fakes easy to read and to test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote


@dataclass(frozen=True)
class Request:
    """One HTTP request, with the provider prefix already removed from ``path``."""

    method: str
    target: str  # path and query exactly as received, prefix included
    path: str  # percent-decoded path below the provider prefix, e.g. "/runs/list"
    query: Mapping[str, str]  # first value of each query parameter, blanks kept
    headers: Mapping[str, str]  # lower-cased header names
    body: bytes
    base_url: str  # "http://<Host header>" as the client addressed us
    prefix: str  # the provider mount point, e.g. "/azure"

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class Response:
    """Status, extra headers and the complete body bytes of one answer."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json; charset=utf-8"


class Provider(Protocol):
    """A fake API mounted below ``prefix`` on the sandbox server."""

    prefix: str

    def handle(self, request: Request) -> Response:
        """Answer one request addressed to this provider."""
        ...

    def fault(self, status: int) -> Response:
        """An injected failure with this status, in the provider's own error shape."""
        ...


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, the way the real services send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(
    status: int, value: Any, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A JSON response from a Python value."""
    return Response(status, json_bytes(value), list(headers or []))


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """Split ``/p/a/t/h?x=1`` into its decoded path and a first-value query dict."""
    raw_path, _, raw_query = target.partition("?")
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query.setdefault(key, value)
    return unquote(raw_path), query
