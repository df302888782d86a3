"""Incremental sync against the sandbox with a moving clock: cursors, unfinished runs, widening."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pytest

import runs_pandas as rp
from runs_pandas.catalog import catalog
from runs_pandas.sandbox import Sandbox
from runs_pandas.sql.plan import plan
from runs_pandas.sql.read import read
from runs_pandas.store import Cursor, plan_increment
from runs_pandas.store.db import connect
from runs_pandas.store.write import write_series

from .test_store import AIRPLANE, DATABRICKS_KEY, acr_scopes, acr_sql, databricks_sql, same

pytestmark = pytest.mark.store


@pytest.fixture()
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(acr_runs=2000, databricks_runs=200, airplane_runs=2000, now=datetime(2026, 11, 2, 9, tzinfo=UTC),
                 page_size={"azure": 20})
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture()
def session(tmp_path: Path, sandbox: Sandbox) -> Iterator[rp.Session]:
    s = rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, store=str(tmp_path / "runs.duckdb")))
    yield s
    s.close()


def queries(sandbox: Sandbox) -> list[tuple[str, str | list[str]]]:
    return [(acr_sql(sandbox), ["registryName", "runId"]), (AIRPLANE, "id"), (databricks_sql(sandbox), DATABRICKS_KEY)]


def test_after_the_clock_moves_a_second_sync_sends_a_fraction_and_equals_a_live_query(
    session: rp.Session, sandbox: Sandbox
) -> None:
    first = {sql: rp.sync(sql, session=session) for sql, _ in queries(sandbox)}
    for sql, key in queries(sandbox):
        same(rp.query(sql, session=session), rp.query(sql, session=session, source="store"), key)
    sandbox.advance(hours=4)  # runs in progress finish, new runs arrive
    for sql, key in queries(sandbox):
        again = rp.sync(sql, session=session)
        assert again["error"].isna().all()
        if sql != databricks_sql(sandbox):  # clean-room runs have no time filter: fetched whole
            assert again["requests"].sum() <= 0.1 * first[sql]["requests"].sum()
            assert again["since"].notna().all()
        assert again["new"].sum() > 0 and again["updated"].sum() > 0
        same(rp.query(sql, session=session), rp.query(sql, session=session, source="store"), key)
    sent = len(sandbox.requests)
    stored = rp.query("SELECT status, count(*) AS n FROM airplane.runs.runs GROUP BY 1", session=session, source="store")
    assert len(sandbox.requests) == sent and stored.attrs["runs_pandas"]["requests"] == 0
    assert stored["n"].sum() == len(rp.query(AIRPLANE, session=session))


def test_syncing_twice_in_a_row_changes_nothing_and_sends_one_request_a_series(session: rp.Session, sandbox: Sandbox) -> None:
    sql = acr_sql(sandbox)
    rp.sync(sql, session=session)
    before = len(sandbox.requests)
    again = rp.sync(sql, session=session)
    assert (again["new"] == 0).all() and (again["updated"] == 0).all()
    assert len(sandbox.requests) - before == again["requests"].sum() == len(acr_scopes(sandbox))
    assert all("createTime ge" in httpx.URL(path).params["$filter"] for _, path in sandbox.requests[before:])


def test_a_run_unfinished_before_the_window_is_fetched_again_by_id_until_it_is_over(
    session: rp.Session, sandbox: Sandbox
) -> None:
    session.settings.sync_lag = 0  # the window starts at the newest run: older unfinished runs are outside it
    running = "SELECT id FROM airplane.runs.runs WHERE status NOT IN ('Succeeded', 'Failed', 'Cancelled')"
    sql = acr_sql(sandbox)
    for statement in (sql, AIRPLANE):
        rp.sync(statement, session=session)
    unfinished = set(rp.query(running, session=session, source="store")["id"])
    assert unfinished
    before = len(sandbox.requests)
    rp.sync(AIRPLANE, session=session)
    rp.sync(sql, session=session)
    paths = [path for _, path in sandbox.requests[before:]]
    asked = {httpx.URL(p).params["id"] for p in paths if "/runs/get?" in p}
    assert asked and asked <= unfinished  # a get-by-id for each one older than the window
    assert any("runId eq" in httpx.URL(p).params.get("$filter", "") for p in paths)  # ACR: an id filter
    sandbox.advance(hours=2)
    rp.sync(AIRPLANE, session=session)
    rp.sync(sql, session=session)
    assert not set(rp.query(running, session=session, source="store")["id"]) & unfinished
    for statement, key in ((AIRPLANE, "id"), (sql, ["registryName", "runId"])):
        same(rp.query(statement, session=session), rp.query(statement, session=session, source="store"), key)
    before = len(sandbox.requests)
    rp.sync(AIRPLANE, session=session)
    assert not [p for _, p in sandbox.requests[before:] if "/runs/get?" in p]  # over: not asked again


def call_of(sql: str) -> Any:
    statement = read(sql, catalog(), {})
    return next(iter(plan(statement.references, catalog()).values()))[0]


def test_without_a_way_to_ask_by_id_the_window_widens_to_the_oldest_unfinished_run(sandbox: Sandbox) -> None:
    call = call_of(acr_sql(sandbox))
    method = call.method.model_copy(update={"filters": tuple(f for f in call.method.filters if f.field != "runId")})
    call = dataclasses.replace(call, method=method)
    newest = datetime(2026, 11, 2, 8, tzinfo=UTC)
    old = newest - timedelta(days=2)
    step = plan_increment(call, Cursor(newest, (("ca1", old), ("ca2", newest))), timedelta(minutes=15))
    assert step.since == old and step.refetch == ()
    assert f"createTime ge {old:%Y-%m-%dT%H:%M:%S}" in step.window.kwargs["$filter"]
    with_ids = plan_increment(call_of(acr_sql(sandbox)), Cursor(newest, (("ca1", old),)), timedelta(minutes=15))
    assert with_ids.since == newest - timedelta(minutes=15)
    assert [c.kwargs["$filter"] for c in with_ids.refetch] == ["runId eq 'ca1'"]
    assert plan_increment(call, None, timedelta(0)).since is None  # the first sync is whole


def test_a_pushed_filter_stays_in_the_incremental_window(session: rp.Session, sandbox: Sandbox) -> None:
    sql = acr_sql(sandbox) + " AND status = 'Failed'"
    rp.sync(sql, session=session)
    before = len(sandbox.requests)
    rp.sync(sql, session=session)
    filters = [httpx.URL(p).params["$filter"] for _, p in sandbox.requests[before:]]
    assert filters and all("status eq 'Failed'" in f and "createTime ge" in f for f in filters)
    same(rp.query(sql, session=session), rp.query(sql, session=session, source="store"), ["registryName", "runId"])


def test_a_struct_that_gains_a_child_is_widened_not_cut(tmp_path: Path) -> None:
    session = rp.Session(settings=rp.Settings(store=str(tmp_path / "w.duckdb")))
    call = call_of(AIRPLANE)
    older = pa.table({"id": ["r1"], "status": ["Succeeded"], "resources": [{"slack": "s1"}],
                      "constraints": [{"labels": [{"key": "k", "value": "v"}]}]})
    newer = pa.table({"id": ["r2"], "status": ["Active"], "resources": [{"slack": "s2", "vault": "v2"}],
                      "constraints": [{"labels": [{"key": "k", "value": "v", "team": "ops"}]}], "zoneID": ["z"]})
    with connect(session) as con:
        write_series(con, call, older, 1, series="s", created=None)
        counts = write_series(con, call, newer, 1, series="s", created=None)
        rows = con.sql('SELECT id, resources, constraints, "zoneID" FROM "airplane.runs.runs" ORDER BY id').fetchall()
    assert counts["new"] == 1
    assert rows == [
        ("r1", {"slack": "s1", "vault": None}, {"labels": [{"key": "k", "value": "v", "team": None}]}, None),
        ("r2", {"slack": "s2", "vault": "v2"}, {"labels": [{"key": "k", "value": "v", "team": "ops"}]}, "z"),
    ]


class CountingTransport(httpx.HTTPTransport):
    """Counts requests in flight at once (the sync's concurrency as the server would see it)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = self.most = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return super().handle_request(request)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("concurrency", [1, 2])
def test_series_are_synced_concurrently_within_the_sessions_concurrency(
    tmp_path: Path, sandbox: Sandbox, concurrency: int
) -> None:
    transport = CountingTransport()
    sandbox.latency = 0.05
    settings = rp.Settings(progress=False, store=str(tmp_path / "c.duckdb"), concurrency=concurrency)
    with rp.Session(sandbox=sandbox, settings=settings, client=httpx.Client(transport=transport)) as s:
        report = rp.sync(acr_sql(sandbox), session=s)
    assert len(report) == len(acr_scopes(sandbox)) >= concurrency
    assert transport.most == concurrency
    con = duckdb.connect(settings.store, read_only=True)
    assert con.sql("SELECT count(DISTINCT series) FROM _runs_pandas_cursors").fetchall() == [(len(report),)]
    con.close()


def test_a_version_1_store_is_read_then_migrated_by_the_next_sync(session: rp.Session) -> None:
    rp.sync(AIRPLANE, session=session)
    con = duckdb.connect(session.settings.store)
    con.execute("DROP TABLE _runs_pandas_cursors")
    con.execute("UPDATE _runs_pandas_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    stored = rp.query(AIRPLANE, session=session, source="store")  # read-only: no migration needed
    report = rp.sync(AIRPLANE, session=session)
    assert report["since"].isna().all() and report["new"].sum() == 0  # no cursor yet: whole, nothing new
    assert report["unchanged"].sum() + report["updated"].sum() == len(stored)
    con = duckdb.connect(session.settings.store, read_only=True)
    assert con.sql("SELECT value FROM _runs_pandas_meta WHERE key = 'schema_version'").fetchall() == [("2",)]
    con.close()
    assert rp.sync(AIRPLANE, session=session)["since"].notna().all()


def test_a_sync_split_in_cursors_fetch_and_write_equals_sync_scopes(session: rp.Session, sandbox: Sandbox) -> None:
    """The three steps a Spark driver and its executors take give what sync_scopes gives."""
    from concurrent.futures import ThreadPoolExecutor

    from runs_pandas.store import cursors, fetch_increment, series_of, write_delta

    rid, scopes = "azure.container_registry.runs", acr_scopes(sandbox)
    for _ in range(2):  # a first, whole sync; then one from the cursors, after the clock moved
        found = cursors(rid, scopes, session)
        with ThreadPoolExecutor(2) as pool:  # where the fetch runs: no store there
            deltas = list(pool.map(lambda sc: fetch_increment(series_of(rid, sc[0]), sc[1], session), zip(scopes, found)))
        counts = [write_delta(rid, scope, delta, session) for scope, delta in zip(scopes, deltas)]
        assert all(c["new"] > 0 for c in counts)
        sandbox.advance(hours=6)
    assert all(c is not None and c.created is not None for c in found)
    assert all(d.since is not None for d in deltas)
    report = rp.sync(acr_sql(sandbox), session=session)  # the same cursors: the SQL's series are these scopes
    assert report["since"].notna().all()
    same(rp.query(acr_sql(sandbox), session=session), rp.query(acr_sql(sandbox), session=session, source="store"),
         ["registryName", "runId"])
