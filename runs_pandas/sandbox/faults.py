"""Injected failures (throttling, outages, slow or cut-off pages) for testing client retries."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """Replace the answer to the next ``times`` requests whose target contains ``path_contains``.

    ``status`` 200 means "answer normally", which together with ``delay`` gives a slow page
    or with ``truncate`` a body cut off in the middle (the connection is then closed).
    """

    status: int = 503
    path_contains: str = ""
    times: int = 1
    retry_after: float | None = None
    delay: float = 0.0
    truncate: bool = False


@dataclass
class _Pending:
    fault: Fault
    remaining: int


class FaultQueue:
    """Thread-safe FIFO of pending faults; each request consumes at most one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault (ignored when ``times`` is not positive)."""
        if fault.times > 0:
            with self._lock:
                self._pending.append(_Pending(fault, fault.times))

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._pending.clear()

    def take(self, target: str) -> Fault | None:
        """The first pending fault matching this request target, using up one of its uses."""
        with self._lock:
            for entry in self._pending:
                if entry.fault.path_contains in target:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._pending.remove(entry)
                    return entry.fault
        return None


def retry_after_text(seconds: float) -> str:
    """A Retry-After value: whole seconds as an integer, fractions kept for fast tests."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
