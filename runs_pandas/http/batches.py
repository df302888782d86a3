"""Pages read into Arrow in bounded batches, each batch read while the next pages arrive.

A page whose next link was found in its bytes (`http.scan`) waits, unread, in a batch
bounded by pages, bytes and age; a full batch is joined (one page a line) and read by one
pyarrow call on a reader thread (pyarrow releases the GIL) while the series fetches on.
Memory at any moment is the rows read plus about two batches of bytes.

A batch's read is taken in page order on the series' thread: each page's next link from
the read must be the one followed, and the first page that fails (the reader is unsure,
a shape error, a cut-off body fetched again) is handled as the page-at-a-time path would,
so the rows of the pages before a failure are kept and the pages after it are dropped.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runs_pandas.catalog import Method, Paginator, Provider
from runs_pandas.errors import PageError
from runs_pandas.http.request import Request
from runs_pandas.http.retry import Transient
from runs_pandas.http.scan import top_level
from runs_pandas.http.wire import Response, Series

if TYPE_CHECKING:
    from runs_pandas.http.client import OnPage, Reader, Sender

MAX_PAGES = 50  # pages a batch holds: pyarrow's per-call cost is then a few percent
MAX_BYTES = 8 << 20
MAX_AGE = 0.5  # seconds: a slow server's pages are still read (and counted) as they come

Scan = Callable[[bytes], tuple[bool, Any]]  # page bytes -> (sure, its next link)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _readers() -> ThreadPoolExecutor:
    """The reader threads shared by all series (made on the first batch)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="runs-pandas-read")
        return _pool


def scanner(paginator: Paginator, max_rows: int | None) -> Scan | None:
    """How a series' pages are found unread, for batches: their next link in their bytes.
    Not under a LIMIT (each page's rows decide whether to go on) nor for page numbers (a
    short page stops the series): those pages are read one by one as they come."""
    if max_rows is not None:
        return None
    key = paginator.next_field
    if paginator.type in ("next_link", "token") and key:
        return lambda content: top_level(content, key)
    if paginator.type == "link_header":
        return lambda content: (True, None)
    return None


@dataclass
class Page:
    """A page fetched and not yet read: where its bytes are in its batch, its next link."""

    request: Request
    status: int
    headers: Any
    link: Any
    start: int = 0
    end: int = 0


@dataclass
class Read:
    """A batch as one read made it: rows per page, each page's next link, the next schema."""

    parts: list[Any]  # the rows, a pyarrow StructArray per block read
    counts: list[int]
    links: list[Any]
    schema: Any


@dataclass
class Batch:
    pages: list[Page] = field(default_factory=list)
    contents: list[bytes] = field(default_factory=list)
    size: int = 0
    started: float = 0.0


def read_batch(content: bytes, count: int, longest: int, schema: Any, rows_key: str, next_field: str | None) -> Read | None:
    """`count` pages (one a line) read by one pyarrow call; None when the reader is unsure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from runs_pandas import pages

    try:
        table, schema = pages.read_page(content, schema, rows_key, longest=longest)
    except (ValueError, KeyError, TypeError, NotImplementedError):  # Arrow's errors subclass these
        return None
    if table.num_rows != count or next_field and next_field not in table.column_names:
        return None
    parts: list[Any] = []
    counts: list[int] = []
    for chunk in table.column(rows_key).chunks:
        values = chunk.flatten()
        if values.null_count or not pa.types.is_struct(values.type):
            return None  # a null row, or rows that are not objects: page by page
        if len(values):
            parts.append(values)
        counts.extend(pc.fill_null(pc.list_value_length(chunk), 0).to_pylist())
    links = table.column(next_field).to_pylist() if next_field else [None] * count
    return Read(parts, counts, links, schema)


class Batches:
    """The unread pages of one series and the batch being read; `add`, then `drain`."""

    def __init__(
        self,
        sender: Sender,
        provider: Provider,
        method: Method,
        result: Series,
        reader: Reader | None,
        on_page: OnPage | None,
        scanning: bool,
    ) -> None:
        self.sender, self.provider, self.method, self.result = sender, provider, method, result
        self.reader, self.on_page, self.scanning = reader, on_page, scanning
        self.next_field = method.paginator.next_field
        self.batch = Batch()
        self.reading: tuple[Batch, bytes, Future[Read | None]] | None = None

    def __bool__(self) -> bool:
        return bool(self.batch.pages) or self.reading is not None

    def add(self, response: Response) -> None:
        """Hold one unread page; a full batch goes to a reader (after the one before is taken)."""
        batch = self.batch
        if not batch.pages:
            batch.started = time.monotonic()
        batch.pages.append(Page(response.request, response.status, response.headers, response.link))
        batch.contents.append(response.content)
        batch.size += len(response.content)
        if len(batch.pages) >= MAX_PAGES or batch.size >= MAX_BYTES or time.monotonic() - batch.started >= MAX_AGE:
            self._take_reading()
            self.batch = Batch()
            joined = self._join(batch)
            columnar = self.result.columnar
            if columnar is None:
                self.reading = (batch, joined, _done(None))
            else:
                self.reading = (batch, joined, _readers().submit(
                    read_batch, joined, len(batch.pages), max(map(len, batch.contents or [b""])),
                    columnar.schema, columnar.rows_key, self.next_field,
                ))
            batch.contents = []

    def take(self, response: Response) -> tuple[int, Any]:
        """A page read (or parsed) as it came, after the pages held: (its rows, its body).
        A page the scan was unsure of was only parsed: it is read now, in its turn."""
        if self:
            self.drain()
        if self.scanning and self.reader is not None and self.result.columnar is not None and response.table is None:
            response = self.sender._read_body(
                response.request, response.status, response.headers, response.content, self.reader
            )
        count, body = self.sender._take(self.provider, self.method, self.result, response)
        self.result.requests += 1
        if self.on_page is not None:
            self.on_page(response.request, count)
        return count, body

    def drain(self) -> None:
        """Take every page held, in order; an ApiError (the pages after it dropped) on a failure."""
        try:
            self._take_reading()
            batch, self.batch = self.batch, Batch()
            if batch.pages:
                longest = max(map(len, batch.contents))
                joined = self._join(batch)
                batch.contents = []
                columnar = self.result.columnar
                read = None if columnar is None else read_batch(
                    joined, len(batch.pages), longest, columnar.schema, columnar.rows_key, self.next_field
                )
                self._take(batch, joined, read)
        finally:
            self.batch, self.reading = Batch(), None

    def _take_reading(self) -> None:
        if self.reading is not None:
            batch, joined, future = self.reading
            self.reading = None
            try:
                self._take(batch, joined, future.result())
            except BaseException:
                self.batch = Batch()  # the pages after a failure are dropped
                raise

    @staticmethod
    def _join(batch: Batch) -> bytes:
        at = 0
        for page, content in zip(batch.pages, batch.contents):
            page.start, page.end = at, at + len(content)
            at = page.end + 1
        return b"\n".join(batch.contents)

    def _take(self, batch: Batch, joined: bytes, read: Read | None) -> None:
        """The batch's pages into the series: from its read, or page by page when unsure."""
        result, columnar = self.result, self.result.columnar
        if read is None or columnar is None:
            for index, page in enumerate(batch.pages):
                self._take_one(batch, index, page, joined[page.start:page.end])
            return
        bad = next((i for i, (p, link) in enumerate(zip(batch.pages, read.links)) if link != p.link), None)
        if bad is not None:  # rows of the pages before it, then the error
            kept = sum(read.counts[:bad])
            self._add_rows(batch, read, kept, bad)
            raise self._mismatch(batch, bad)
        self._add_rows(batch, read, sum(read.counts), len(batch.pages))
        columnar.schema = read.schema

    def _add_rows(self, batch: Batch, read: Read, rows: int, pages: int) -> None:
        import pyarrow as pa

        columnar = self.result.columnar
        assert columnar is not None
        parts = read.parts
        if rows < sum(len(p) for p in parts):
            parts = [pa.concat_arrays(parts).slice(0, rows)] if rows else []
        columnar.parts.extend(parts)
        columnar.counts.extend(read.counts[:pages])
        for index in range(pages):
            self.result.requests += 1
            if self.on_page is not None:
                self.on_page(batch.pages[index].request, read.counts[index])

    def _take_one(self, batch: Batch, index: int, page: Page, content: bytes) -> None:
        """One page of a batch the reader was unsure of, as the page-at-a-time path takes it."""
        sender = self.sender
        try:
            response = sender._read_body(page.request, page.status, page.headers, content, self.reader)
        except Transient:  # cut off: fetched again (with its retries)
            response = sender.send(self.provider, page.request, origin=self.result.first.url,
                                   reader=self.reader, statuses=self.method.statuses or None)
        if self.next_field and _link(response, self.next_field) != page.link:
            raise self._mismatch(batch, index)
        count, _ = sender._take(self.provider, self.method, self.result, response)
        self.result.requests += 1
        if self.on_page is not None:
            self.on_page(page.request, count)

    def _mismatch(self, batch: Batch, index: int) -> PageError:
        page = batch.pages[index]
        error = self.sender._error(
            PageError, self.provider, page.request, page.status, None,
            f"the page's next link ({self.next_field}) reads differently from its bytes than from the "
            f"whole page (the field given twice, or the body changed when fetched again); the series "
            f"was stopped, rows of the pages before are kept",
        )
        assert isinstance(error, PageError)
        return error


def _link(response: Response, key: str) -> Any:
    """The page's next link as its read (or parse) has it."""
    if response.table is not None:
        return response.table.column(key)[0].as_py() if key in response.table.column_names else None
    return response.body.get(key) if isinstance(response.body, dict) else None


def _done(value: Read | None) -> Future[Read | None]:
    future: Future[Read | None] = Future()
    future.set_result(value)
    return future
