"""What a server sent: one response received whole within its timeout, its JSON, its error
text, and the pages of a request series as they were kept."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

import httpx
import orjson

from runs_pandas.catalog import Provider
from runs_pandas.errors import ApiError
from runs_pandas.http.request import Request
from runs_pandas.http.retry import Transient


@dataclass
class Response:
    """What one request brought back: status, headers and the parsed body (None if empty)."""

    request: Request
    status: int
    headers: httpx.Headers
    body: Any
    content: bytes = b""
    table: Any = None  # the page as a pyarrow Table when read by a columnar `Reader`
    link: Any = None  # unread: the next link or token found in its bytes
    unread: bool = False  # neither read nor parsed yet: a batch reads it (`http.batches`)


@dataclass
class Series:
    """The rows of one request series (all pages of one request), and how it ended."""

    first: Request
    rows: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    error: ApiError | None = None
    stopped: bool = False  # the request budget ran out before the paginator said stop
    # the columnar path: each page read by pyarrow (and its bytes), no dicts in `rows`
    columnar: Columnar | None = None


@dataclass
class Columnar:
    """The pages of a series read by pyarrow's JSON reader: each page's rows as the struct
    array its one read made (the page's bytes are not kept), and what read them."""

    schema: Any  # the explicit pyarrow schema the next page is read with
    rows_key: str
    parts: list[Any] = field(default_factory=list)  # per page: its rows, a pyarrow StructArray
    counts: list[int] = field(default_factory=list)  # rows per page
    declared: Any = None  # the catalog's part of the schema (`schema` grows while reading)

    def __post_init__(self) -> None:
        if self.declared is None:
            self.declared = self.schema

    def dict_rows(self) -> list[dict[str, Any]]:
        """The rows as the dict path has them: what each page's read holds, as dicts."""
        from runs_pandas import mixed

        rows: list[dict[str, Any]] = []
        for part in self.parts:
            rows.extend(part.to_pylist())
        restored: list[dict[str, Any]] = mixed.restore(rows, parse_json)  # mixed-kind values as sent
        return restored


class Scrub(Protocol):
    """Replaces known secrets in text or bytes (`Credentials.scrub`)."""

    @overload
    def __call__(self, text: str) -> str: ...
    @overload
    def __call__(self, text: bytes) -> bytes: ...


def receive(
    client: httpx.Client,
    request: Request,
    url: str,
    auth: httpx.Auth | None,
    timeout: float,
    scrub: Scrub,
) -> tuple[int, httpx.Headers, bytes]:
    """Status, headers and the whole body, within `timeout` for all of it (a body trickled
    byte by byte is cut off there, within one read of the deadline).

    Known secrets are scrubbed from the body at once: a server that echoes one cannot put
    it into an error, a row, or a local variable that a verbose traceback prints."""
    deadline = time.monotonic() + timeout
    try:
        with client.stream(
            request.verb,
            url,
            headers=dict(request.headers) or {"Accept": "application/json"},  # the catalog's
            json=request.json if request.verb != "GET" else None,
            timeout=timeout,
            auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=False,
        ) as raw:
            chunks = []
            for chunk in raw.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise Transient(f"the response took longer than the timeout ({timeout:g} s)", None, None)
            return raw.status_code, raw.headers, scrub(b"".join(chunks))
    except (httpx.TransportError, httpx.DecodingError) as exc:
        message = scrub(f"{type(exc).__name__}: {exc}")
        raise Transient(message, None, None) from None
    except httpx.InvalidURL as exc:
        raise ApiError(
            status=None, code=None, message=f"not a URL that can be sent: {exc}",
            method=request.method, url=scrub(url[:200]),
        ) from None


def parse_json(content: bytes) -> Any:
    """orjson (2-3x json.loads, and parsing is most of a fetch); json for what it refuses,
    such as integers beyond 64 bits."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def error_text(provider: Provider, status: int, content: bytes) -> tuple[str | None, str]:
    """The provider's error code and message, read where its error shape keeps them."""
    try:
        body = parse_json(content) if content.strip() else None
    except ValueError:
        body = None

    def at(path: str | None) -> str | None:
        if path is None:
            return None
        node: Any = body
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return None if node is None else str(node)

    message = at(provider.error.message) or httpx.codes.get_reason_phrase(status) or "error"
    return at(provider.error.code), message
