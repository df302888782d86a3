"""Answering a SELECT from the store: the same SQL text, the stored rows, no request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from runs_pandas import frames
from runs_pandas.catalog import catalog
from runs_pandas.results import stamp
from runs_pandas.session import Session, default_session
from runs_pandas.sql.read import read
from runs_pandas.sql.run import output_names, run, used_frames
from runs_pandas.store.db import (
    FIRST_SEEN,
    LAST_SEEN,
    StoreError,
    connect,
    stored_tables,
    table_name,
)

SOURCES = ("live", "store", "sync")


def answer(
    sql: str, params: Mapping[str, Any] | None = None, session: Session | None = None, *, dry_run: bool = False,
    frames: Mapping[str, Any] | None = None, source: str | None = None,
) -> pd.DataFrame:
    """`runs_pandas.query`: answered live, from the store or after a sync, as `source` says.

    None: the session's `source` setting, which SELECTs follow (other statements run live).
    """
    session = session or default_session()
    chosen = source or session.settings.source
    if chosen != "live" and not dry_run:
        return query(sql, params, session, source=chosen, local=frames, explicit=source is not None)
    from runs_pandas.engine import query as live

    frame = live(sql, params, session, dry_run=dry_run, frames=frames)
    if not dry_run:
        frame.attrs.get("runs_pandas", {}).setdefault("source", "live")
    return frame


def query(
    sql: str, params: Mapping[str, Any] | None = None, session: Session | None = None, *, source: str = "store",
    local: Mapping[str, Any] | None = None, explicit: bool = True,
) -> pd.DataFrame:
    """The SELECT `sql` over stored rows (`source="store"`), or after a sync (`"sync"`).

    Other statements are refused, or run live when the source is only the session's
    default (`explicit=False`): `SHOW PROVIDERS` still answers with `source="store"` set.
    """
    if source not in ("store", "sync"):
        raise StoreError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    session = session or default_session()
    params = dict(params or {})
    started = time.perf_counter()
    given = dict(local or {})
    statement = read(sql, catalog(), params, local=given)
    if statement.kind != "select" and not explicit:
        from runs_pandas.engine import query as live

        return live(sql, params, session, frames=local)
    if statement.kind != "select":
        raise StoreError(f"source={source!r} answers SELECT statements; run {statement.kind.upper()} live")
    requests = 0
    if source == "sync":
        from runs_pandas.store.sync import sync

        requests = int(sync(sql, params, session)["requests"].sum())
    tables: dict[str, pa.Table] = {}
    oldest: Any = None
    with connect(session, read_only=True) as con:
        have = stored_tables(con)
        for reference in statement.references:
            rid = reference.resource.id
            if rid in tables:
                continue
            if rid not in have:
                raise StoreError(f"{rid} is not in the store yet: run runs_pandas.sync({sql!r}) first")
            tables[rid] = typed(
                con.sql(f"SELECT * EXCLUDE ({FIRST_SEEN}, {LAST_SEEN}) FROM {table_name(rid)}").to_arrow_table())
            seen = con.execute(f"SELECT min({LAST_SEEN}) FROM {table_name(rid)}").fetchall()[0]
            if seen and seen[0] is not None and (oldest is None or seen[0] < oldest):
                oldest = seen[0]
    result = run(statement.text, tables, params, used_frames(statement.tree, statement.text, given))
    result = result.rename_columns(output_names(statement.tree, result.column_names))
    frame = frames.to_frame(result)
    age = None if oldest is None else round((pd.Timestamp.now(tz="UTC") - pd.Timestamp(oldest)).total_seconds(), 3)
    return stamp(
        frame, sql, list(tables), requests, started, source=source,
        stored_since=None if oldest is None else pd.Timestamp(oldest).isoformat(), stored_age_seconds=age,
    )


def typed(table: pa.Table) -> pa.Table:
    """Give back what DuckDB stores differently: durations come back as intervals."""
    for index, column in enumerate(table.schema):
        if pa.types.is_interval(column.type):
            table = table.set_column(index, column.name, _duration(table.column(index)))
    return table


def _duration(values: pa.ChunkedArray) -> pa.Array:
    """month-day-nano intervals (DuckDB's INTERVAL) as microsecond durations."""
    parts = values.to_pylist()
    micros = [None if p is None else (p.days * 86_400_000_000 + p.nanoseconds // 1000) for p in parts]
    return pc.cast(pa.array(micros, pa.int64()), pa.duration("us"))
