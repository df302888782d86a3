"""One request series fetched incrementally: what is new since its cursor, and its unfinished runs.

A `Cursor` is where the last sync of a series left off: the newest creation time it stored,
and the runs that were not finished then (terminal states are the catalog's `runs.states`).
From it a series asks only for runs created since the cursor minus a lag window, with the
API's own time filter, and asks again for every unfinished run created before that window:
by id where the API can (an id filter, or a get-by-id method), else by widening the window
to the oldest of them. An API with no time filter is fetched whole. No store is needed
here, so the same step runs wherever the fetch runs (a thread, a Spark executor):

    cursor = Cursor(created=datetime(2026, 11, 30, tzinfo=UTC), unfinished=(("ca1f", created),))
    delta = fetch_increment(call, cursor, session)   # delta.table, delta.requests, delta.cursor
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from runs_pandas.catalog import Resource
from runs_pandas.errors import ApiError
from runs_pandas.sql.plan import Call
from runs_pandas.sql.pushdown import ids_args, since_args

if TYPE_CHECKING:
    from runs_pandas.http import Sender
    from runs_pandas.session import Session

TERMINAL = ("succeeded", "failed", "cancelled", "skipped")  # common statuses of a run that is over
ID_BATCH = 20  # run ids OR-ed into one filter
MAX_GETS = 50  # unfinished runs asked for one by one before widening the window is cheaper


@dataclass(frozen=True)
class Cursor:
    """Where a series' last sync left off."""

    created: datetime | None = None  # the newest creation time stored; None: sync it whole
    unfinished: tuple[tuple[str, datetime | None], ...] = ()  # (run id, created) not over then


@dataclass(frozen=True)
class Increment:
    """The requests of one incremental series: a window since a time, and refetches by id."""

    window: Call
    refetch: tuple[Call, ...] = ()
    since: datetime | None = None  # None: the whole series


@dataclass
class Delta:
    """What one incremental series fetched: the rows, what it took, and the cursor after it."""

    table: pa.Table
    requests: int
    failures: list[ApiError] = field(default_factory=list)
    cursor: Cursor = field(default_factory=Cursor)
    since: datetime | None = None


def plan_increment(call: Call, cursor: Cursor | None, lag: timedelta) -> Increment:
    """The requests that bring a series from `cursor` up to date."""
    if cursor is None or cursor.created is None or call.pushdown.limit is not None:
        return Increment(call)
    resource, method = call.resource, call.method
    since = cursor.created - lag
    if not since_args(resource, method, since):
        return Increment(call)  # the API cannot ask by time: the whole series again
    before = [(rid, created) for rid, created in cursor.unfinished if created is None or created < since]
    refetch = by_id(call, [rid for rid, _ in before]) if before else ()
    if refetch is None:
        times = [created for _, created in before if created is not None]
        if len(times) < len(before):
            return Increment(call)
        since, refetch = min([since, *times]), ()
    return Increment(narrow(call, since), refetch, since)


def narrow(call: Call, since: datetime) -> Call:
    """The series asking only for runs created at or after `since`, on top of its own pushdown."""
    method = call.method
    pushed = dict(call.pushdown.args)
    for name, value in since_args(call.resource, method, since).items():
        if name == method.filter_param and pushed.get(name):
            pushed[name] = f"({pushed[name]}) and {value}"
        elif name in pushed:  # a lower bound the SELECT pushed already: the later one holds
            pushed[name] = max(str(pushed[name]), str(value))
        else:
            pushed[name] = value
    return dataclasses.replace(call, pushdown=dataclasses.replace(call.pushdown, args=tuple(pushed.items())))


def by_id(call: Call, ids: Sequence[str]) -> tuple[Call, ...] | None:
    """Calls that fetch exactly the runs `ids` of the series' scope, or None when the API has none.

    An id filter of the series' own method (20 ids a request) comes first; then a SELECT
    method that takes one id param (the catalog's `runs.id_params`) and the scope's params.
    """
    resource, method = call.resource, call.method
    shape = resource.runs
    if shape is None or not shape.run_id:
        return None
    batches = [list(ids[i:i + ID_BATCH]) for i in range(0, len(ids), ID_BATCH)]
    if batches and ids_args(method, shape.run_id[0], batches[0]) is not None:
        return tuple(
            dataclasses.replace(call, pushdown=dataclasses.replace(
                call.pushdown, args=tuple((ids_args(method, shape.run_id[0], b) or {}).items()), limit=None))
            for b in batches
        )
    given = dict(call.args)
    for other in resource.methods_for("select"):
        wanted = [p.name for p in other.required if p.name in shape.id_params]
        rest = [p.name for p in other.required if p.name not in shape.id_params]
        if other is method or other.http_method != "GET" or len(wanted) != 1 or any(n not in given for n in rest):
            continue
        if len(ids) > MAX_GETS:
            return None
        scope = tuple((n, v) for n, v in call.args if other.param(n) is not None)
        return tuple(Call(call.provider, resource, other, (*scope, (wanted[0], rid))) for rid in ids)
    return None


def fetch_increment(
    call: Call, cursor: Cursor | None, session: Session, *, lag: timedelta | None = None,
    sender: Sender | None = None,
) -> Delta:
    """Fetch one series from its cursor (None: whole); the rows as one table, and the new cursor.

    `lag` defaults to the session's `sync_lag`; `sender` lets series share one request
    limit (the session's concurrency) when several run at once.
    """
    from runs_pandas.engine import fetch

    lag = timedelta(seconds=session.settings.sync_lag) if lag is None else lag
    step = plan_increment(call, cursor, lag)
    rid = call.resource.id
    window = fetch(session, {rid: [step.window]}, sender=sender)
    tables, requests, failures = [window.tables[rid]], window.requests, list(window.failures)
    if step.refetch:
        again = fetch(session, {rid: list(step.refetch)}, sender=sender)
        tables.append(with_scope(again.tables[rid], call))
        requests += again.requests
        failures.extend(again.failures)
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    return Delta(table, requests, failures, next_cursor(call.resource, cursor, tables[0], table), step.since)


def with_scope(table: pa.Table, call: Call) -> pa.Table:
    """Rows fetched by id, given the scope columns of the series they belong to."""
    for name, value in call.args:
        param = call.method.param(name)
        if (param is None or param.column) and name not in table.column_names:
            table = table.append_column(name, pa.array([value] * table.num_rows))
    return table


def next_cursor(resource: Resource, cursor: Cursor | None, window: pa.Table, table: pa.Table) -> Cursor:
    """The cursor after a fetch: the newest creation time seen, the runs still not over."""
    created = created_column(resource, window.column_names)
    newest = None if created is None or window.num_rows == 0 else pc.max(window.column(created)).as_py()
    if cursor is not None and cursor.created is not None:
        newest = cursor.created if newest is None else max(newest, cursor.created)
    ids = run_ids(resource, table)
    states = run_states(resource, table)
    made = table.column(created).to_pylist() if created else [None] * table.num_rows
    seen = set(ids)
    unfinished = [(i, c) for i, s, c in zip(ids, states, made) if i is not None and s not in TERMINAL]
    unfinished += [(i, c) for i, c in (cursor.unfinished if cursor else ()) if i not in seen]
    return Cursor(newest, tuple(unfinished))


def created_column(resource: Resource, columns: Sequence[str]) -> str | None:
    """The top-level column holding a run's creation time (the catalog's `runs.created_at`)."""
    names = resource.runs.created_at if resource.runs else ()
    return next((c for c in names if c in columns), None)


def run_ids(resource: Resource, table: pa.Table) -> list[Any]:
    """Each row's run id (the first of the catalog's `runs.run_id` that is a top-level column)."""
    names = resource.runs.run_id if resource.runs else ()
    name = next((c for c in names if c in table.column_names), None)
    return table.column(name).to_pylist() if name else [None] * table.num_rows


def run_states(resource: Resource, table: pa.Table) -> list[str]:
    """Each row's common status ("running", "failed", ...) read through the catalog's `runs.states`."""
    shape = resource.runs
    if shape is None:
        return ["unknown"] * table.num_rows
    parts = [leaf(table, name) for name in shape.status]
    return [state_of(shape.states, values) for values in zip(*parts)] if parts else ["unknown"] * table.num_rows


def state_of(states: Mapping[str, str], values: Sequence[Any]) -> str:
    """The common status of one run's status values, the most specific key first."""
    for k in range(len(values), 0, -1):
        head = values[:k]
        if all(v is not None for v in head):
            found = states.get("/".join(str(v) for v in head))
            if found is not None:
                return found
    return "unknown"


def leaf(table: pa.Table, name: str) -> list[Any]:
    """A column's values, or a struct child's (`notebook_job_run_state.life_cycle_state`)."""
    head, *rest = name.split(".")
    if head not in table.column_names:
        return [None] * table.num_rows
    values: Any = table.column(head).combine_chunks()
    for part in rest:
        if not pa.types.is_struct(values.type) or values.type.get_field_index(part) < 0:
            return [None] * table.num_rows
        values = pc.struct_field(values, part)
    result: list[Any] = values.to_pylist()
    return result
