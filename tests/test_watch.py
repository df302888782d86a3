"""`%%runsql --watch`: one display updated in place, stopping when no run is active."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox
from runs_pandas.watch import WatchView, active_runs, parse_interval, watch

pytestmark = pytest.mark.integration

ACTIVE = "SELECT id, status, createdAt, activeAt FROM airplane.runs.runs WHERE status IN ('Active', 'Queued', 'NotStarted')"
RECENT = "SELECT id, status FROM airplane.runs.runs ORDER BY createdAt DESC LIMIT 20"


class Screen:
    """A stand-in for IPython's display: it keeps the outputs and their updates."""

    def __init__(self) -> None:
        self.outputs: list[list[Any]] = []

    def __call__(self, view: Any, display_id: bool = False) -> Screen:
        assert display_id, "a watch display must be updatable"
        self.outputs.append([view])
        return self

    def update(self, view: Any) -> None:
        self.outputs[-1].append(view)


def test_intervals_read_as_a_user_writes_them() -> None:
    assert [parse_interval(t) for t in ("30s", "2m", "1h", "500ms", "5", "1.5s")] == [30, 120, 3600, 0.5, 5, 1.5]
    for bad in ("", "soon", "-3s", "0s", "3d"):
        with pytest.raises(rp.QueryError, match="--watch takes an interval such as 30s"):
            parse_interval(bad)


def test_watch_updates_one_display_until_the_runs_finish(fresh_sandbox: Sandbox) -> None:
    watcher = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False, cache_ttl=600))
    other = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False))
    first = rp.query(RECENT, session=watcher)
    assert active_runs(first) == 3 and len(first) == 20
    screen = Screen()
    waits: list[float] = []

    def cancel_one(seconds: float) -> None:  # between runs, someone else cancels a run
        waits.append(seconds)
        run_id = rp.query(ACTIVE, session=other)["id"].iloc[0]
        rp.query(f"EXEC airplane.runs.runs.cancelRun @runID='{run_id}'", session=other)

    last = watch(lambda: rp.query(RECENT, session=watcher), watcher, "30s", sleep=cancel_one, show=screen)
    assert len(screen.outputs) == 1  # one display, never stacked
    views = screen.outputs[0]
    assert [active_runs(v.frame) for v in views] == [3, 2, 1, 0]  # the cache did not hide a change
    assert waits == [30.0, 30.0, 30.0]
    assert len(last) == 20 and set(last["status"].head(3)) == {"Cancelled"}
    assert "no run is active: watching stopped" in views[-1].status
    assert "2 runs active" in views[1].status and "next in 30s" in views[1].status


def test_interrupt_stops_with_the_last_result(session: rp.Session) -> None:
    screen = Screen()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    last = watch(lambda: rp.query(ACTIVE, session=session), session, "1s", sleep=interrupted, show=screen)
    assert len(last) == 3
    assert len(screen.outputs) == 1 and "interrupted: watching stopped" in screen.outputs[0][-1].status


def test_a_result_without_run_status_is_watched_until_the_bound(session: rp.Session) -> None:
    screen = Screen()
    count = "SELECT count(*) AS n FROM airplane.runs.runs"
    watch(lambda: rp.query(count, session=session), session, "1ms", 3, show=screen)
    views = screen.outputs[0]
    assert len(views) == 3 and "stopped after 3 runs (--watch-max)" in views[-1].status
    assert active_runs(views[-1].frame) is None


def test_the_view_shows_table_footer_status_and_timeline(session: rp.Session) -> None:
    frame = rp.query("SELECT * FROM airplane.runs.runs LIMIT 30", session=session)
    bundle = WatchView(frame, "run 1 · next in 30s", timeline=True, limit=5)._repr_mimebundle_()
    assert "<table" in bundle["text/html"] and "runs-pandas-footer" in bundle["text/html"]
    assert 'src="data:image/png;base64,' in bundle["text/html"]
    assert bundle["text/plain"].endswith("run 1 · next in 30s") and "30 rows" in bundle["text/plain"]


def test_magic_watch_publishes_one_output_then_updates_it(ip: InteractiveShell) -> None:
    with capture_output() as captured:
        result = ip.run_cell_magic("runsql", "live << --watch 1ms --watch-max 3", ACTIVE)
    assert result is None  # nothing for the displayhook: outputs do not stack
    fresh = [o for o in captured.outputs if not o.update]
    updates = [o for o in captured.outputs if o.update]
    assert len(fresh) == 1 and len(updates) == 2
    ids = {o.transient["display_id"] for o in captured.outputs}
    assert len(ids) == 1
    assert "stopped after 3 runs" in updates[-1].data["text/html"]
    assert isinstance(ip.user_ns["live"], pd.DataFrame) and len(ip.user_ns["live"]) == 3


def test_magic_watch_stops_at_once_when_nothing_is_active(ip: InteractiveShell) -> None:
    with capture_output() as captured:
        ip.run_cell_magic("runsql", "--watch 30s", "SELECT id, status FROM airplane.runs.runs WHERE status = 'Succeeded' LIMIT 5")
    assert len(captured.outputs) == 1
    assert "no run is active" in captured.outputs[0].data["text/html"]
    assert len(ip.user_ns["_runsql_watched"]) == 5


def test_magic_watch_refuses_a_bad_interval(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="--watch takes an interval"):
        ip.run_cell_magic("runsql", "--watch often", RECENT)
    with pytest.raises(UsageError, match="--watch-max takes a number"):
        ip.run_cell_magic("runsql", "--watch 1s --watch-max 0", RECENT)


def test_watch_with_source_sync_asks_only_for_what_changed(tmp_path: Any) -> None:
    from datetime import UTC, datetime

    from runs_pandas.store.source import answer

    sandbox = Sandbox(acr_runs=50, databricks_runs=20, airplane_runs=800, now=datetime(2026, 11, 2, 9, tzinfo=UTC))
    sandbox.start()
    try:
        session = rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, store=str(tmp_path / "runs.duckdb")))
        sql = "SELECT id, status, createdAt FROM airplane.runs.runs"
        sent: list[int] = []

        def run() -> pd.DataFrame:
            before = len(sandbox.requests)
            frame = answer(sql, session=session, source="sync")
            sent.append(len(sandbox.requests) - before)
            return frame

        screen = Screen()
        watch(run, session, "1m", 3, sleep=lambda seconds: sandbox.advance(minutes=30), show=screen)
        views = screen.outputs[0]
        assert len(screen.outputs) == 1 and len(views) >= 2
        assert sent[0] >= 10  # the first run syncs every page
        assert all(n <= sent[0] / 4 for n in sent[1:]), sent  # later ones: what changed only
        assert len(views[-1].frame) > len(views[0].frame)  # new runs arrived and are shown
        live = rp.query(sql, session=session)
        assert set(views[-1].frame["id"]) == set(live["id"])
    finally:
        sandbox.stop()
