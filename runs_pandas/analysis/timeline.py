"""A Gantt chart of runs: one bar per run, grouped, stacked when concurrent, coloured by status.

matplotlib is imported on use, so importing this module stays light.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from runs_pandas.analysis.normalize import read_runs
from runs_pandas.analysis.resources import require
from runs_pandas.analysis.schema import ACTIVE, STATUSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TIMELINE_CAP = 2_000  # bars drawn at most (the most recent runs)
STATUS_COLORS = {
    "queued": "#9ecae1",
    "running": "#3182bd",
    "succeeded": "#31a354",
    "failed": "#de2d26",
    "cancelled": "#fd8d3c",
    "skipped": "#bdbdbd",
    "unknown": "#636363",
}

__all__ = ["STATUS_COLORS", "TIMELINE_CAP", "timeline"]


def timeline(
    frame: pd.DataFrame,
    by: str | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A Gantt chart: one bar per run from start (or creation) to end (or now), by group.

    Rows are grouped by `by` (default: resource; any column of the frame, such as
    "registryName"), concurrent runs of a group stack, colours show the status. At most
    `TIMELINE_CAP` bars are drawn, the most recent; the title says when capped.
    """
    key = by or "resource"
    runs = read_runs(frame, None, [key], "timeline()")
    require(runs, [key], "timeline(by=...)")
    _display_figures_in_ipython()
    return _draw(runs, key, ax, title)


def _display_figures_in_ipython() -> None:
    """Let IPython show a bare matplotlib Figure as a PNG.

    Without pyplot (or `%matplotlib inline`) a returned Figure prints as `<Figure ...>`;
    scripts get the Figure to save, notebooks see the chart.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or shell.display_formatter is None:
        return
    png = shell.display_formatter.formatters["image/png"]
    from IPython.core.pylabtools import print_figure

    png.for_type_by_name(
        "matplotlib.figure", "Figure", lambda figure: print_figure(figure, "png", bbox_inches="tight")
    )


def _draw(runs: pd.DataFrame, key: str, ax: Axes | None, title: str | None) -> Figure:
    """Draw normalized `runs` grouped by the column `key`, on `ax` or on a new Figure."""
    import matplotlib.dates as mdates
    import numpy as np
    from matplotlib.figure import Figure

    runs = runs.reset_index(drop=True)
    status = runs["status"].astype("str")
    start = runs["started_at"].where(runs["started_at"].notna(), runs["created_at"])
    now = pd.Timestamp.now(tz="UTC")
    end = runs["finished_at"].where(runs["finished_at"].notna() | ~status.isin(ACTIVE), now)
    end = end.where(end.notna() & (end >= start), start)
    drawable = start.notna()
    total = int(drawable.sum())
    table = pd.DataFrame(
        {
            "group": runs[key].astype("str").where(runs[key].notna(), "(none)")[drawable],
            "start": start[drawable],
            "end": end[drawable],
            "status": status[drawable],
        }
    ).reset_index(drop=True)
    capped = total > TIMELINE_CAP
    if capped:
        table = table.sort_values("start", ascending=False, kind="stable").head(TIMELINE_CAP)
    table = table.sort_values(["group", "start"], kind="stable").reset_index(drop=True)

    left = mdates.date2num(pd.DatetimeIndex(table["start"]).tz_localize(None).to_numpy())
    right = mdates.date2num(pd.DatetimeIndex(table["end"]).tz_localize(None).to_numpy())
    span = float(right.max() - left.min()) if len(table) else 0.0
    width = np.maximum(right - left, span * 0.002 or 1 / 86_400)  # a short run stays visible
    lanes = np.zeros(len(table), dtype=float)
    ticks: list[float] = []
    labels: list[str] = []
    offset = 0
    for group, rows in table.groupby("group", sort=True):
        lane_ends: list[float] = []  # concurrent runs of a group stack in lanes
        for position in rows.index:
            start_at, end_at = left[position], left[position] + width[position]
            lane = next((i for i, last in enumerate(lane_ends) if last <= start_at), len(lane_ends))
            if lane == len(lane_ends):
                lane_ends.append(end_at)
            else:
                lane_ends[lane] = end_at
            lanes[position] = offset + lane
        ticks.append(offset + (len(lane_ends) - 1) / 2)
        labels.append(str(group))
        offset += len(lane_ends) + 1  # a blank lane between groups

    if ax is None:
        figure = Figure(figsize=(11, min(2.0 + 0.22 * max(offset, 1), 16)), layout="constrained")
        ax = figure.add_subplot()
    else:
        figure = ax.get_figure(root=True)  # type: ignore[assignment]
    for name in STATUSES:
        mask = (table["status"] == name).to_numpy()
        if mask.any():
            ax.barh(
                lanes[mask],
                width[mask],
                left=left[mask],
                height=0.8,
                color=STATUS_COLORS[name],
                label=name,
                linewidth=0,
            )
    utc = dt.UTC
    locator = mdates.AutoDateLocator(tz=utc)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=utc))
    ax.set_xlabel("time (UTC)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(offset - 0.5 if offset else 0.5, -0.5)
    ax.set_ylabel(key)
    if len(table):
        ax.legend(title="status", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    else:
        ax.text(
            0.5,
            0.5,
            "no runs with a start or creation time",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    heading = title or f"Runs by {key}"
    if capped:
        heading += f" (most recent {TIMELINE_CAP:,} of {total:,} runs)"
    ax.set_title(heading)
    return figure
