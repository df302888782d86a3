"""The store file: an embedded DuckDB database of runs, one table per resource.

Opened with a bounded wait on DuckDB's file lock (another process syncing holds it), and
checked for its schema version so a store written by another version is never misread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from runs_pandas.errors import RunsError

if TYPE_CHECKING:
    import duckdb

    from runs_pandas.session import Session

SCHEMA_VERSION = 2  # 2: a cursor per request series (1 had none; migrated on write)
META = "_runs_pandas_meta"
SYNCS = "_runs_pandas_syncs"
CURSORS = "_runs_pandas_cursors"
FIRST_SEEN = "_first_seen"
LAST_SEEN = "_last_seen"
BOOKKEEPING = (FIRST_SEEN, LAST_SEEN)


class StoreError(RunsError):
    """The run store could not be opened or used (locked, newer/older schema, bad path)."""


def store_path(session: Session | None = None) -> Path:
    """Where the store lives: the session's setting, `RUNS_PANDAS_STORE`, or the user data dir."""
    configured = session.settings.store if session is not None else ""
    path = configured or os.environ.get("RUNS_PANDAS_STORE", "")
    if path:
        return Path(path).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("runs_pandas")) / "runs.duckdb"


def table_name(resource_id: str) -> str:
    """The quoted name of a resource's table (its three-part id, as one identifier)."""
    return quote(resource_id)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@contextmanager
def connect(session: Session, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the store, waiting up to `store_lock_timeout` seconds for a lock."""
    import duckdb

    path = store_path(session)
    if read_only and not path.exists():
        raise StoreError(f"no run store at {path}: run runs_pandas.sync(...) first, or set RUNS_PANDAS_STORE")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + session.settings.store_lock_timeout
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"cannot open the run store at {path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"the run store at {path} is in use by another process (waited "
                    f"{session.settings.store_lock_timeout:g} s, setting store_lock_timeout); "
                    "try again when its sync has finished"
                ) from None
            time.sleep(0.05)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        _check_schema(con, path, read_only)
        yield con
    finally:
        con.close()


def _check_schema(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if META not in tables:
        if tables:
            raise StoreError(f"{path} is a DuckDB file but not a runs_pandas store (no {META} table)")
        if read_only:
            return
        con.begin()  # all or nothing: a process killed here leaves an empty file, not half a store
        con.execute(f"CREATE TABLE {META} (key VARCHAR PRIMARY KEY, value VARCHAR)").fetchall()
        con.execute(f"INSERT INTO {META} VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]).fetchall()
        con.execute(
            f"CREATE TABLE {SYNCS} (resource VARCHAR, scope VARCHAR, synced_at TIMESTAMPTZ, "
            "rows BIGINT, new BIGINT, updated BIGINT, requests BIGINT)"
        ).fetchall()
        _create_cursors(con)
        con.commit()
        return
    rows = con.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchall()
    row = rows[0] if rows else None
    version = int(row[0]) if row else 0
    if version == 1 and read_only:
        return  # the rows are laid out as in version 2; there are just no cursors yet
    if version == 1:  # add the cursor table: the next sync of each series is a full one
        con.begin()
        _create_cursors(con)
        con.execute(f"UPDATE {META} SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]).fetchall()
        con.commit()
        return
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"the run store at {path} has schema version {version}; this runs_pandas reads "
            f"version {SCHEMA_VERSION}. Use the runs_pandas that wrote it to export it "
            "(runs_pandas.store.export_parquet), or point RUNS_PANDAS_STORE at a new file"
        )


def _create_cursors(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE {CURSORS} (resource VARCHAR, series VARCHAR, created TIMESTAMPTZ, "
        "synced_at TIMESTAMPTZ, PRIMARY KEY (resource, series))"
    ).fetchall()


def has_cursors(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store keeps cursors (a version-1 store opened read-only has none)."""
    rows = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [CURSORS]).fetchall()
    return bool(rows and rows[0][0])


def stored_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Resource ids with a table in the store."""
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    return sorted(n for n in names if n.count(".") == 2)
