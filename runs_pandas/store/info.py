"""What is in the store, and taking rows out of it again (pruning by age or scope)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from runs_pandas.session import Session, default_session
from runs_pandas.store.db import (
    LAST_SEEN,
    SYNCS,
    StoreError,
    connect,
    quote,
    stored_tables,
    table_name,
)
from runs_pandas.store.export import day_column


def info(session: Session | None = None) -> pd.DataFrame:
    """One row per stored resource and scope: rows, time range of the runs, last sync."""
    session = session or default_session()
    out: list[dict[str, Any]] = []
    with connect(session, read_only=True) as con:
        for rid in stored_tables(con):
            syncs = con.execute(
                f"SELECT scope, max(synced_at), count(*) FROM {SYNCS} WHERE resource = ? GROUP BY scope ORDER BY scope",
                [rid],
            ).fetchall()
            columns = [r[0] for r in con.execute(f"DESCRIBE {table_name(rid)}").fetchall()]
            day = day_column(rid, columns)
            for scope, last_sync, count in syncs:
                where, values = _scope_where(json.loads(scope), columns)
                span = f"min({quote(day)}), max({quote(day)})" if day else "NULL, NULL"
                row = con.execute(
                    f"SELECT count(*), {span} FROM {table_name(rid)} WHERE {where}", values
                ).fetchall()[0]
                assert row is not None
                out.append({
                    "resource": rid, "scope": scope, "rows": row[0], "first_run": row[1],
                    "last_run": row[2], "last_sync": last_sync, "syncs": count,
                })
    return pd.DataFrame(out, columns=["resource", "scope", "rows", "first_run", "last_run", "last_sync", "syncs"])


def prune(
    resource: str,
    *,
    older_than: str | pd.Timedelta | None = None,
    scope: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> int:
    """Delete stored runs of `resource` last seen longer ago than `older_than` and/or in `scope`."""
    if older_than is None and not scope:
        raise StoreError("prune needs older_than= (e.g. '90D') or scope= (param values), or both")
    session = session or default_session()
    with connect(session) as con:
        if resource not in stored_tables(con):
            raise StoreError(f"{resource} is not in the store; stored: {', '.join(stored_tables(con)) or 'nothing'}")
        columns = [r[0] for r in con.execute(f"DESCRIBE {table_name(resource)}").fetchall()]
        where, values = _scope_where(dict(scope or {}), columns)
        if older_than is not None:
            cutoff = pd.Timestamp.now(tz="UTC") - pd.Timedelta(older_than)
            where += f" AND {LAST_SEEN} < ?"
            values.append(cutoff.to_pydatetime())
        row = con.execute(f"DELETE FROM {table_name(resource)} WHERE {where} RETURNING 1", values).fetchall()
        return len(row)


def _scope_where(scope: Mapping[str, Any], columns: list[str]) -> tuple[str, list[Any]]:
    unknown = [k for k in scope if k not in columns]
    if unknown:
        raise StoreError(f"no stored column {', '.join(unknown)}; scope params are among: {', '.join(columns)}")
    parts = [f"{quote(k)} = ?" for k in scope]
    return " AND ".join(parts) or "true", [str(v) if not isinstance(v, (int, float)) else v for v in scope.values()]
