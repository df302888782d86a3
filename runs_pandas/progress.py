"""A progress line for long fetches: pages, rows and rate per resource, an ETA when known.

It appears only after `delay` seconds, so quick fetches stay quiet, and it is gone when the
fetch ends. While the number of pages is unknown the bar is indeterminate (it never looks
full at "21/?"); where every series' page count is known (a row cap and a page size) it
fills and gives an ETA.

Where it is drawn (a `View`): in a kernel, one HTML display updated in place (no widget
model, so nothing is left behind that a notebook could fail to find later); in a form,
the form's own progress widget (`shown_in`); elsewhere a line on stderr.
"""

from __future__ import annotations

import html
import math
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TextIO

from runs_pandas.http import Request

REFRESH = 0.25  # seconds between redraws


class View(Protocol):
    """Where the progress is drawn: `show(text, html)` redraws it, `hide()` removes it."""

    def show(self, text: str, markup: str) -> None: ...

    def hide(self) -> None: ...


_VIEW: ContextVar[View | None] = ContextVar("runs_pandas_progress_view", default=None)


@contextmanager
def shown_in(view: View) -> Iterator[None]:
    """Draw the progress of fetches started inside the block in `view` (a form's widget)."""
    token = _VIEW.set(view)
    try:
        yield
    finally:
        _VIEW.reset(token)


class Progress:
    """Counts pages and rows per resource while a query fetches, and draws them."""

    def __init__(
        self,
        enabled: bool,
        total_series: int,
        delay: float = 0.5,
        *,
        expected_pages: Sequence[int | None] = (),
        view: View | None = None,
    ) -> None:
        self.pages: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.series = total_series
        known = list(expected_pages)
        self.total: int | None = (
            sum(p for p in known if p is not None)
            if known and len(known) == total_series and all(p is not None for p in known)
            else None
        )
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._first: dict[str, float] = {}
        self._delay = delay
        self._drawn = 0.0
        self._view: View | None = None
        if enabled:
            self._view = view or _VIEW.get() or _default_view()

    def __call__(self, request: Request, rows: int) -> None:
        with self._lock:
            now = time.monotonic()
            resource = request.resource
            self._first.setdefault(resource, self._started)
            self.pages[resource] = self.pages.get(resource, 0) + 1
            self.rows[resource] = self.rows.get(resource, 0) + rows
            if self._view is None or now - self._started < self._delay or now - self._drawn < REFRESH:
                return
            self._drawn = now
            self._view.show(self.text(now), self.markup(now))

    # -- what is drawn

    def done_pages(self) -> int:
        return sum(self.pages.values())

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, from the pages still to come at the rate so far; None when unknown."""
        done = self.done_pages()
        if self.total is None or not done:
            return None
        elapsed = (now or time.monotonic()) - self._started
        return max(0.0, (self.total - done) * elapsed / done)

    def rates(self, now: float | None = None) -> list[tuple[str, int, float]]:
        """(resource, rows, rows per second) for each resource seen."""
        now = now or time.monotonic()
        return [
            (r, n, n / max(now - self._first.get(r, self._started), 1e-6)) for r, n in self.rows.items()
        ]

    def text(self, now: float | None = None) -> str:
        """`fetching 21/? pages · container_registry.runs: 2,100 rows (420/s)`, with an ETA if known."""
        now = now or time.monotonic()
        head = "fetching" if self.series <= 1 else f"fetching {self.series} series"
        total = "?" if self.total is None else f"{self.total:,}"
        parts = [f"{head} {self.done_pages():,}/{total} pages"]
        parts += [f"{_short(r)}: {n:,} rows ({rate:,.0f}/s)" for r, n, rate in self.rates(now)]
        eta = self.eta(now)
        if eta is not None:
            parts.append(f"ETA {_seconds(eta)}")
        return " · ".join(parts)

    def markup(self, now: float | None = None) -> str:
        """The HTML line: a bar (indeterminate while the total is unknown) and the text."""
        if self.total is None:
            bar = (
                '<div class="runs-pandas-progress-bar runs-pandas-indeterminate" title="pages: total unknown" '
                'style="width:160px;height:8px;border-radius:4px;display:inline-block;vertical-align:middle;'
                "background:repeating-linear-gradient(45deg,#90caf9 0 8px,#e3f2fd 8px 16px);"
                'background-size:22px 22px;animation:runs-pandas-stripes 1s linear infinite"></div>'
                "<style>@keyframes runs-pandas-stripes{from{background-position:0 0}"
                "to{background-position:22px 0}}</style>"
            )
        else:
            share = min(1.0, self.done_pages() / max(self.total, 1))
            bar = (
                f'<progress class="runs-pandas-progress-bar" value="{self.done_pages()}" max="{self.total}" '
                f'style="width:160px;vertical-align:middle" title="{share:.0%}"></progress>'
            )
        return (
            f'<div class="runs-pandas-progress" style="font-size:0.9em">{bar} '
            f"<span>{html.escape(self.text(now))}</span></div>"
        )

    def close(self) -> None:
        with self._lock:
            if self._view is not None and self._drawn:
                self._view.hide()
            self._view = None


def expected_pages(paginator: Any, args: dict[str, Any], max_rows: int | None) -> int | None:
    """Pages one series will take when both its row cap and page size are known, else None.

    `paginator` is the method's catalog paginator; `args` the request's params.
    """
    if paginator.type == "none":
        return 1
    size = args.get(paginator.size_param) if paginator.size_param else None
    size = size if isinstance(size, int) and size > 0 else paginator.default_size
    if max_rows is None or not size:
        return None
    return max(1, math.ceil(max_rows / size))


class DisplayView:
    """One notebook display (text and HTML) updated in place, emptied at the end.

    Fetches of one cell (a `--watch` refresh after another) reuse the same display, so
    progress never stacks outputs.
    """

    _cell: tuple[object, Any] | None = None  # (the cell's execution count, its display)

    def __init__(self) -> None:
        self._handle: Any = None

    def show(self, text: str, markup: str) -> None:
        from IPython import get_ipython
        from IPython.display import display

        bundle = {"text/plain": text, "text/html": markup}
        cell = getattr(get_ipython(), "execution_count", None)
        if self._handle is None and DisplayView._cell is not None and DisplayView._cell[0] == cell:
            self._handle = DisplayView._cell[1]
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
            DisplayView._cell = (cell, self._handle)
        else:
            self._handle.update(bundle, raw=True)

    def hide(self) -> None:
        if self._handle is not None:
            self._handle.update({"text/plain": "", "text/html": ""}, raw=True)


class LineView:
    """One line on a terminal (stderr), redrawn with a carriage return and wiped at the end."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._width = 0

    def show(self, text: str, markup: str) -> None:
        line = text[:159]
        out = self._stream or sys.stderr
        out.write("\r" + line.ljust(self._width))
        out.flush()
        self._width = len(line)

    def hide(self) -> None:
        out = self._stream or sys.stderr
        out.write("\r" + " " * self._width + "\r")
        out.flush()


def _default_view() -> View:
    """A display in a kernel (Jupyter), else a line on stderr."""
    shell: Any = None
    if "IPython" in sys.modules:
        from IPython import get_ipython

        shell = get_ipython()
    return DisplayView() if getattr(shell, "kernel", None) is not None else LineView()


def _seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _short(resource: str) -> str:
    """`azure.container_registry.runs` -> `container_registry.runs`: enough on one line."""
    return resource.split(".", 1)[-1]
