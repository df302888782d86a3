"""`%%runsql --watch 30s`: rerun a query on an interval, updating one display in place.

Each run replaces the same output (an IPython display handle), table, footer and, with
`--timeline`, the timeline picture, so outputs never stack. Watching stops when no run in
the result is still active (queued or running, read through the catalog's run shape, as
`df.runs.normalize()` reads it), after `--watch-max` runs, or on interrupt (the kernel's
stop button); the last result is returned either way. A result with no run status
(an aggregate, say) is watched until `--watch-max` or an interrupt.

Each refresh asks the API again: the session's page cache is skipped for it, as a cached
page would hide the changes being watched. With `--source sync` a refresh is an incremental
sync into the run store (runs since the cursor, unfinished runs again by id), so it asks
only for what changed where the API allows it, and the result is read from the store.
"""

from __future__ import annotations

import base64
import html
import io
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import pandas as pd

from runs_pandas import render
from runs_pandas.errors import QueryError
from runs_pandas.session import Session

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)?\s*$")


def parse_interval(text: str) -> float:
    """`30s`, `2m`, `1h`, `500ms` or a number of seconds, as seconds."""
    match = _INTERVAL.match(text)
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"] if match else 0.0
    if seconds <= 0:
        raise QueryError(f"--watch takes an interval such as 30s, 2m, 1h or 500ms; got {text!r}")
    return seconds


def active_runs(frame: pd.DataFrame) -> int | None:
    """How many rows are runs still queued or running; None when the rows have no run status."""
    from runs_pandas.analysis import normalize
    from runs_pandas.analysis.schema import ACTIVE

    if len(frame) == 0:
        return 0
    try:
        runs = normalize(frame)
    except QueryError:
        return None
    return int(runs["status"].astype("str").isin(ACTIVE).sum())


def status_line(refresh: int, active: int | None, interval: float, stopping: str | None) -> str:
    """`run 3 at 12:04:05 · 2 runs active · next in 30s` (or why watching stopped)."""
    parts = [f"run {refresh} at {datetime.now().strftime('%H:%M:%S')}"]
    if active is not None:
        parts.append(f"{active} run{'s' if active != 1 else ''} active")
    parts.append(stopping or f"next in {_seconds(interval)} (interrupt to stop)")
    return " · ".join(parts)


class WatchView:
    """What one watch display shows: the result as the magic renders it, a status line, and
    the timeline picture when asked for. IPython renders it through `_repr_mimebundle_`."""

    def __init__(self, frame: pd.DataFrame, status: str, *, timeline: bool, limit: int | None) -> None:
        self.frame = frame
        self.status = status
        self.timeline = timeline
        self.limit = limit

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from runs_pandas import interactive

        markup = interactive.frame_html(self.frame, self.limit) if interactive.wanted() else None
        if markup is None:
            markup = render.bundle(self.frame, render.display_limit(self.frame, self.limit))["text/html"]
        picture = timeline_png(self.frame) if self.timeline else None
        if picture is not None:
            markup += f'<img class="runs-pandas-timeline" alt="timeline" src="data:image/png;base64,{picture}"/>'
        markup += f'<p class="runs-pandas-watch"><small>{html.escape(self.status)}</small></p>'
        text = render.frame_text(self.frame, self.limit) + "\n" + self.status
        return {"text/plain": text, "text/html": markup}


def watch(
    run: Callable[[], pd.DataFrame],
    session: Session,
    interval: str,
    max_runs: int | None = None,
    *,
    timeline: bool = False,
    limit: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    show: Callable[..., Any] | None = None,
) -> pd.DataFrame:
    """Run `run()` every `interval` into one display until no run is active; the last result.

    `show` is IPython's `display` (tests pass their own); `sleep` waits between runs.
    """
    seconds = parse_interval(interval)
    if show is None:
        from IPython.display import display

        show = cast(Any, display)  # IPython's display is untyped
    handle: Any = None
    frame: pd.DataFrame | None = None
    refresh = 0
    try:
        while True:
            refresh += 1
            frame = _fresh(run, session)
            active = active_runs(frame)
            stopping = None
            if active == 0:
                stopping = "no run is active: watching stopped"
            elif max_runs is not None and refresh >= max_runs:
                stopping = f"stopped after {refresh} runs (--watch-max)"
            view = WatchView(frame, status_line(refresh, active, seconds, stopping), timeline=timeline, limit=limit)
            if handle is None:
                handle = show(view, display_id=True)
            else:
                handle.update(view)
            if stopping:
                return frame
            sleep(seconds)
    except KeyboardInterrupt:
        if frame is None:
            raise
        if handle is not None:
            view = WatchView(frame, status_line(refresh, active_runs(frame), seconds, "interrupted: watching stopped"),
                             timeline=timeline, limit=limit)
            handle.update(view)
        return frame


def _fresh(run: Callable[[], pd.DataFrame], session: Session) -> pd.DataFrame:
    """One run that asks the API again: a cached page would hide what changed."""
    if session.settings.cache_ttl > 0:
        session.forget()
    return run()


def timeline_png(frame: pd.DataFrame) -> str | None:
    """The runs' timeline as base64 PNG, or None when the rows are not runs."""
    from runs_pandas.analysis import timeline

    if len(frame) == 0:
        return None
    try:
        figure = timeline(frame)
    except QueryError:
        return None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def show_timeline(frame: pd.DataFrame) -> None:
    """Display the timeline of a result (`--timeline` without `--watch`), or say why not."""
    from IPython.display import Image, display

    picture = timeline_png(frame)
    if picture is None:
        print("--timeline: the result has no runs to draw (it needs run ids, statuses and times)")
        return
    display(Image(data=base64.b64decode(picture), format="png"))


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value >= 60 and value % 60 == 0:
        return f"{value / 60:.0f}m"
    return f"{value:g}s"
