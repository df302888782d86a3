"""A progress bar for long fetches: pages and rows per resource, in Jupyter or a terminal.

tqdm.auto picks the notebook widget or the terminal bar; `leave=False` makes the bar
disappear when done. A fetch quicker than `delay` never shows a bar, so the bar (and tqdm,
with the widgets it brings in a notebook) is only made once a fetch has run that long.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from runs_pandas.http import Request


class Progress:
    """Counts pages and rows per resource while a query fetches."""

    def __init__(
        self, enabled: bool, total_series: int, delay: float = 0.5, **bar_options: Any
    ) -> None:
        self.pages: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self._lock = threading.Lock()
        self._bar: Any = None
        self._started = time.monotonic()
        self._delay = delay
        self._options: dict[str, Any] | None = None
        if enabled:
            self._options = {
                "total": None,
                "unit": " pages",
                "desc": f"fetching {total_series} series" if total_series > 1 else "fetching",
                "leave": False,
                "dynamic_ncols": True,
                **bar_options,
            }

    def _show(self) -> None:
        """Make the bar, once the fetch has taken `delay` seconds (caller holds the lock)."""
        if self._options is None or time.monotonic() - self._started < self._delay:
            return
        from tqdm.auto import tqdm

        done = sum(self.pages.values()) - 1  # the page being counted is added by update(1)
        self._bar = tqdm(initial=done, **self._options)
        self._options = None

    def __call__(self, request: Request, rows: int) -> None:
        with self._lock:
            self.pages[request.resource] = self.pages.get(request.resource, 0) + 1
            self.rows[request.resource] = self.rows.get(request.resource, 0) + rows
            if self._bar is None:
                self._show()
            if self._bar is not None:
                self._bar.set_postfix_str(
                    ", ".join(f"{_short(r)}: {n:,} rows" for r, n in self.rows.items()),
                    refresh=False,
                )
                self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _short(resource: str) -> str:
    """`azure.container_registry.runs` -> `container_registry.runs`: enough on one line."""
    return resource.split(".", 1)[-1]
