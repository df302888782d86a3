"""The one core every surface calls: SQL text -> plan -> requests -> rows -> table -> DataFrame.

The magic, the accessor, the forms and the command line are thin layers over `query()`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import pyarrow as pa

from runs_pandas import frames, pages
from runs_pandas.actions import execute
from runs_pandas.catalog import catalog
from runs_pandas.errors import ApiError, QueryError, RequestBudgetError, fetch_failure
from runs_pandas.http import Request, Sender, Series
from runs_pandas.progress import Progress, expected_pages
from runs_pandas.results import requests_frame, stamp
from runs_pandas.session import Session, default_session
from runs_pandas.sql.needed import frame_columns, needed_fields, only
from runs_pandas.sql.plan import Call, first_request, plan, plan_scopes
from runs_pandas.sql.read import Statement
from runs_pandas.sql.run import output_names, run, used_frames


@dataclass
class Fetched:
    """The typed tables of one fetch, and what it took."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    requests: int = 0
    rows: int = 0
    failures: list[ApiError] = field(default_factory=list)
    series: int = 0  # request series fetched (or taken from the cache)
    stopped: list[tuple[str, int]] = field(default_factory=list)  # series cut by the budget
    series_requests: list[tuple[str, int]] = field(default_factory=list)  # requests per series
    # each series that failed or was cut by the budget: its place in `calls`, and why
    failed: list[tuple[int, Exception]] = field(default_factory=list)


def query(
    sql: str,
    params: Mapping[str, Any] | None = None,
    session: Session | None = None,
    *,
    dry_run: bool = False,
    frames: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run a runs_pandas SQL statement and return a pandas DataFrame.

    `frames` are DataFrames the SQL may name as one-part tables (`JOIN owners ON ...`).

    >>> query("SELECT status, count(*) AS runs FROM airplane.runs.runs GROUP BY status",
    ...       session=Session(sandbox=True))
    """
    session = session or default_session()
    params = dict(params or {})
    started = time.perf_counter()
    given = dict(frames or {})
    statement = session.statements.read(sql, catalog(), params, local=given)
    if statement.kind in ("show", "describe"):
        from runs_pandas.discovery import discover

        return stamp(discover(statement.text, session), sql, [], 0, started, full_width=True)
    if statement.kind == "explain":
        from runs_pandas.sql.explain import explain

        return stamp(explain(statement, session), sql, [], 0, started)
    if statement.kind == "exec":
        return execute(statement, params, session, dry_run=dry_run, started=started)
    return select(
        statement, params, session, sql=sql, dry_run=dry_run, started=started, given=given
    )


def select(
    statement: Statement,
    params: Mapping[str, Any],
    session: Session,
    *,
    sql: str,
    dry_run: bool,
    started: float,
    given: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Fetch every resource the SELECT names, then let DuckDB answer it."""
    from runs_pandas.sql.budget import check_plan

    calls = plan(statement.references, catalog())
    local = used_frames(statement.tree, statement.text, given or {})
    # read the pages for the fields the statement needs only (None: all of them)
    needed = needed_fields(statement.tree, statement.references, frame_columns(local))
    first_requests = {
        rid: [replace(first_request(session, c), fields=needed.get(rid)) for c in cs] for rid, cs in calls.items()
    }
    if dry_run:
        dry = requests_frame([r for rs in first_requests.values() for r in rs])
        return stamp(dry, sql, list(calls), 0, started, dry_run=True)
    check_plan(calls, session.settings.max_requests)
    fetched = fetch(session, calls, first_requests)
    result = run(statement.text, fetched.tables, params, local, session.database)
    result = result.rename_columns(output_names(statement.tree, result.column_names))
    frame = frames.to_frame(result, session.settings.arrow_dtypes)
    frame = stamp(frame, sql, list(calls), fetched.requests, started)
    _check_budget(fetched, session, frame)
    if fetched.failures:
        raise fetch_failure(
            "the query ran on partial data", frame=frame, failures=fetched.failures, series=fetched.series
        )
    return frame


def fetch_frame(
    resource_id: str,
    scopes: Sequence[Mapping[str, Any]],
    session: Session | None = None,
) -> pd.DataFrame:
    """Runs of one resource for each scope (a dict of param values), as one DataFrame.

    The core of `df.runs.fetch()`: the planner makes one request series per scope (the
    scopes are given, not multiplied), fetched concurrently like a SELECT's.
    """
    session = session or default_session()
    started = time.perf_counter()
    resource = catalog().resource(resource_id)
    calls = plan_scopes(resource, scopes, catalog())
    first_requests = {resource.id: [first_request(session, c) for c in calls]}
    fetched = fetch(session, {resource.id: calls}, first_requests)
    frame = frames.to_frame(fetched.tables[resource.id], session.settings.arrow_dtypes)
    frame = stamp(frame, f"-- fetch {resource.id} for {len(calls)} scope(s)", [resource.id], fetched.requests, started)
    _check_budget(fetched, session, frame)
    if fetched.failures:
        raise fetch_failure(
            f"{len(fetched.failures)} of {len(calls)} scope(s) failed",
            frame=frame, failures=fetched.failures, series=fetched.series,
        )
    return frame


def fetch(
    session: Session,
    calls: Mapping[str, Sequence[Call]],
    first_requests: Mapping[str, Sequence[Request]] | None = None,
    *,
    sender: Sender | None = None,
    complete_only: bool = False,
) -> Fetched:
    """All series of all resources, concurrently, typed per resource.

    A `sender` shared by fetches running at once (a sync's series) holds them all to the
    session's concurrency and request budget; `requests` then counts this fetch's own.
    `complete_only` leaves the rows of a series that failed or was cut by the request budget
    out of the tables: a caller that reports each series apart (a Spark task) keeps only whole
    series, and reads which did not finish, and why, from `failed`.
    """
    if first_requests is None:
        first_requests = {rid: [first_request(session, c) for c in cs] for rid, cs in calls.items()}
    jobs = [
        (call, request)
        for rid, cs in calls.items()
        for call, request in zip(cs, first_requests[rid])
    ]
    progress = Progress(
        session.settings.progress,
        len(jobs),
        expected_pages=[expected_pages(c.method.paginator, dict(r.args), _row_cap(c, r)) for c, r in jobs],
    )
    shared = sender is not None
    sender = sender or session.sender()
    out = Fetched(series=len(jobs))
    try:
        with frames.paused_gc():
            todo = []
            results: dict[int, Series] = {}
            for index, (call, request) in enumerate(jobs):
                hit = session.cached(_cache_key(call, request))
                if hit is not None:
                    results[index] = hit
                else:
                    todo.append(index)
            series = sender.many(
                [(jobs[i][0].provider, jobs[i][0].method, jobs[i][1]) for i in todo],
                progress,
                [jobs[i][0].pushdown.limit for i in todo],
            )
            for index, result in zip(todo, series):
                results[index] = result
                label = f"{jobs[index][0].resource.id} {dict(jobs[index][0].args)}"
                out.series_requests.append((label, result.requests))
                if result.stopped:
                    out.stopped.append((label, result.requests))
                    continue
                if result.error is None:
                    session.remember(_cache_key(*jobs[index]), result)
            out.requests = sum(n for _, n in out.series_requests) if shared else sender.sent
            for rid in calls:
                resource = catalog().resource(rid)
                picked = [(call, results[i]) for i, (call, _) in enumerate(jobs) if call.resource.id == rid]
                out.failures.extend(r.error for _, r in picked if r.error is not None)
                if complete_only:
                    picked = [(call, r) for call, r in picked if r.error is None and not r.stopped]
                # a statement that needs some fields only gets a table of those (no column
                # of nulls typed for each field it never reads)
                wanted = first_requests[rid][0].fields if first_requests[rid] else None
                out.tables[rid] = _table(only(resource.fields, wanted), picked)
                out.rows += out.tables[rid].num_rows
            out.failed = [
                (i, _why(r, session)) for i, r in sorted(results.items()) if r.error is not None or r.stopped
            ]
            if session.settings.cache_ttl <= 0:
                # free the parsed dicts while the collector is still off: turning it back on
                # with millions of live young objects costs a walk over all of them
                for result in series:
                    result.rows = []
                    result.columnar = None
    finally:
        progress.close()
    return out


def _why(series: Series, session: Session) -> Exception:
    if series.error is not None:
        return series.error
    budget = session.settings.max_requests
    return RequestBudgetError(f"the request budget (max_requests={budget}) ran out in this series")


def _row_cap(call: Call, request: Request) -> int | None:
    """The most rows a series can bring: its LIMIT, else a `$top`-style cap sent to the API."""
    top = request.args.get(call.method.top_param) if call.method.top_param else None
    return call.pushdown.limit if call.pushdown.limit is not None else top if isinstance(top, int) else None


def _cache_key(call: Call, request: Request) -> tuple[str, str, str, int | None, frozenset[str] | None]:
    # a series read for some fields only serves statements that need just those
    return (call.resource.id, call.method.name, request.url, call.pushdown.limit, request.fields)


def _check_budget(fetched: Fetched, session: Session, frame: pd.DataFrame) -> None:
    """A RequestBudgetError, rows kept, when the fetch reached `max_requests`."""
    if fetched.stopped:
        from runs_pandas.sql.budget import spent_message

        budget = session.settings.max_requests
        raise RequestBudgetError(
            spent_message(fetched.requests, budget, fetched.series_requests, fetched.rows), frame=frame
        )


def _table(fields: Any, picked: list[tuple[Call, Series]]) -> pa.Table:
    """One typed table of all series' rows, with the values that chose each request.

    Every pushed-down value is a column, so the WHERE that pinned it still holds in DuckDB:
    scope params (registryName, clean_room_name) first, options ($top, limit) last.
    """
    rows: list[dict[str, Any]] = []
    scope: dict[str, list[Any]] = {}
    options: dict[str, list[Any]] = {}
    lifts = {call.method.lift for call, _ in picked}
    lift = lifts.pop() if len(lifts) == 1 else None  # one lift for all series: Arrow does it
    struct = _columnar_struct(picked, lift)
    total = 0
    for call, series in picked:
        if struct is not None:
            assert series.columnar is not None
            batch: Sequence[Any] = range(sum(series.columnar.counts))  # only its length counts
        else:
            series_rows = series.columnar.dict_rows() if series.columnar is not None else series.rows
            if call.method.lift and not lift:
                batch = frames.lift(series_rows, call.method.lift)
            else:
                batch = series_rows
            rows.extend(batch)
        start = total
        total += len(batch)
        for name, value in call.args:
            param = call.method.param(name)
            target = scope if param is None or param.column else options
            target.setdefault(name, [None] * start).extend([value] * len(batch))
        for column in (*scope.values(), *options.values()):
            column.extend([None] * (total - len(column)))
    leading = picked[0][0].resource.leading if picked else ()
    return frames.to_table(rows, fields, scope, options, lift=lift, struct=struct, leading=leading)


columnar_tables = 0  # tables built by the columnar path (tests look at it)


def _columnar_struct(picked: list[tuple[Call, Series]], lift: str | None) -> pa.Array | None:
    """The rows of all series as one struct, joined from the pages pyarrow read; None when
    a series has dicts, the series differ in how they were read, or the reader is not sure."""
    global columnar_tables
    parts = [series.columnar for _, series in picked]
    if not parts or any(call.method.lift != lift for call, _ in picked):
        return None
    first = parts[0]
    if first is None or any(
        p is None or p.declared != first.declared or p.rows_key != first.rows_key for p in parts
    ):
        return None
    columnar = [p for p in parts if p is not None]  # all of them, for the type checker
    struct = pages.rows_struct([part for p in columnar for part in p.parts], first.declared, first.rows_key, lift)
    if struct is None or len(struct) != sum(sum(p.counts) for p in columnar):
        return None
    columnar_tables += 1
    return struct


__all__ = ["Fetched", "QueryError", "fetch", "fetch_frame", "first_request", "query", "requests_frame", "select"]
