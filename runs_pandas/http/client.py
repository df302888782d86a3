"""Sending requests: retries within a budget, a concurrency limit, paging, and API errors.

Bounds that hold: `timeout` covers a whole response, the retry budget all the waiting of
one request, the page cap one series. Redirects are followed only within one origin and
scheme; every error's text is scrubbed of known secrets.

Everything goes through one `httpx.Client`, so tests can hand in one built on
`httpx.MockTransport` or talk to the sandbox on loopback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from runs_pandas.catalog import Method, Provider
from runs_pandas.errors import ApiError, NotFoundError, PageError, UnauthorizedError
from runs_pandas.http.auth import Credentials, same_origin
from runs_pandas.http.batches import Batches, Scan, scanner
from runs_pandas.http.paging import next_request
from runs_pandas.http.redact import redact, redact_safely
from runs_pandas.http.request import Request
from runs_pandas.http.retry import Budget, Transient, retry_after
from runs_pandas.http.wire import Columnar, Response, Series, error_text, parse_json, receive

COLUMNAR = True  # the columnar path on (tests turn it off to compare with the dict path)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_PAGES = 10_000
MAX_REDIRECTS = 5

OnPage = Callable[[Request, int], None]
Reader = Callable[[bytes], Any]  # page bytes -> pyarrow Table; raises when it cannot be sure


@dataclass(frozen=True)
class Limits:
    """How hard to try: retries, their time budget, backoff, timeouts, pages and concurrency."""

    retries: int = 4
    retry_budget: float = 60.0
    backoff_base: float = 0.2
    backoff_cap: float = 30.0
    timeout: float = 30.0
    concurrency: int = 32
    max_pages: int = MAX_PAGES


class Sender:
    """Sends requests for providers with their credentials, retrying what is transient."""

    def __init__(self, client: httpx.Client, credentials: Credentials, limits: Limits) -> None:
        self.client = client
        self.credentials = credentials
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.concurrency)
        self.sent = 0
        self.max_requests: int | None = None  # the request budget: no page is asked for beyond it
        self._count_lock = threading.Lock()

    def send(
        self,
        provider: Provider,
        request: Request,
        origin: str | None = None,
        reader: Reader | None = None,
        statuses: Collection[int] | None = None,
        scan: Scan | None = None,
    ) -> Response:
        """One request, retried within the budget; an ApiError when it finally fails.

        `origin`: where the credentials belong (the first request of a series); a request
        elsewhere goes without them. `statuses`: the only ones that count as success (the
        method's documented ones); any 2xx when not given. `scan`: a page whose next link it
        finds surely comes back unread (`Response.unread`), for a batch to read."""
        credentials_go = origin is None or same_origin(origin, request.url)
        auth = self.credentials.auth(provider, request) if credentials_go else None
        budget = Budget(
            self.limits.retries, self.limits.retry_budget, self.limits.backoff_base, self.limits.backoff_cap
        )
        while True:
            try:
                return self._attempt(provider, request, auth, reader, statuses, scan)
            except Transient as exc:
                wait = budget.wait_for(exc)
                if isinstance(wait, str):
                    raise self._error(
                        ApiError, provider, request, exc.status, None, f"{exc} ({wait})"
                    ) from None
                time.sleep(wait)

    def _error(
        self,
        kind: type[ApiError],
        provider: Provider,
        request: Request,
        status: int | None,
        code: str | None,
        message: str,
    ) -> ApiError:
        """An ApiError of `kind` with every known secret scrubbed from its text."""
        return kind(
            status=status,
            code=None if code is None else self.credentials.scrub(code),
            message=self.credentials.scrub(message),
            method=request.method,
            url=self.credentials.scrub(redact(request.url, provider.secret_query)),
            provider=provider.name,
        )

    def _attempt(
        self,
        provider: Provider,
        request: Request,
        auth: httpx.Auth | None,
        reader: Reader | None,
        statuses: Collection[int] | None,
        scan: Scan | None = None,
    ) -> Response:
        with self._count_lock:
            self.sent += 1
        url = request.url
        for _ in range(MAX_REDIRECTS + 1):
            with self._slots:
                status, headers, content = receive(
                    self.client, request, url, auth, self.limits.timeout, self.credentials.scrub
                )
            if not 300 <= status < 400:
                break
            url = self._redirect(provider, request, url, status, headers)
        else:
            raise self._error(ApiError, provider, request, status, None, f"more than {MAX_REDIRECTS} redirects")
        if status in RETRY_STATUSES:
            raise Transient(error_text(provider, status, content)[1], status, retry_after(headers.get("Retry-After")))
        if status >= 400:
            code, message = error_text(provider, status, content)
            if status in (401, 403):
                return self._refused(provider, request, status, code, message)
            raise self._error(ApiError, provider, request, status, code, message)
        if statuses and status not in statuses or not statuses and not 200 <= status < 300:
            documented = ", ".join(map(str, sorted(statuses or ()))) or "2xx"
            raise self._error(
                ApiError, provider, request, status, None,
                f"unexpected status {status}: {request.method} answers {documented}",
            )
        from runs_pandas import pages  # pyarrow: loaded on the first request, not on import

        if scan is not None:
            sure, link = scan(content) if pages.objects_page(content) else (False, None)
            if sure:
                return Response(request, status, headers, None, content, link=link, unread=True)
            reader = None  # parsed now (a cut-off body is retried), read after the pages held
        return self._read_body(request, status, headers, content, reader)

    def _read_body(
        self, request: Request, status: int, headers: httpx.Headers, content: bytes, reader: Reader | None
    ) -> Response:
        """A page read by `reader` (one row), or parsed; Transient when cut off or not JSON."""
        from runs_pandas import pages

        if reader is not None and pages.objects_page(content):
            try:
                table = reader(content)
            except (ValueError, KeyError, TypeError, NotImplementedError):  # Arrow's errors subclass these
                pass  # not sure: the dict path below reads it (and tells a cut-off body)
            else:
                if table.num_rows == 1:
                    return Response(request, status, headers, None, content, table)
        body: Any = None
        if content.strip():
            try:
                body = parse_json(content)
            except ValueError:
                raise Transient("the response body was cut off or is not JSON", status, None) from None
        return Response(request, status, headers, body, content)

    def _redirect(self, provider: Provider, request: Request, url: str, status: int, headers: httpx.Headers) -> str:
        """The target of a redirect within the same origin and scheme; an ApiError otherwise."""
        location = headers.get("Location")
        if not location:
            raise self._error(ApiError, provider, request, status, None, f"a redirect ({status}) without a Location")
        try:
            target = str(httpx.URL(url).join(location))
        except httpx.InvalidURL:
            target = location
        if not same_origin(url, target):
            raise self._error(
                ApiError, provider, request, status, None,
                f"redirected to {redact_safely(target, provider.secret_query)}, another origin than "
                f"{redact_safely(url, provider.secret_query)}; "
                f"runs_pandas follows redirects only within one origin and scheme, so it stopped",
            )
        return target

    def _refused(self, provider: Provider, request: Request, status: int, code: str | None, message: str) -> Response:
        """Raise the UnauthorizedError for a 401/403, naming where the credential came from."""
        verb = "refused" if status == 401 else "not allowed for this request"
        raise self._error(
            UnauthorizedError, provider, request, status, code,
            f"{message}. {provider.name} {verb} the credential from {self.credentials.source(provider, request)}; "
            f"check that it is current and has access (or set another there)",
        )

    def series(
        self,
        provider: Provider,
        method: Method,
        first: Request,
        on_page: OnPage | None = None,
        max_rows: int | None = None,
    ) -> Series:
        """All pages of one request: rows gathered until the paginator says stop.

        A failure ends the series but keeps the rows of the pages before it. A next page that
        was already fetched (the same URL, or the same content) or one past the page cap ends
        it with a PageError: paging never loops and never repeats rows. `max_rows` stops it
        once that many rows are in (a pushed-down LIMIT); the request budget (`max_requests`)
        stops it before a page beyond the budget, marking it `stopped`.
        """
        from runs_pandas import pages

        result = Series(first)
        result.columnar = self._columnar(method, first)
        reader: Reader | None = None
        columnar = result.columnar
        if columnar is not None:

            def reader(content: bytes) -> Any:
                assert columnar is not None
                table, columnar.schema = pages.read_page(content, columnar.schema, columnar.rows_key)
                return table

        scan = scanner(method.paginator, max_rows) if COLUMNAR else None
        held = Batches(self, provider, method, result, reader, on_page, scan is not None)
        request: Request | None = first
        seen_urls: set[str] = set()
        seen_pages: set[tuple[int, int]] = set()
        statuses = method.statuses or None
        fetched = 0
        try:
            while request is not None:
                if self.max_requests is not None and self.sent >= self.max_requests:
                    held.drain()
                    result.stopped = True
                    return result
                if fetched >= self.limits.max_pages:
                    raise self._error(
                        PageError, provider, request, None, None,
                        f"the series passed the page cap ({self.limits.max_pages} pages, setting "
                        f"max_pages) and was stopped; rows of the pages before are kept",
                    )
                response = self.send(provider, request, origin=first.url, reader=reader, statuses=statuses, scan=scan)
                # Python's keyed hash of the bytes (random per process, so a server cannot aim
                # at a collision) with the length: a third of the cost of blake2b
                digest = (len(response.content), hash(response.content))
                if digest in seen_pages:
                    raise self._error(
                        PageError, provider, request, response.status, None,
                        f"the server sent a page already seen (page {fetched + 1} repeats an "
                        f"earlier one of the series from {redact(first.url, provider.secret_query)}); it was stopped, "
                        f"the distinct rows are kept",
                    )
                seen_pages.add(digest)
                fetched += 1
                seen_urls.add(request.url)
                if held.holds(response):  # its rows are counted when its batch is read
                    rows_count, body = 0, {method.paginator.next_field: held.add(response)}
                else:
                    rows_count, body = held.take(response)
                following = self._following(
                    provider, method, request, body, rows_count, fetched - 1, response.headers
                )
                if following is not None and following.url in seen_urls:
                    raise self._error(
                        PageError, provider, following, response.status, None,
                        f"the next page is one already fetched (the series from {redact(first.url, provider.secret_query)} "
                        f"repeats); it was stopped, the distinct rows are kept",
                    )
                request = following
                gathered = sum(result.columnar.counts) if result.columnar is not None else len(result.rows)
                if max_rows is not None and gathered >= max_rows:
                    break
            held.drain()
        except ApiError as exc:
            try:
                held.drain()  # the rows of the pages before the failure
            except ApiError as earlier:
                exc = earlier
            result.error = self._not_found(provider, method, first, exc) if result.requests == 0 else exc
        return result

    def _not_found(self, provider: Provider, method: Method, first: Request, exc: ApiError) -> ApiError:
        """A 404 on a request for one object is a NotFoundError: no such object, not partial data."""
        if exc.status != 404 or method.rows != "$" or method.paginator.type != "none":
            return exc
        asked = ", ".join(f"{k}={v!r}" for k, v in first.args.items()) or "the params given"
        return self._error(
            NotFoundError, provider, first, 404, exc.code,
            f"not found: {first.resource} has no object for {asked} ({exc.api_message})",
        )

    def _take(self, provider: Provider, method: Method, result: Series, response: Response) -> tuple[int, Any]:
        """Add one page's rows to the series: (rows on the page, the body paging reads)."""
        import pyarrow as pa

        columnar = result.columnar
        if columnar is not None and response.table is not None:
            table = response.table
            values = table.column(columnar.rows_key)[0].values
            if values is not None and (values.null_count or not pa.types.is_struct(values.type)):
                columnar = None  # a null row, or rows that are not objects: the dict path below
            else:
                count = 0 if values is None else len(values)
                if count:
                    columnar.parts.append(values)
                columnar.counts.append(count)
                body: Any = {}
                next_field = method.paginator.next_field
                if next_field and next_field in table.column_names:
                    body = {next_field: table.column(next_field)[0].as_py()}
                return count, body
        from runs_pandas import pages

        body = response.body if response.table is None else parse_json(response.content)
        try:
            rows = pages.page_rows(body, method.rows)
        except pages.ShapeError as exc:
            raise self._error(PageError, provider, response.request, response.status, None, str(exc)) from None
        if result.columnar is not None:  # this page could not be read so: dicts from now on
            result.rows.extend(result.columnar.dict_rows())
            result.columnar = None
        result.rows.extend(rows)
        return len(rows), body

    def _following(
        self,
        provider: Provider,
        method: Method,
        request: Request,
        body: Any,
        rows: int,
        index: int,
        headers: httpx.Headers | None = None,
    ) -> Request | None:
        """The next page's request; a PageError when the page's next link is not a URL."""
        try:
            # every paginator builds the next URL by parsing (join, query merge): a link that
            # is not a URL raises here, so the URL needs no second parse
            following = next_request(method.paginator, request, body, rows, index, headers)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise self._error(
                PageError, provider, request, None, None, f"the page's next link cannot be followed: {exc}"
            ) from None
        return following

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
        schema = pages.page_schema(fields, parts[1], next_field, method.lift, first.fields)
        return Columnar(schema, parts[1])

    def many(
        self,
        jobs: list[tuple[Provider, Method, Request]],
        on_page: OnPage | None = None,
        max_rows: list[int | None] | None = None,
    ) -> list[Series]:
        """Request series fetched concurrently, in the order given (`max_rows` per series)."""
        caps = max_rows or [None] * len(jobs)
        if len(jobs) == 1:
            provider, method, request = jobs[0]
            return [self.series(provider, method, request, on_page, caps[0])]
        workers = max(1, min(self.limits.concurrency, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runs-pandas") as pool:
            futures = [
                pool.submit(self.series, p, m, r, on_page, cap) for (p, m, r), cap in zip(jobs, caps)
            ]
            return [f.result() for f in futures]
