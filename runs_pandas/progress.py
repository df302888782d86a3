"""A progress bar for long fetches: pages and rows per resource, in Jupyter or a terminal.

tqdm.auto picks the notebook widget or the terminal bar; `delay` keeps quick fetches
quiet and `leave=False` makes the bar disappear when done.
"""

from __future__ import annotations

import threading
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
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=None,
                unit=" pages",
                desc=f"fetching {total_series} series" if total_series > 1 else "fetching",
                delay=delay,
                leave=False,
                dynamic_ncols=True,
                **bar_options,
            )

    def __call__(self, request: Request, rows: int) -> None:
        with self._lock:
            self.pages[request.resource] = self.pages.get(request.resource, 0) + 1
            self.rows[request.resource] = self.rows.get(request.resource, 0) + rows
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
