"""The charts people ask for about runs, as matplotlib Figures: `df.runs.plot(kind=...)`.

- "duration": a box of finished runs' durations per group (task, notebook, registry, ...);
- "failure_rate": failed / finished runs per day or hour, one line per group;
- "status": runs per status per day or hour, stacked bars coloured like the timeline;
- "timeline": the Gantt chart of `df.runs.timeline()`.

Each works on any runs frame (raw or normalized) and loads matplotlib on use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from runs_pandas.analysis.normalize import read_runs
from runs_pandas.analysis.resources import frame_error, require
from runs_pandas.analysis.schema import FINISHED, STATUSES
from runs_pandas.analysis.timeline import STATUS_COLORS, _display_figures_in_ipython, timeline

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

KINDS = ("duration", "failure_rate", "status", "timeline")
PERIODS = {"day": "D", "hour": "h"}
MAX_GROUPS = 20  # boxes or lines drawn at most (the groups with most runs)

__all__ = ["KINDS", "PERIODS", "plot"]


def plot(
    frame: pd.DataFrame,
    kind: str = "duration",
    *,
    by: str | None = None,
    per: str = "day",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """A Figure of `kind` (one of `KINDS`) for the runs of `frame`, grouped by `by`.

    `by` defaults to the resource; `per` ("day" or "hour") is the time bucket of
    "failure_rate" and "status", taken from each run's creation (else start) time in UTC.
    """
    if kind not in KINDS:
        raise frame_error(f"unknown plot kind {kind!r}; kinds are {', '.join(KINDS)}")
    if per not in PERIODS:
        raise frame_error(f"unknown period per={per!r}; use {' or '.join(repr(p) for p in PERIODS)}")
    if kind == "timeline":
        return timeline(frame, by, ax=ax, title=title)
    key = by or "resource"
    runs = read_runs(frame, None, [key], f"plot(kind={kind!r})")
    require(runs, [key], "plot(by=...)")
    _display_figures_in_ipython()
    figure, axes = _axes(ax)
    draw = {"duration": _duration, "failure_rate": _failure_rate, "status": _status}[kind]
    heading = draw(runs, key, PERIODS[per], axes)
    axes.set_title(title or heading)
    axes.grid(True, axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    return figure


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    figure = Figure(figsize=(10, 5), layout="constrained")
    return figure, figure.add_subplot()


def _groups(runs: pd.DataFrame, key: str) -> pd.Series:
    return runs[key].astype("str").where(runs[key].notna(), "(none)")


def _when(runs: pd.DataFrame, freq: str) -> pd.Series:
    at = runs["created_at"].where(runs["created_at"].notna(), runs["started_at"])
    return pd.to_datetime(at, utc=True).dt.tz_localize(None).dt.floor(freq)


def _top(groups: pd.Series) -> list[str]:
    return list(groups.value_counts().head(MAX_GROUPS).index)


def _duration(runs: pd.DataFrame, key: str, freq: str, ax: Axes) -> str:
    finished = runs[runs["status"].astype("str").isin(FINISHED) & runs["duration"].notna()]
    groups = _groups(finished, key)
    names = sorted(_top(groups))
    minutes = finished["duration"].dt.total_seconds() / 60
    data = [minutes[groups == name].to_numpy() for name in names]
    if data:
        ax.boxplot(data, orientation="horizontal", tick_labels=names, showfliers=True)
        ax.invert_yaxis()
    else:
        _empty(ax, "no finished runs with a duration")
    ax.set_xlabel("duration (minutes)")
    ax.set_ylabel(key)
    ax.grid(True, axis="x", alpha=0.3)
    return f"Duration of finished runs by {key}"


def _failure_rate(runs: pd.DataFrame, key: str, freq: str, ax: Axes) -> str:
    import matplotlib.ticker as mticker

    status = runs["status"].astype("str")
    work = pd.DataFrame(
        {
            "group": _groups(runs, key),
            "when": _when(runs, freq),
            "finished": status.isin(FINISHED),
            "failed": status.eq("failed"),
        }
    )
    work = work[work["finished"] & work["when"].notna()]
    top = _top(work["group"])
    counts = work[work["group"].isin(top)].groupby(["when", "group"])[["finished", "failed"]].sum()
    rate = (counts["failed"] / counts["finished"]).unstack("group").sort_index()
    for name in sorted(rate.columns):
        ax.plot(rate.index, rate[name].to_numpy(), marker="o", label=name)
    if rate.empty:
        _empty(ax, "no finished runs")
    else:
        ax.legend(title=key, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("failed / finished runs")
    _time_axis(ax, freq)
    return f"Failure rate per {_period(freq)} by {key}"


def _status(runs: pd.DataFrame, key: str, freq: str, ax: Axes) -> str:
    work = pd.DataFrame({"when": _when(runs, freq), "status": runs["status"].astype("str")})
    counts = work.dropna().groupby(["when", "status"]).size().unstack("status", fill_value=0)
    counts = counts.reindex(columns=[s for s in STATUSES if s in counts.columns]).sort_index()
    width = pd.Timedelta(1, freq).total_seconds() / 86_400 * 0.8  # days, as matplotlib dates
    bottom: Any = 0
    for name in counts.columns:
        values = counts[name].to_numpy()
        ax.bar(counts.index, values, width=width, bottom=bottom, color=STATUS_COLORS[name], label=name)
        bottom = bottom + values
    if counts.empty:
        _empty(ax, "no runs with a creation or start time")
    else:
        ax.legend(title="status", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_ylabel("runs")
    _time_axis(ax, freq)
    return f"Runs per status per {_period(freq)}"


def _time_axis(ax: Axes, freq: str) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(f"{_period(freq)} (UTC)")


def _period(freq: str) -> str:
    return next(name for name, code in PERIODS.items() if code == freq)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
