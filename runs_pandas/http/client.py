"""Sending requests: retries (tenacity), a concurrency limit, paging, and API errors.

Everything goes through one `httpx.Client`, so tests can hand in one built on
`httpx.MockTransport` or talk to the sandbox on loopback.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from runs_pandas.catalog import Method, Provider
from runs_pandas.errors import ApiError, UnauthorizedError
from runs_pandas.http.auth import Credentials, same_origin
from runs_pandas.http.paging import next_request, rows_of
from runs_pandas.http.request import Request

if TYPE_CHECKING:
    import tenacity

COLUMNAR = True  # the columnar path on (tests turn it off to compare with the dict path)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_PAGES = 100_000
_SECRET_QUERY = ("token", "key", "secret", "code", "password", "signature")  # plus the catalog's

OnPage = Callable[[Request, int], None]
Reader = Callable[[bytes], Any]  # page bytes -> pyarrow Table; raises when it cannot be sure


@dataclass
class Response:
    """What one request brought back: status, headers and the parsed body (None if empty)."""

    request: Request
    status: int
    headers: httpx.Headers
    body: Any
    content: bytes = b""
    table: Any = None  # the page as a pyarrow Table when read by a columnar `Reader`


@dataclass
class Series:
    """The rows of one request series (all pages of one request), and how it ended."""

    first: Request
    rows: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    error: ApiError | None = None
    # the columnar path: each page read by pyarrow (and its bytes), no dicts in `rows`
    columnar: Columnar | None = None


@dataclass
class Columnar:
    """The pages of a series read by pyarrow's JSON reader, and what read them."""

    schema: Any  # the explicit pyarrow schema the pages were read with
    rows_key: str
    bodies: list[bytes] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # rows per page

    def dict_rows(self) -> list[dict[str, Any]]:
        """The rows as the dict path has them (bodies parsed again)."""
        rows: list[dict[str, Any]] = []
        for body in self.bodies:
            rows.extend(rows_of(_parse_json(body), f"$.{self.rows_key}"))
        return rows


@dataclass(frozen=True)
class Limits:
    """How hard to try: retries, their time budget, timeouts and concurrency."""

    retries: int = 4
    retry_budget: float = 60.0
    max_retry_wait: float = 30.0
    timeout: float = 30.0
    concurrency: int = 32


class _Transient(Exception):
    """A failure worth another try (429, 502-504, a dropped or cut-off connection)."""

    def __init__(self, message: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class Sender:
    """Sends requests for providers with their credentials, retrying what is transient."""

    def __init__(self, client: httpx.Client, credentials: Credentials, limits: Limits) -> None:
        self.client = client
        self.credentials = credentials
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.concurrency)
        self.sent = 0
        self._count_lock = threading.Lock()

    def send(
        self, provider: Provider, request: Request, origin: str | None = None, reader: Reader | None = None
    ) -> Response:
        """One request, retried within the budget; an ApiError when it finally fails."""
        headers = dict(request.headers)  # the catalog's headers and header params
        if origin is None or same_origin(origin, request.url):
            headers.update(self.credentials.headers(provider))

        def attempt() -> Response:
            return self._attempt(provider, request, headers, reader)

        import tenacity  # loaded on the first request, not on `import runs_pandas`

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.limits.retries + 1)
            | tenacity.stop_after_delay(self.limits.retry_budget),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            raise ApiError(
                status=exc.status,
                code=None,
                message=f"{exc} (gave up after {self.limits.retries + 1} attempts)",
                method=request.method,
                url=redact(request.url, provider.secret_query),
            ) from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.limits.max_retry_wait)
        # exponential backoff with jitter (tenacity renamed its argument across majors)
        backoff = 0.2 * 2 ** (state.attempt_number - 1) + random.uniform(0, 0.2)
        return min(backoff, self.limits.max_retry_wait)

    def _attempt(
        self, provider: Provider, request: Request, headers: dict[str, str], reader: Reader | None = None
    ) -> Response:
        with self._count_lock:
            self.sent += 1
        try:
            with self._slots:
                raw = self.client.request(
                    request.verb,
                    request.url,
                    headers=headers,
                    json=request.json if request.verb != "GET" else None,
                    timeout=self.limits.timeout,
                )
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}", None, None) from None
        if raw.status_code in RETRY_STATUSES:
            raise _Transient(_error_text(provider, raw)[1], raw.status_code, _retry_after(raw))
        if raw.status_code >= 400:
            code, message = _error_text(provider, raw)
            error = UnauthorizedError if raw.status_code in (401, 403) else ApiError
            raise error(
                status=raw.status_code,
                code=code,
                message=message,
                method=request.method,
                url=redact(request.url, provider.secret_query),
            )
        body: Any = None
        if reader is not None and raw.content.strip() and b"\n" not in raw.content:
            try:
                table = reader(raw.content)
            except (ValueError, KeyError, TypeError, NotImplementedError):  # Arrow's errors subclass these
                pass  # not sure: the dict path below reads it (and tells a cut-off body)
            else:
                if table.num_rows == 1:
                    return Response(request, raw.status_code, raw.headers, None, raw.content, table)
        if raw.content.strip():
            try:
                body = _parse_json(raw.content)
            except ValueError:
                raise _Transient("the response body was cut off or is not JSON", raw.status_code, None) from None
        return Response(request, raw.status_code, raw.headers, body, raw.content)

    def series(
        self, provider: Provider, method: Method, first: Request, on_page: OnPage | None = None
    ) -> Series:
        """All pages of one request: rows gathered until the paginator says stop.

        A failure ends the series but keeps the rows of the pages before it.
        """
        result = Series(first)
        result.columnar = self._columnar(method, first)
        reader: Reader | None = None
        if result.columnar is not None:
            from runs_pandas import pages

            key = result.columnar.rows_key
            skeleton = pages.skeleton(result.columnar.schema, key)
            reader = lambda content: pages.read_pages(content, skeleton, key, only_schema=True)
        request: Request | None = first
        seen: set[str] = set()
        while request is not None and result.requests < MAX_PAGES:
            try:
                response = self.send(provider, request, origin=first.url, reader=reader)
            except ApiError as exc:
                result.error = exc
                return result
            result.requests += 1
            columnar = result.columnar
            if columnar is not None and response.table is not None:
                table = response.table
                values = table.column(columnar.rows_key)[0].values
                count = 0 if values is None else len(values)
                columnar.bodies.append(response.content)
                columnar.counts.append(count)
                body: Any = {}
                next_field = method.paginator.next_field
                if next_field and next_field in table.column_names:
                    body = {next_field: table.column(next_field)[0].as_py()}
                rows_count = count
            else:
                if columnar is not None:  # this page could not be read so: dicts from now on
                    result.rows.extend(columnar.dict_rows())
                    result.columnar = reader = None
                body = response.body if response.table is None else _parse_json(response.content)
                rows = rows_of(body, method.rows)
                result.rows.extend(rows)
                rows_count = len(rows)
            if on_page is not None:
                on_page(request, rows_count)
            following = next_request(
                method.paginator, request, body, rows_count, result.requests - 1, response.headers
            )
            if following is not None and following.url in seen:
                break  # a paginator that repeats itself would never end
            seen.add(request.url)
            request = following
        return result

    def _columnar(self, method: Method, first: Request) -> Columnar | None:
        """Where pages are read columnar: rows one key down, a next link one key down, no dicts."""
        if not COLUMNAR:
            return None
        parts = method.rows.split(".")
        next_field = method.paginator.next_field
        if len(parts) != 2 or parts[0] != "$" or (next_field is not None and "." in next_field):
            return None
        if method.paginator.type in ("next_link", "token") and not next_field:
            return None
        try:
            import pyarrow  # noqa: F401

            from runs_pandas import pages
            from runs_pandas.catalog import catalog

            fields = catalog().resource(first.resource).fields
        except (ImportError, KeyError, ValueError):
            return None
        schema = pages.page_schema(fields, parts[1], next_field, method.lift)
        return Columnar(schema, parts[1])

    def many(
        self,
        jobs: list[tuple[Provider, Method, Request]],
        on_page: OnPage | None = None,
    ) -> list[Series]:
        """Request series fetched concurrently, in the order given."""
        if len(jobs) == 1:
            provider, method, request = jobs[0]
            return [self.series(provider, method, request, on_page)]
        workers = max(1, min(self.limits.concurrency, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runs-pandas") as pool:
            futures = [pool.submit(self.series, p, m, r, on_page) for p, m, r in jobs]
            return [f.result() for f in futures]


def _parse_json(content: bytes) -> Any:
    """orjson (2-3x json.loads, and parsing is most of a fetch); json for what it refuses,
    such as integers beyond 64 bits."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


def _error_text(provider: Provider, response: httpx.Response) -> tuple[str | None, str]:
    """The provider's error code and message, read where its error shape keeps them."""
    try:
        body = response.json()
    except ValueError:
        body = None

    def at(path: str | None) -> str | None:
        if path is None:
            return None
        node: Any = body
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return None if node is None else str(node)

    message = at(provider.error.message) or response.reason_phrase or "error"
    return at(provider.error.code), message


def redact(url: str, secret_names: tuple[str, ...] = ()) -> str:
    """The URL with secret-looking query values hidden: tokens, keys, and the query params
    a provider's catalog entry names as secrets (`secret_query`, e.g. signatures)."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return url
    names = (*_SECRET_QUERY, *(n.lower() for n in secret_names))
    params = [
        (k, "REDACTED" if any(s in k.lower() for s in names) else v)
        for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))
