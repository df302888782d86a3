"""EXEC: one method call per statement (or one per row of bound lists), checked before sending.

    EXEC azure.container_registry.runs.Runs_Cancel @subscriptionId='..', @resourceGroupName='..',
         @registryName='..', @runId='..'
    EXEC azure.container_registry.runs.Runs_Update ... @@json='{"isArchiveEnabled": true}'
    /*+ AWAIT */ EXEC ...      follow a long-running operation to its end (as its catalog
                               entry says: which headers to poll, when it ends, what to re-read)

Parameters bound to lists (`@runID = :ids` with `params={"ids": [...]}`) fan out: one request
per position, sent concurrently; every outcome is a row, and one failure stops no other.
"""

from __future__ import annotations

import difflib
import json
import random
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlglot import exp

from runs_pandas import frames
from runs_pandas.analysis.cells import missing
from runs_pandas.catalog import Method, Provider, Resource, catalog
from runs_pandas.catalog.models import LongRunning
from runs_pandas.errors import ApiError, MissingParamError, ParamError, QueryError, RunsError
from runs_pandas.http import Request, Response, Sender, build_request
from runs_pandas.http.retry import retry_after as parse_retry_after
from runs_pandas.results import requests_frame, stamp
from runs_pandas.session import Session, Settings
from runs_pandas.sql.read import Statement, exec_target, literal
from runs_pandas.values import ACCEPTED

MAX_POLL_WAIT = 10.0  # seconds: a longer Retry-After between polls is capped to this


@dataclass(frozen=True)
class Action:
    """An EXEC statement as read: which method, with which arguments."""

    provider: Provider
    resource: Resource
    method: Method
    args: dict[str, Any]  # a value may be a list: one request per position
    body: Any = None
    wait: bool = False


def read_action(statement: Statement, params: Mapping[str, Any]) -> Action:
    """The method and arguments of an EXEC, checked against the catalog before any request."""
    tree = statement.tree
    if not isinstance(tree, exp.Execute) or not isinstance(tree.this, exp.Table):
        raise QueryError(
            "EXEC takes provider.service.resource.Method followed by @param='value', ..."
        )
    parts = exec_target(tree.this)
    if len(parts) != 4:
        raise QueryError(
            f"EXEC needs provider.service.resource.Method, got {'.'.join(parts)!r}; "
            f"try SHOW METHODS IN provider.service.resource"
        )
    resource = catalog().resource(".".join(parts[:3]))
    method = exec_method(resource, parts[3])
    args: dict[str, Any] = {}
    body: Any = None
    for item in tree.expressions:
        if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Parameter):
            raise QueryError(f"EXEC arguments are written @name='value', got {item.sql('tsql')!r}")
        is_body = isinstance(item.this.this, exp.Parameter)
        name = item.this.this.name if is_body else item.this.name
        ok, value = literal(item.expression, params)
        if not ok:
            if isinstance(item.expression, exp.Placeholder) and item.expression.name in params:
                raise ParamError(
                    f"@{name} is bound to None (:{item.expression.name}), which cannot be sent; "
                    f"give {ACCEPTED}"
                )
            if isinstance(item.expression, exp.Placeholder):
                raise QueryError(f"no value for placeholder :{item.expression.name}; pass it in params=")
            if isinstance(item.expression, exp.Null):
                continue
            raise QueryError(f"@{name} must be a literal or a :placeholder, got {item.expression.sql('tsql')!r}")
        if is_body:
            if name.lower() != "json":
                raise ParamError(f"@@{name} is not known; the request body is given as @@json='{{...}}'")
            body = _json_body(resource, method, value)
            continue
        param = method.param(name) or next((p for p in method.params if p.name.lower() == name.lower()), None)
        if param is None:
            names = [p.name for p in method.params]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            hint = f" (did you mean @{close[0]}?)" if close else ""
            raise ParamError(
                f"{resource.id}.{method.name} has no param @{name}{hint}; "
                f"its params are: {', '.join('@' + n for n in names)}"
            )
        args[param.name] = value
    if body is not None and method.body == "none":
        raise ParamError(f"{resource.id}.{method.name} takes no request body (@@json)")
    check_required(resource, method, args, " Give them as @name='value'.")
    wait = any("AWAIT" in c.upper() and c.strip().startswith("+") for c in _comments(tree))
    return Action(catalog().provider_of(resource), resource, method, args, body, wait)


def check_required(resource: Resource, method: Method, args: Mapping[str, Any], hint: str) -> None:
    """A MissingParamError naming each required param not in `args`, and those given."""
    absent = [p.name for p in method.required if p.name not in args]
    if absent:
        raise MissingParamError(resource.id, method.name, absent, sorted(args), hint=hint)


def exec_method(resource: Resource, name: str) -> Method:
    """The resource's EXEC method `name`, or an error naming the closest and all of them."""
    method = resource.method(name)
    if method is None or "exec" not in method.access:
        names = [m.name for m in resource.methods_for("exec")]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.4)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise QueryError(
            f"{resource.id} has no EXEC method {name!r}{hint}; "
            f"its EXEC methods are: {', '.join(names)}"
        )
    return method


def _comments(tree: exp.Expression) -> list[str]:
    found: list[str] = []
    for node in tree.walk():
        found.extend(node.comments or [])
    return found


def _json_body(resource: Resource, method: Method, value: Any) -> Any:
    if method.body == "none":
        raise ParamError(f"{resource.id}.{method.name} takes no request body (@@json)")
    try:
        body = json.loads(value) if isinstance(value, str) else value
    except ValueError as exc:
        raise ParamError(f"@@json is not valid JSON ({exc}); write an object like '{{\"isArchiveEnabled\": true}}'") from None
    if not isinstance(body, dict):
        raise ParamError(f"@@json must be a JSON object like '{{\"isArchiveEnabled\": true}}', got {value!r}")
    known = {p.name for p in method.params if p.location == "body"}
    unknown = [k for k in body if known and k not in known]
    if unknown:
        raise ParamError(
            f"{resource.id}.{method.name} body has no field {', '.join(map(repr, unknown))}; "
            f"its fields are: {', '.join(sorted(known))}"
        )
    return body


def expand(action: Action) -> list[dict[str, Any]]:
    """One argument set per request: lists are zipped row-wise, single values repeat."""
    lengths = {len(v) for v in action.args.values() if isinstance(v, list)}
    if len(lengths) > 1:
        raise ParamError(
            f"list params must have the same length (one value per request), got lengths "
            f"{sorted(lengths)}"
        )
    if not lengths:
        return [dict(action.args)]
    n = lengths.pop()
    return [
        {k: (v[i] if isinstance(v, list) else v) for k, v in action.args.items()} for i in range(n)
    ]


def execute(
    statement: Statement,
    params: Mapping[str, Any],
    session: Session,
    *,
    dry_run: bool = False,
    started: float | None = None,
) -> pd.DataFrame:
    """Run an EXEC statement: the response body as a typed frame, or one outcome per request."""
    action = read_action(statement, params)
    fan_out = any(isinstance(v, list) for v in action.args.values())
    return perform(action, expand(action), session, dry_run=dry_run, outcomes=fan_out, sql=statement.text, started=started)


def perform(
    action: Action,
    arg_sets: Sequence[Mapping[str, Any]],
    session: Session,
    *,
    dry_run: bool = False,
    outcomes: bool = True,
    sql: str = "",
    started: float | None = None,
) -> pd.DataFrame:
    """Send `action` once per argument set. All requests are built (and checked) first."""
    started = time.perf_counter() if started is None else started
    endpoint = session.endpoint(action.provider)
    requests = [
        build_request(action.provider, action.resource.id, action.method, args, endpoint, action.body,
                      scope_default=lambda: session.credentials.default_scope(action.provider))
        for args in arg_sets
    ]
    if dry_run:
        dry = requests_frame(requests)
        return stamp(dry, sql, [action.resource.id], 0, started, method=action.method.name, dry_run=True)
    sender = session.sender()
    settings = session.settings
    if not outcomes and len(requests) == 1:
        response = _send(sender, action, requests[0], settings, session)
        session.forget()
        frame = _body_frame(action, requests[0], response)
    else:
        workers = max(1, min(settings.concurrency, len(requests)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runs-pandas-exec") as pool:
            results = list(pool.map(lambda r: _outcome(sender, action, r, settings, session), requests))
        session.forget()
        frame = pd.concat(results, ignore_index=True) if results else pd.DataFrame()
        if "http_status" in frame:
            frame["http_status"] = frame["http_status"].astype("Int64")
    return stamp(frame, sql, [action.resource.id], sender.sent, started, method=action.method.name)


def _send(sender: Sender, action: Action, request: Request, settings: Settings, session: Session) -> Response:
    response = sender.send(action.provider, request, statuses=action.method.statuses or None)
    lro = action.method.long_running
    if action.wait and lro is not None and response.status in lro.statuses:
        response = _await(sender, action, request, response, lro, settings)
        if lro.reread is not None and _succeeded(response, lro):
            again = action.resource.method(lro.reread)
            assert again is not None  # the catalog model checks it
            args = {k: v for k, v in request.args.items() if again.param(k) is not None}
            read = build_request(
                action.provider, action.resource.id, again, args, session.endpoint(action.provider),
                scope_default=lambda: session.credentials.default_scope(action.provider),
            )
            response = sender.send(action.provider, read)
    return response


def _succeeded(response: Response, lro: LongRunning) -> bool:
    """The operation ended well: no state (a 200/204 end), or the first terminal state."""
    body = response.body
    state = str(body.get(lro.state_field, "")).lower() if isinstance(body, dict) else ""
    return not state or state == lro.terminal[0].lower()


def _await(
    sender: Sender, action: Action, request: Request, response: Response, lro: LongRunning, settings: Settings
) -> Response:
    """Poll the operation the method's catalog entry names until it ends, within the budget.

    It ends on a terminal state, or on a `done` status (200, 204) without one; any other
    answer (202, or a state still running) is polled again after Retry-After, or after
    the backoff when Retry-After is missing or unusable.
    """
    link = next((response.headers[h] for h in lro.headers if response.headers.get(h)), None)
    if not link:
        return response
    deadline = time.monotonic() + settings.await_budget
    poll = Request(
        request.resource, f"{request.method} (operation)", "GET", link, None, request.args, request.headers
    )
    polls = 0
    time.sleep(_poll_wait(response.headers.get("Retry-After"), polls, settings.poll_interval))
    while True:
        status_response = sender.send(action.provider, poll, origin=request.url)
        polls += 1
        wait = _poll_wait(status_response.headers.get("Retry-After"), polls, settings.poll_interval)
        body = status_response.body
        state = str(body.get(lro.state_field, "")).lower() if isinstance(body, dict) else ""
        terminal = {t.lower() for t in lro.terminal}
        if state in terminal or (status_response.status in lro.done and not state):
            return status_response
        if time.monotonic() + wait > deadline:
            raise ApiError(
                status=status_response.status, code="Timeout",
                message=(
                    f"the operation did not finish within {settings.await_budget:g} s "
                    f"(last state {state or status_response.status!r}); raise Settings.await_budget to wait longer"
                ),
                method=request.method, url=link,
            )
        time.sleep(wait)


def _poll_wait(retry_after: str | None, polls: int, interval: float) -> float:
    """Seconds before the next poll: Retry-After (seconds or an HTTP-date) when usable,
    else the backoff (missing, negative, NaN, "soon")."""
    seconds = parse_retry_after(retry_after)
    if seconds is None:
        seconds = interval * min(2**polls, 8) + random.uniform(0, interval / 4)
    return min(seconds, MAX_POLL_WAIT)


def _body_frame(action: Action, request: Request, response: Response) -> pd.DataFrame:
    """The response body flattened and typed like a SELECT; a status row when it is empty."""
    from runs_pandas.http.paging import rows_of

    scope = {
        name: [value]
        for name, value in request.args.items()
        if (p := action.method.param(name)) is not None and p.column and p.location != "body"
    }
    rows = rows_of(response.body, action.method.rows) if response.body is not None else []
    if not rows or not all(isinstance(r, dict) for r in rows) or not any(rows):
        # nothing to show but the outcome (202 Accepted, `{}`): one row, as the list form gives
        scope = {k: [v] for k, v in request.args.items()}
        status_row: dict[str, Any] = {
            "method": action.method.name, "outcome": "ok", "http_status": response.status, "error": None,
        }
        if response.body is not None and not isinstance(response.body, dict):
            status_row["body"] = json.dumps(response.body)
        lro = action.method.long_running
        for header in lro.headers if lro is not None else ():
            if header in response.headers:
                status_row[header] = response.headers[header]
        return frames.to_frame(frames.to_table([status_row], [], scope))
    operation = response.request.method.endswith("(operation)")
    looks_like_run = action.method.rows == "$" and _looks_like_run(action, rows)
    fields = action.resource.fields if not operation and (action.method.lift or looks_like_run) else []
    scope = {k: v * len(rows) for k, v in scope.items()}
    leading = action.resource.leading if fields else ()
    return frames.to_frame(frames.to_table(rows, fields, scope, lift=action.method.lift, leading=leading))


def _looks_like_run(action: Action, rows: list[dict[str, Any]]) -> bool:
    names = {f.name for f in action.resource.fields}
    return bool(rows) and len(names & set(rows[0])) >= max(2, len(rows[0]) // 2)


def _outcome(
    sender: Sender, action: Action, request: Request, settings: Settings, session: Session
) -> pd.DataFrame:
    """One request's outcome as rows: its args, ok/failed, HTTP status, error, body fields."""
    base = {k: v for k, v in request.args.items()}
    try:
        response = _send(sender, action, request, settings, session)
    except RunsError as exc:
        status = exc.status if isinstance(exc, ApiError) else None
        row = {**base, "outcome": "failed", "http_status": status, "error": str(exc)}
        return pd.DataFrame([row])
    body = _body_frame(action, request, response)
    head = pd.DataFrame([{**base, "outcome": "ok", "http_status": response.status, "error": None}] * max(1, len(body)))
    body = body.drop(columns=[c for c in body.columns if c in head.columns or c == "method"], errors="ignore")
    return pd.concat([head, body.reset_index(drop=True)], axis=1)


def exec_rows(
    resource_id: str,
    method_name: str,
    rows: Sequence[Mapping[str, Any]],
    session: Session,
    *,
    dry_run: bool = False,
    body: Any = None,
) -> pd.DataFrame:
    """Run an EXEC method once per row of params: the core of `df.runs.exec()`.

    Each row supplies the method's params found among its keys; other keys are ignored.
    Every row gets an outcome (ok/failed, HTTP status, error); one failure stops no other.
    """
    resource = catalog().resource(resource_id)
    method = exec_method(resource, method_name)
    if body is not None:
        body = _json_body(resource, method, body)
    arg_sets = []
    for row in rows:
        args = {p.name: row[p.name] for p in method.params if p.name in row and not missing(row[p.name])}
        check_required(resource, method, args, " Add them as columns or keyword arguments.")
        arg_sets.append(args)
    action = Action(catalog().provider_of(resource), resource, method, {}, body)
    return perform(action, arg_sets, session, dry_run=dry_run, outcomes=True, sql=f"-- exec {resource.id}.{method.name}")

