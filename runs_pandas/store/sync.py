"""Sync: bring into the store what a SELECT (or a list of scopes) would fetch, incrementally.

Series are fetched concurrently (one request limit: the session's concurrency) and each is
written in its own transaction as it arrives. After a series' first sync only runs created
since its cursor (minus `sync_lag`) are asked for, and the runs not finished at the last
sync are asked for again until they are: see `runs_pandas.store.increment`. A series that
fails writes nothing and leaves the others written.

    sync("SELECT * FROM airplane.runs.runs", session=Session(sandbox=True))
    sync_scopes("azure.container_registry.runs", [{"subscriptionId": ..., "registryName": ...}])
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

import pandas as pd

from runs_pandas.catalog import catalog
from runs_pandas.errors import ApiError, fetch_failure
from runs_pandas.session import Session, default_session
from runs_pandas.sql.plan import Call, plan, plan_scopes
from runs_pandas.sql.read import read
from runs_pandas.store.db import CURSORS, StoreError, connect, has_cursors, quote, stored_tables, table_name
from runs_pandas.store.increment import TERMINAL, Cursor, Delta, created_column, fetch_increment, state_of
from runs_pandas.store.write import columns, key_columns, scope_text, series_key, write_series

if TYPE_CHECKING:
    import duckdb

REPORT = ["resource", "scope", "new", "updated", "unchanged", "requests", "seconds", "since", "error"]


def sync(sql: str, params: Mapping[str, Any] | None = None, session: Session | None = None) -> pd.DataFrame:
    """Store what the SELECT `sql` would fetch; one row per request series with its counts."""
    session = session or default_session()
    statement = read(sql, catalog(), dict(params or {}))
    if statement.kind != "select":
        raise StoreError(f"sync takes a SELECT statement (got {statement.kind.upper()}): it stores what the SELECT fetches")
    calls = plan(statement.references, catalog())
    return sync_calls([c for series in calls.values() for c in series], session, sql=sql)


def sync_scopes(
    resource_id: str, scopes: Sequence[Mapping[str, Any]], session: Session | None = None
) -> pd.DataFrame:
    """Sync one resource for the given scopes (dicts of param values), each from its cursor.

    The stable entry point for callers that hold scopes rather than SQL (the accessor,
    Spark's driver): one row per scope, as `sync` reports.
    """
    session = session or default_session()
    calls = plan_scopes(catalog().resource(resource_id), scopes, catalog())
    return sync_calls(calls, session, sql=f"-- sync {resource_id} for {len(calls)} scope(s)")


def series_of(resource_id: str, scope: Mapping[str, Any]) -> Call:
    """The request series that fetches one scope of a resource (what `fetch_increment` takes)."""
    return plan_scopes(catalog().resource(resource_id), [scope], catalog())[0]


def cursors(
    resource_id: str, scopes: Sequence[Mapping[str, Any]], session: Session | None = None
) -> list[Cursor | None]:
    """Each scope's cursor in the store (None: never synced), for fetching elsewhere.

    With `fetch_increment` (run where the fetch runs, e.g. a Spark executor) and
    `write_delta` (back where the store is), a sync split in three:

        found = cursors(rid, scopes)
        deltas = [fetch_increment(series_of(rid, s), c, session) for s, c in zip(scopes, found)]
        for scope, delta in zip(scopes, deltas): write_delta(rid, scope, delta)
    """
    session = session or default_session()
    with connect(session) as con:
        return [cursor(con, series_of(resource_id, scope)) for scope in scopes]


def write_delta(
    resource_id: str, scope: Mapping[str, Any], delta: Delta, session: Session | None = None
) -> dict[str, int]:
    """Write what `fetch_increment` brought for one scope, in one transaction; its counts."""
    if delta.failures:
        raise StoreError(f"{resource_id} {dict(scope)}: the fetch failed ({delta.failures[0]}); nothing is written")
    session = session or default_session()
    call = series_of(resource_id, scope)
    with connect(session) as con:
        return write_series(con, call, delta.table, delta.requests, series=series_key(call), created=delta.cursor.created)


def sync_calls(calls: Sequence[Call], session: Session, *, sql: str) -> pd.DataFrame:
    """Sync the given request series concurrently, each written in its own transaction."""
    rows: dict[int, dict[str, Any]] = {}
    failures: list[ApiError] = []
    with connect(session) as con:
        cursors = [cursor(con, call) for call in calls]
        sender = session.sender()
        workers = max(1, min(session.settings.concurrency, len(calls)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runs-pandas-sync") as pool:
            started = time.perf_counter()
            futures: dict[Future[Delta], int] = {
                pool.submit(fetch_increment, call, cursors[i], session, sender=sender): i
                for i, call in enumerate(calls)
            }
            for future in as_completed(futures):
                index = futures[future]
                call, delta = calls[index], future.result()
                row: dict[str, Any] = {"resource": call.resource.id, "scope": scope_text(call)}
                if delta.failures:
                    failures.extend(delta.failures)
                    row.update(new=0, updated=0, unchanged=0, error=str(delta.failures[0]))
                else:
                    counts = write_series(con, call, delta.table, delta.requests,
                                          series=series_key(call), created=delta.cursor.created)
                    row.update(counts, error=None)
                row.update(requests=delta.requests, seconds=round(time.perf_counter() - started, 3),
                           since=None if delta.since is None else pd.Timestamp(delta.since))
                rows[index] = row
    frame = pd.DataFrame([rows[i] for i in sorted(rows)], columns=REPORT)
    frame["since"] = pd.to_datetime(frame["since"], utc=True)
    frame.attrs["runs_pandas"] = {"sql": sql, "source": "sync", "requests": int(frame["requests"].sum())}
    if failures:
        raise fetch_failure(
            f"{len(failures)} request series failed; the others are stored", frame=frame,
            failures=failures, series=len(rows),
        )
    return frame


def cursor(con: duckdb.DuckDBPyConnection, call: Call) -> Cursor | None:
    """Where the series' last sync left off, read from the store; None when it has none."""
    resource = call.resource
    if resource.id not in stored_tables(con) or not has_cursors(con):
        return None
    found = con.execute(
        f"SELECT created FROM {CURSORS} WHERE resource = ? AND series = ?", [resource.id, series_key(call)]
    ).fetchall()
    if not found or found[0][0] is None:
        return None
    return Cursor(found[0][0], unfinished(con, call))


def unfinished(con: duckdb.DuckDBPyConnection, call: Call) -> tuple[tuple[str, Any], ...]:
    """The stored runs of the series' scope that were not over at their last sync."""
    resource, shape = call.resource, call.resource.runs
    table = table_name(resource.id)
    names = list(columns(con, table))
    if shape is None:
        return ()
    scope, run_id = key_columns(resource, call, names)
    ids = [c for c in run_id if c in names]
    if not ids:
        return ()
    created = created_column(resource, names)
    status = [".".join(quote(p) for p in s.split(".")) for s in shape.status if s.split(".")[0] in names]
    if not status:
        return ()
    values = dict(call.args)
    where = " AND ".join(f"{quote(k)} IS NOT DISTINCT FROM ?" for k in scope) or "true"
    args = [values[k] for k in scope]
    combos = con.execute(f"SELECT DISTINCT {', '.join(status)} FROM {table} WHERE {where}", args).fetchall()
    open_ = [c for c in combos if state_of(shape.states, c) not in TERMINAL]
    if not open_:
        return ()
    match = " OR ".join(
        "(" + " AND ".join(f"{s} IS NOT DISTINCT FROM ?" for s in status) + ")" for _ in open_
    )
    picked = con.execute(
        f"SELECT {quote(ids[0])}, {quote(created) if created else 'NULL'} FROM {table} "
        f"WHERE {where} AND {quote(ids[0])} IS NOT NULL AND ({match})",
        args + [v for combo in open_ for v in combo],
    ).fetchall()
    return tuple((str(r[0]), r[1]) for r in picked)
