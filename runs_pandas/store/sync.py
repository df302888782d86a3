"""Sync: bring into the store what a SELECT would fetch, one transaction per request series.

Rows are upserted on the resource's key (the scope params that chose the series, plus the
run id from the catalog's run shape), so a run first stored "Running" is updated when it is
stored again "Failed": the gap of loaders that only append new rows. Every row keeps when it
was first and last seen. A series that fails writes nothing and leaves the others written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from runs_pandas.catalog import Resource, catalog
from runs_pandas.errors import ApiError, fetch_failure
from runs_pandas.session import Session, default_session
from runs_pandas.sql.plan import Call, plan
from runs_pandas.sql.read import read
from runs_pandas.store.db import (
    BOOKKEEPING,
    FIRST_SEEN,
    LAST_SEEN,
    SYNCS,
    StoreError,
    connect,
    quote,
    table_name,
)

if TYPE_CHECKING:
    import duckdb


def sync(sql: str, params: Mapping[str, Any] | None = None, session: Session | None = None) -> pd.DataFrame:
    """Store what the SELECT `sql` would fetch; one row per request series with its counts.

    >>> sync("SELECT * FROM airplane.runs.runs", session=Session(sandbox=True))
    """
    from runs_pandas.engine import fetch

    session = session or default_session()
    params = dict(params or {})
    statement = read(sql, catalog(), params)
    if statement.kind != "select":
        raise StoreError(f"sync takes a SELECT statement (got {statement.kind.upper()}): it stores what the SELECT fetches")
    calls = plan(statement.references, catalog())
    report: list[dict[str, Any]] = []
    failures: list[ApiError] = []
    with connect(session) as con:
        for resource_id, series in calls.items():
            for call in series:
                started = time.perf_counter()
                fetched = fetch(session, {resource_id: [call]})
                row: dict[str, Any] = {"resource": resource_id, "scope": _scope_text(call)}
                if fetched.failures:
                    failures.extend(fetched.failures)
                    row.update(new=0, updated=0, unchanged=0, error=str(fetched.failures[0]))
                else:
                    counts = upsert(con, call, fetched.tables[resource_id], fetched.requests)
                    row.update(counts, error=None)
                row.update(requests=fetched.requests, seconds=round(time.perf_counter() - started, 3))
                report.append(row)
    frame = pd.DataFrame(
        report, columns=["resource", "scope", "new", "updated", "unchanged", "requests", "seconds", "error"]
    )
    frame.attrs["runs_pandas"] = {"sql": sql, "source": "sync", "requests": int(frame["requests"].sum())}
    if failures:
        raise fetch_failure(
            f"{len(failures)} request series failed; the others are stored", frame=frame,
            failures=failures, series=len(report),
        )
    return frame


def key_columns(resource: Resource, call: Call, columns: list[str]) -> tuple[list[str], list[str]]:
    """The columns that identify a stored row: the series' scope params, and the run id's."""
    scope = [n for n, _ in call.args if ((p := call.method.param(n)) is None or p.column) and n in columns]
    run_id = [c for c in (resource.runs.run_id if resource.runs else ()) if c.split(".")[0] in columns]
    if not run_id:
        raise StoreError(
            f"{resource.id}: the catalog names no run id column among the fetched columns, "
            "so its rows cannot be stored (add `runs.run_id` to the resource's catalog entry)"
        )
    return scope, run_id


def upsert(con: duckdb.DuckDBPyConnection, call: Call, incoming: pa.Table, requests: int) -> dict[str, int]:
    """Write one series' rows in one transaction; counts of new, updated and unchanged rows.

    Rows with a run id replace the stored row of that id in the scope. Rows with no run id
    yet (a run still pending) cannot be told apart: they replace the scope's id-less rows.
    """
    resource = call.resource
    table = table_name(resource.id)
    scope, run_id = key_columns(resource, call, incoming.column_names)
    keys = scope + run_id
    values = dict(call.args)
    in_scope = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM ?" for k in scope) or "true"
    scope_values = [values[k] for k in scope]
    idless = "(" + " AND ".join(f"{{0}}.{_path(k)} IS NULL" for k in run_id) + ")"
    con.register("_incoming_raw", incoming)
    con.begin()
    try:
        match = " AND ".join(f"t.{_path(k)} IS NOT DISTINCT FROM n.{_path(k)}" for k in keys)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _incoming AS SELECT * FROM (SELECT DISTINCT ON ("
            + ", ".join(f"n.{_path(k)}" for k in keys) + f") * FROM _incoming_raw n WHERE NOT {idless.format('n')}) "
            f"UNION ALL BY NAME SELECT * FROM _incoming_raw n WHERE {idless.format('n')}"
        ).fetchall()
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [resource.id]
        ).fetchall()[0]
        if not exists or not exists[0]:
            con.execute(
                f"CREATE TABLE {table} AS SELECT *, now() AS {FIRST_SEEN}, now() AS {LAST_SEEN} "
                "FROM _incoming WHERE false"
            ).fetchall()
        stored = _columns(con, table)
        for name, kind in _columns(con, "_incoming").items():
            if name not in stored:  # a field that appeared later becomes a new column
                con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {kind}").fetchall()
        common = [c for c in _columns(con, "_incoming") if c not in BOOKKEEPING]
        differs = " OR ".join(f"t.{quote(c)} IS DISTINCT FROM n.{quote(c)}" for c in common) or "false"
        keyed = con.execute(
            f"SELECT count(*) FILTER (WHERE t.{LAST_SEEN} IS NULL), "
            f"count(*) FILTER (WHERE t.{LAST_SEEN} IS NOT NULL AND ({differs})), count(*) "
            f"FROM (SELECT * FROM _incoming n WHERE NOT {idless.format('n')}) n LEFT JOIN {table} t ON {match}"
        ).fetchall()[0]
        pending = con.execute(f"SELECT count(*) FROM _incoming n WHERE {idless.format('n')}").fetchall()[0][0]
        was_pending = con.execute(
            f"SELECT count(*) FROM {table} t WHERE {in_scope} AND {idless.format('t')}", scope_values
        ).fetchall()[0][0]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _firsts AS SELECT n.*, coalesce(t.{FIRST_SEEN}, now()) AS "
            f"{FIRST_SEEN}, now() AS {LAST_SEEN} FROM (SELECT * FROM _incoming n WHERE NOT {idless.format('n')}) n "
            f"LEFT JOIN {table} t ON {match} "
            f"UNION ALL BY NAME SELECT *, now() AS {FIRST_SEEN}, now() AS {LAST_SEEN} FROM _incoming n "
            f"WHERE {idless.format('n')}"
        ).fetchall()
        con.execute(
            f"DELETE FROM {table} t WHERE (EXISTS (SELECT 1 FROM _incoming n WHERE {match} AND NOT "
            f"{idless.format('n')})) OR ({in_scope} AND {idless.format('t')})", scope_values
        ).fetchall()
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _firsts").fetchall()
        new = int(keyed[0]) + max(0, pending - was_pending)
        total = int(keyed[2]) + pending
        con.execute(
            f"INSERT INTO {SYNCS} VALUES (?, ?, now(), ?, ?, ?, ?)",
            [resource.id, _scope_text(call), total, new, int(keyed[1]), requests],
        ).fetchall()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("_incoming_raw")
    return {"new": new, "updated": int(keyed[1]), "unchanged": total - new - int(keyed[1])}


def _path(name: str) -> str:
    """A column, or a field of a struct column (`collaborator_job_run_info.collaborator_task_run_id`)."""
    return ".".join(quote(part) for part in name.split("."))


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _scope_text(call: Call) -> str:
    return json.dumps({n: v for n, v in call.args}, sort_keys=True, default=str)
