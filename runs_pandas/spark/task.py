"""What runs on an executor: the scopes of one partition fetched by the core, one row per run.

`FetchTask` is pickled into the Spark plan, so it holds only what is not secret: the
resource, the layout, the WHERE text, the settings and the endpoints (base URLs). Each
Python worker builds one `Session` from them and keeps it for its next tasks; credentials come from the executor's own
environment by each provider's conventions (`AIRPLANE_API_KEY`, `DATABRICKS_TOKEN`,
azure-identity's `AZURE_*` variables or managed identity, ...), as the session resolves
them anywhere. A scope that fails becomes one error row; the other scopes still succeed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from runs_pandas.spark.layout import ERROR_CLASS, ERROR_MESSAGE, ERROR_STATUS, Layout, conform

REDACTED = "***"


@dataclass(frozen=True)
class FetchTask:
    """The partition function of `mapInArrow`: scopes in, runs and error rows out.

    `mapInArrow` is `mapInPandas`'s Arrow twin (same execution): the core's tables are Arrow
    already, and pyspark's pandas path refuses pandas 3's Arrow-backed string columns.
    """

    plan: Layout
    where: str | None = None
    params: tuple[tuple[str, Any], ...] = ()  # values of `:name` placeholders in `where`
    settings: Mapping[str, Any] = field(default_factory=dict)
    endpoints: tuple[tuple[str, str], ...] = ()  # provider -> base URL (not a secret)
    scopes_in_flight: int = 8  # scopes queried at once when there is a WHERE clause

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        session = worker_session(self.settings, self.endpoints)
        for batch in batches:
            scopes = _scopes(batch, self.plan.scope)
            if not scopes:
                continue
            if self.where is None:
                parts = self._together(scopes, session)
            else:
                parts = self._each(scopes, session)
            yield from pa.concat_tables(parts).combine_chunks().to_batches()

    def _together(self, scopes: list[dict[str, Any]], session: Any) -> list[pa.Table]:
        """All scopes of a batch in one core fetch (the session's request concurrency across
        all of them, one table, one conversion); a scope whose series failed, was cut by the
        request budget or could not be planned is its own error row, asked once."""
        from runs_pandas import engine, frames
        from runs_pandas.catalog import catalog
        from runs_pandas.sql.plan import plan_scopes

        resource = catalog().resource(self.plan.resource_id)
        calls: list[Any] = []
        where: dict[Any, int] = {}  # a call's identity -> its place in `calls`
        owner: list[int | None] = []  # each scope's call, None when it could not be planned
        parts: list[pa.Table] = []
        for scope in scopes:
            try:
                (call,) = plan_scopes(resource, [scope], catalog())
            except Exception as exc:  # noqa: BLE001  a scope the planner refuses is that scope's row
                owner.append(None)
                parts.append(self._error(scope, exc, session))
                continue
            key = (call.method.name, call.args)
            owner.append(where.setdefault(key, len(calls)))
            if owner[-1] == len(calls):
                calls.append(call)
        if calls:
            fetched = engine.fetch(session, {resource.id: calls}, complete_only=True)
            failed = dict(fetched.failed)
            frame = frames.to_frame(fetched.tables[resource.id])
            parts.insert(0, _runs(conform(frame, self.plan)))
            parts += [self._error(s, failed[i], session) for s, i in zip(scopes, owner) if i in failed]
        return parts

    def _each(self, scopes: list[dict[str, Any]], session: Any) -> list[pa.Table]:
        """One query per scope (a WHERE clause is planned per scope), `scopes_in_flight` at once."""
        workers = max(1, min(self.scopes_in_flight, len(scopes)))
        with ThreadPoolExecutor(workers, thread_name_prefix="runs-pandas-spark") as pool:
            return list(pool.map(lambda s: self._one(s, session), scopes))

    def _one(self, scope: dict[str, Any], session: Any) -> pa.Table:
        """The runs of one scope in the layout, or its one error row."""
        from runs_pandas.errors import IncompleteFetchError

        try:
            frame = self._fetch(scope, session)
        except IncompleteFetchError as exc:
            cause: BaseException = exc.failures[0] if exc.failures else exc
            return self._error(scope, cause, session)
        except Exception as exc:  # noqa: BLE001  any failure of one scope is that scope's row
            return self._error(scope, exc, session)
        return _runs(conform(frame, self.plan))

    def _fetch(self, scope: dict[str, Any], session: Any) -> pd.DataFrame:
        """One scope through the SQL path, its WHERE clause pushed down as a query's is."""
        import runs_pandas

        sql, values = scoped_sql(self.plan.resource_id, scope, self.where or "true")
        return runs_pandas.query(sql, params={**dict(self.params), **values}, session=session)

    def _error(self, scope: dict[str, Any], exc: BaseException, session: Any) -> pa.Table:
        row = conform(pd.DataFrame({name: [scope.get(name)] for name in self.plan.scope}), self.plan)
        found = error_fields(exc, session)
        return (
            row.append_column(ERROR_CLASS, pa.array([found["error_class"]], pa.string()))
            .append_column(ERROR_MESSAGE, pa.array([found["message"]], pa.string()))
            .append_column(ERROR_STATUS, pa.array([found["status"]], pa.int64()))
        )


def error_fields(exc: BaseException, session: Any) -> dict[str, Any]:
    """A scope's failure as data: its class, its message with no secret, its HTTP status."""
    status = getattr(exc, "status", None)
    return {
        "error_class": type(exc).__name__,
        "message": redact(session.credentials.scrub(str(exc))),
        "status": status if isinstance(status, int) else None,
    }


_sessions: dict[str, Any] = {}
_sessions_lock = threading.Lock()


def worker_session(settings: Mapping[str, Any], endpoints: Sequence[tuple[str, str]]) -> Any:
    """The Python worker's `Session` for these settings and endpoints, kept across its tasks.

    Spark reuses a Python worker for the next task (`spark.python.worker.reuse`, on by
    default), so later tasks find the connections open and the credentials resolved: an
    Azure token is asked for once per worker rather than once per task, and a task does not
    open `concurrency` new connections at once. Nothing is cached between fetches
    (`cache_ttl` is 0 here): each Spark fetch asks the API again.
    """
    from runs_pandas.session import Session, Settings

    values = {**dict(settings), "progress": False, "cache_ttl": 0.0}
    key = repr((sorted(values.items()), tuple(endpoints)))
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = Session(sandbox=False, settings=Settings(**values), endpoints=dict(endpoints))
            _sessions[key] = session
        return session


def _runs(table: pa.Table) -> pa.Table:
    """Run rows: the error columns empty."""
    rows = table.num_rows
    return (
        table.append_column(ERROR_CLASS, pa.nulls(rows, pa.string()))
        .append_column(ERROR_MESSAGE, pa.nulls(rows, pa.string()))
        .append_column(ERROR_STATUS, pa.nulls(rows, pa.int64()))
    )


def scoped_sql(resource_id: str, scope: Mapping[str, Any], where: str) -> tuple[str, dict[str, Any]]:
    """`SELECT * FROM resource WHERE <scope pins> AND (<where>)`, the scope bound as values.

    The planner reads the pins as it reads any query's (they choose the method and its
    arguments); the user's WHERE is pushed down where the API allows and runs in DuckDB.
    """
    pins, values = [], {}
    for index, (name, value) in enumerate(scope.items()):
        key = f"__scope{index}"
        pins.append(f'"{name.replace(chr(34), chr(34) * 2)}" = :{key}')
        values[key] = value
    condition = " AND ".join([*pins, f"({where})"])
    return f"SELECT * FROM {resource_id} WHERE {condition}", values


def _scopes(batch: pa.RecordBatch, names: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per row of the scope columns, missing cells left out (they are not sent)."""
    return [
        {name: value for name, value in row.items() if name in names and value is not None}
        for row in batch.to_pylist()
    ]


def redact(text: str) -> str:
    """`text` with every credential this process can see replaced by `***`.

    Errors are written to be secret-free already; this is the belt to those braces, for
    messages that quote a server's answer.
    """
    for secret in _secrets():
        text = text.replace(secret, REDACTED)
    return text


def _secrets() -> list[str]:
    from runs_pandas.catalog import catalog

    names: set[str] = set()
    for provider in catalog().providers.values():
        names.update(s.env for s in provider.auth.sources if s.env)
    names.update({"AZURE_CLIENT_SECRET", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_PASSWORD"})
    found = [os.environ[n] for n in names if len(os.environ.get(n, "")) >= 4]
    return sorted(found, key=len, reverse=True)
