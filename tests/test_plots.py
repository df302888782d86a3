"""df.runs.plot(kind=...): each chart's content, labels and errors, over sandbox runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.errors import QueryError

pytestmark = pytest.mark.integration


@pytest.fixture()
def airplane(session: rp.Session) -> pd.DataFrame:
    return rp.query("SELECT * FROM airplane.runs.runs", session=session)


def test_duration_box_per_group_of_finished_runs(airplane: pd.DataFrame, tmp_path: Path) -> None:
    fig = airplane.runs.plot("duration", by="taskID")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == sorted(airplane["taskID"].unique())
    assert ax.get_xlabel() == "duration (minutes)" and ax.get_ylabel() == "taskID"
    assert ax.get_title() == "Duration of finished runs by taskID"
    runs = airplane.runs.normalize(keep=["taskID"])
    finished = runs[runs["status"].isin(["succeeded", "failed", "cancelled"])]
    medians = (finished.groupby("taskID")["duration"].median().dt.total_seconds() / 60).sort_index()
    # each box's median line sits at the group's median duration
    median_lines = [ln for ln in ax.lines if ln.get_color() in ("C1", "#ff7f0e")]
    assert [round(float(ln.get_xdata()[0]), 6) for ln in median_lines] == [
        round(float(m), 6) for m in medians
    ]
    fig.savefig(tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_failure_rate_per_day_is_failed_over_finished(airplane: pd.DataFrame) -> None:
    fig = airplane.runs.plot("failure_rate")
    ax = fig.axes[0]
    (line,) = ax.lines
    runs = airplane.runs.normalize()
    runs = runs[runs["status"].isin(["succeeded", "failed", "cancelled"])]
    day = runs["created_at"].dt.tz_localize(None).dt.floor("D")
    expected = runs["status"].eq("failed").groupby(day).mean().sort_index()
    assert list(pd.Series(line.get_ydata()).round(9)) == list(expected.round(9))
    assert ax.get_ylabel() == "failed / finished runs" and ax.get_xlabel() == "day (UTC)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["airplane.runs.runs"]
    hourly = airplane.runs.plot("failure_rate", per="hour").axes[0]
    assert len(hourly.lines[0].get_xdata()) > len(line.get_xdata())


def test_status_bars_stack_to_the_runs_of_each_period(airplane: pd.DataFrame) -> None:
    fig = airplane.runs.plot("status")
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    statuses = set(airplane.runs.normalize()["status"].astype(str))
    assert set(legend) == statuses
    assert sum(p.get_height() for p in ax.patches) == len(airplane)
    assert ax.get_ylabel() == "runs"


def test_timeline_kind_has_gridlines(airplane: pd.DataFrame) -> None:
    fig = airplane.runs.plot("timeline", by="taskID")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (UTC)"
    assert any(line.get_visible() for line in ax.get_xgridlines())
    assert fig.get_figheight() <= 16


def test_unknown_kind_or_period_names_the_choices(airplane: pd.DataFrame) -> None:
    with pytest.raises(QueryError, match="duration, failure_rate, status, timeline"):
        airplane.runs.plot("pie")
    with pytest.raises(QueryError, match="'day' or 'hour'"):
        airplane.runs.plot("status", per="week")
    with pytest.raises(QueryError, match="no column 'nope'"):
        airplane.runs.plot("duration", by="nope")
