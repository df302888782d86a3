"""Incremental sync of the run store with the fetch on Spark executors, a cursor per scope.

    report = rps.sync(scopes, "azure.container_registry.runs")   # the store: the session's

The driver reads each scope's cursor from the store (`runs_pandas.store`), the executors
fetch each scope from its cursor with the store's own step (`fetch_increment`: runs created
since the cursor minus `sync_lag`, and the runs not finished at the last sync), and the
driver upserts what comes back with the store's own writer (`write_series`), one
transaction per scope, moving its cursor. So a Spark sync and `runs_pandas.sync` keep the
same store, and either can take over from the other. The store is a file on the driver:
every fetched run passes through the driver once, as an Arrow stream per scope.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from runs_pandas.errors import RunsError

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from runs_pandas.session import Session
    from runs_pandas.sql.plan import Call
    from runs_pandas.store.increment import Cursor, Delta

# times travel as ISO text: a Spark timestamp comes back to Python as a naive local time
OUT = (
    "series long, rows binary, requests long, created string, since string, "
    "seconds double, error_class string, message string"
)


class IncompleteSyncError(RunsError):
    """Some scopes failed in a Spark sync; the others are stored. `.frame` is the report."""

    def __init__(self, message: str, *, frame: pd.DataFrame) -> None:
        self.frame = frame
        super().__init__(message)


def sync(
    scopes: DataFrame,
    resource: str,
    *,
    session: Session | None = None,
    partitions: int | None = None,
) -> pd.DataFrame:
    """Bring the run store up to date for each row of the Spark frame `scopes`, fetched on
    the executors, each scope from its cursor; one report row per scope, as `runs_pandas.sync`.

    `session` gives the store (its `store` setting, else `RUNS_PANDAS_STORE`), the settings
    (`sync_lag`, timeouts, retries, concurrency per task) and the endpoints; never its
    credentials. A scope that fails writes nothing and keeps its cursor; the others are
    stored, then `IncompleteSyncError` (report on `.frame`) says which failed.
    """
    from runs_pandas.catalog import catalog
    from runs_pandas.session import default_session
    from runs_pandas.spark.scopes import scope_names, task_endpoints
    from runs_pandas.sql.plan import plan_scopes
    from runs_pandas.store.db import connect
    from runs_pandas.store.sync import cursor

    found = catalog().resource(resource)
    session = session or default_session()
    names = scope_names(scopes, found.id)
    given = [row.asDict() for row in scopes.select(*[f"`{n}`" for n in names]).collect()]
    calls = plan_scopes(found, given, catalog())
    if not calls:
        raise RunsError(f"{found.id}: the scopes frame has no rows: nothing to sync")
    with connect(session) as con:
        cursors = [cursor(con, call) for call in calls]
    task = SyncTask(found.id, session.settings.model_dump(), task_endpoints(session, found.id))
    spark = scopes.sparkSession
    series = spark.createDataFrame(
        [(i, _args_text(call), _cursor_text(c)) for i, (call, c) in enumerate(zip(calls, cursors))],
        "series long, args string, cursor string",
    )
    count = partitions or min(len(calls), spark.sparkContext.defaultParallelism)
    fetched = series.repartition(count, "series").mapInArrow(task, OUT)
    return _store(fetched, calls, session)


def _store(fetched: DataFrame, calls: Sequence[Call], session: Session) -> pd.DataFrame:
    """Upsert each scope's rows as they arrive (one transaction each); the report."""
    import pandas as pd

    from runs_pandas.store.db import connect
    from runs_pandas.store.sync import REPORT
    from runs_pandas.store.write import scope_text, series_key, write_series

    rows: dict[int, dict[str, Any]] = {}
    with connect(session) as con:
        for got in fetched.toLocalIterator():
            call = calls[got["series"]]
            row: dict[str, Any] = {"resource": call.resource.id, "scope": scope_text(call)}
            if got["error_class"] is not None:
                row.update(new=0, updated=0, unchanged=0, error=f"{got['error_class']}: {got['message']}")
            else:
                table = pa.ipc.open_stream(bytes(got["rows"])).read_all()
                counts = write_series(
                    con, call, table, got["requests"], series=series_key(call), created=_time(got["created"])
                )
                row.update(counts, error=None)
            row.update(requests=got["requests"], seconds=round(got["seconds"], 3), since=_time(got["since"]))
            rows[got["series"]] = row
    frame = pd.DataFrame([rows[i] for i in sorted(rows)], columns=REPORT)
    frame["since"] = pd.to_datetime(frame["since"], utc=True)
    frame.attrs["runs_pandas"] = {
        "sql": f"-- spark sync {calls[0].resource.id} for {len(calls)} scope(s)",
        "source": "sync",
        "requests": int(frame["requests"].sum()),
    }
    failed = frame[frame["error"].notna()]
    if len(failed):
        raise IncompleteSyncError(
            f"{len(failed)} of {len(frame)} scope(s) failed and kept their cursors; the others are "
            f"stored (the report is on .frame). First: {failed['error'].iloc[0]}",
            frame=frame,
        )
    return frame


@dataclass(frozen=True)
class SyncTask:
    """The partition function: series (scope and cursor) in, each one's fetched rows out.

    Pickled into the plan like `FetchTask`: the resource, settings and base URLs, no secret.
    """

    resource_id: str
    settings: dict[str, Any] = field(default_factory=dict)
    endpoints: tuple[tuple[str, str], ...] = ()

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from concurrent.futures import ThreadPoolExecutor

        from runs_pandas.spark.task import worker_session

        session = worker_session(self.settings, self.endpoints)
        for batch in batches:
            todo = batch.to_pylist()
            sender = session.sender()  # one request limit for the batch's series
            workers = max(1, min(session.settings.concurrency, len(todo)))
            with ThreadPoolExecutor(workers, thread_name_prefix="runs-pandas-spark-sync") as pool:
                done = list(pool.map(self._one, todo, [session] * len(todo), [sender] * len(todo)))
            yield pa.RecordBatch.from_pylist(done, schema=_out_schema())

    def _one(self, item: dict[str, Any], session: Any, sender: Any) -> dict[str, Any]:
        from runs_pandas.catalog import catalog
        from runs_pandas.spark.task import error_fields
        from runs_pandas.sql.plan import plan_scopes
        from runs_pandas.store.increment import fetch_increment

        started = time.perf_counter()
        out: dict[str, Any] = {"series": item["series"], "requests": 0}
        try:
            (call,) = plan_scopes(catalog().resource(self.resource_id), [json.loads(item["args"])], catalog())
            delta: Delta = fetch_increment(call, _cursor(item["cursor"]), session, sender=sender)
            out.update(
                requests=delta.requests, created=_time_text(delta.cursor.created), since=_time_text(delta.since)
            )
            if delta.failures:
                out.update(error_fields(delta.failures[0], session))
            else:
                out["rows"] = _ipc(delta.table)
        except Exception as exc:  # noqa: BLE001  any failure of one scope is that scope's row
            out.update(error_fields(exc, session))
        out["seconds"] = time.perf_counter() - started
        return out


def _out_schema() -> pa.Schema:
    return pa.schema(
        [
            ("series", pa.int64()), ("rows", pa.binary()), ("requests", pa.int64()),
            ("created", pa.string()), ("since", pa.string()),
            ("seconds", pa.float64()), ("error_class", pa.string()), ("message", pa.string()),
        ]
    )


def _ipc(table: pa.Table) -> bytes:
    """A table as one Arrow stream: the driver writes exactly the table the store's sync would."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _args_text(call: Call) -> str:
    return json.dumps(dict(call.args), sort_keys=True, default=str)


def _cursor_text(cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    return json.dumps(
        {
            "created": _time_text(cursor.created),
            "unfinished": [[run_id, _time_text(created)] for run_id, created in cursor.unfinished],
        }
    )


def _cursor(text: str | None) -> Cursor | None:
    from runs_pandas.store.increment import Cursor

    if text is None:
        return None
    found = json.loads(text)
    unfinished = tuple((run_id, _time(created)) for run_id, created in found["unfinished"])
    return Cursor(_time(found["created"]), unfinished)


def _time_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
