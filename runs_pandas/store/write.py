"""Writing one request series into the store: upsert its rows and move its cursor, in one transaction.

Rows are upserted on the resource's key (the scope params that chose the series, plus the
run id from the catalog's run shape), so a run first stored "Running" is updated when it is
stored again "Failed": the gap of loaders that only append new rows. Every row keeps when it
was first and last seen. A field that appears later becomes a new column, and a struct that
gains a child is widened (DuckDB would otherwise drop the child on insert).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa

from runs_pandas.catalog import Resource
from runs_pandas.sql.plan import Call
from runs_pandas.store.db import (
    BOOKKEEPING,
    CURSORS,
    FIRST_SEEN,
    LAST_SEEN,
    SYNCS,
    StoreError,
    quote,
    table_name,
)

if TYPE_CHECKING:
    import duckdb


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


def write_series(
    con: duckdb.DuckDBPyConnection, call: Call, incoming: pa.Table, requests: int,
    *, series: str, created: datetime | None,
) -> dict[str, int]:
    """Upsert one series' rows and set its cursor (`created`) in one transaction; the counts.

    Rows with a run id replace the stored row of that id in the scope. Rows with no run id
    yet (a run still pending) cannot be told apart: they replace the scope's id-less rows.
    """
    con.register("_incoming_raw", incoming)
    con.begin()
    try:
        counts = _upsert(con, call, incoming.column_names, requests)
        if created is not None:
            con.execute(
                f"INSERT OR REPLACE INTO {CURSORS} VALUES (?, ?, ?, now())", [call.resource.id, series, created]
            ).fetchall()
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("_incoming_raw")
    return counts


def _upsert(con: duckdb.DuckDBPyConnection, call: Call, names: list[str], requests: int) -> dict[str, int]:
    resource = call.resource
    table = table_name(resource.id)
    scope, run_id = key_columns(resource, call, names)
    keys = scope + run_id
    values = dict(call.args)
    in_scope = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM ?" for k in scope) or "true"
    scope_values = [values[k] for k in scope]
    idless = "(" + " AND ".join(f"{{0}}.{_path(k)} IS NULL" for k in run_id) + ")"
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
    widen(con, table, "_incoming")
    stored = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} t WHERE {in_scope} LIMIT 1)", scope_values).fetchall()
    if not stored[0][0]:  # a scope synced for the first time: nothing to match, so no joins
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT *, now() AS {FIRST_SEEN}, now() AS {LAST_SEEN} FROM _incoming"
        ).fetchall()
        total = con.execute("SELECT count(*) FROM _incoming").fetchall()[0][0]
        con.execute(
            f"INSERT INTO {SYNCS} VALUES (?, ?, now(), ?, ?, 0, ?)", [resource.id, scope_text(call), total, total, requests]
        ).fetchall()
        return {"new": int(total), "updated": 0, "unchanged": 0}
    common = [c for c in columns(con, "_incoming") if c not in BOOKKEEPING]
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
        [resource.id, scope_text(call), total, new, int(keyed[1]), requests],
    ).fetchall()
    return {"new": new, "updated": int(keyed[1]), "unchanged": total - new - int(keyed[1])}


def widen(con: duckdb.DuckDBPyConnection, table: str, incoming: str) -> None:
    """Give `table` every column of `incoming` it lacks, and every struct child it lacks.

    The widened types are DuckDB's own union by name of the two (structs nested in lists too).
    """
    stored = columns(con, table)
    union = columns(
        con, f"(SELECT * FROM ((SELECT * FROM {table} LIMIT 0) UNION ALL BY NAME (SELECT * FROM {incoming} LIMIT 0)))"
    )
    for name, kind in columns(con, incoming).items():
        if name not in stored:  # a field that appeared later becomes a new column
            con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {kind}").fetchall()
        elif "STRUCT" in stored[name] and union[name] != stored[name]:
            con.execute(f"ALTER TABLE {table} ALTER COLUMN {quote(name)} TYPE {union[name]}").fetchall()


def _path(name: str) -> str:
    """A column, or a field of a struct column (`collaborator_job_run_info.collaborator_task_run_id`)."""
    return ".".join(quote(part) for part in name.split("."))


def columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column names and DuckDB types of a table (or a parenthesised query)."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def scope_text(call: Call) -> str:
    """The scope of a series as stored: its pinned params as JSON."""
    return json.dumps({n: v for n, v in call.args}, sort_keys=True, default=str)


def series_key(call: Call) -> str:
    """What a cursor belongs to: the pinned params and what the SELECT pushed to the API."""
    return json.dumps({"args": dict(call.args), "pushed": dict(call.pushdown.args)}, sort_keys=True, default=str)
