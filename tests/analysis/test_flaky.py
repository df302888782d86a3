"""flaky(): the planted flaky task and notebook are found, and no other group is."""

from __future__ import annotations

import pandas as pd
import pytest

from runs_pandas.errors import RunsError

PLANTED = {"wingtipapps/checkout-worker", "ad_measurement/attribution_multi_touch"}


def test_finds_the_planted_flaky_groups_and_nothing_else(runs: dict[str, pd.DataFrame]) -> None:
    both = pd.concat([runs["azure"], runs["databricks"], runs["airplane"]], ignore_index=True)
    table = both.runs.flaky()
    assert set(table.index[table["flaky"]]) == PLANTED
    assert set(table.index[:2]) == PLANTED  # worst first
    stable = table.drop(index=list(PLANTED))
    assert (stable["score"] < 0.3).all() and len(stable) > 20


def test_counts_flips_in_time_order_and_leaves_out_cancelled() -> None:
    base = pd.Timestamp("2026-11-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "provider": "x",
            "resource": "r",
            "run_id": [f"r{i}" for i in range(6)],
            "status": pd.Categorical(
                ["succeeded", "failed", "cancelled", "failed", "succeeded", "succeeded"]
            ),
            "status_raw": "s",
            "created_at": [base + pd.Timedelta(hours=h) for h in (5, 0, 1, 2, 3, 4)],
            "started_at": pd.Series([pd.NaT] * 6, dtype="datetime64[us, UTC]"),
            "finished_at": pd.Series([pd.NaT] * 6, dtype="datetime64[us, UTC]"),
            "duration": pd.Series([pd.NaT] * 6, dtype="timedelta64[us]"),
            "error": None,
            "task": "t",
        }
    )
    row = frame.runs.flaky(by="task", min_runs=1).loc["t"]
    # time order: failed, cancelled (left out), failed, succeeded, succeeded, succeeded
    assert row["outcomes"] == 5 and row["left_out"] == 1
    assert row["flips"] == 1 and row["flip_rate"] == pytest.approx(0.25)


def test_an_unknown_group_column_is_a_clear_error(runs: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(RunsError, match="no_such_column"):
        runs["azure"].runs.flaky(by="no_such_column")
