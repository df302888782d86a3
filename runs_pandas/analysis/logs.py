"""Logs as data: the log or output behind each run, one row per run, fetched concurrently.

Where a run's log comes from is catalog data (`runs.log` of the resource): an EXEC method
called once per run whose answer holds either a link to the log text (ACR's
`Runs_GetLogSasUrl` -> `logLink`, a SAS URL on blob storage) or the text itself (Airplane's
`getOutputs` -> `output.*`, written as `key: value` lines). A link is another host than
the API: it is fetched with no credentials at all (the SAS in its query is the grant),
and it never appears in the result. A resource with no log source (Databricks clean-room
task runs: the API has no log endpoint) gets what the API gives for the run, its state.

Requests go through `df.runs.exec()`'s core and the session's client; at most
`Settings.concurrency` are in flight. A run whose log cannot be read keeps its row, with
the reason in `fetch_error`: nothing fetched is lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from runs_pandas.analysis.cells import missing
from runs_pandas.analysis.normalize import read_runs
from runs_pandas.analysis.params import exec_params
from runs_pandas.analysis.resources import assign, candidates, run_shape
from runs_pandas.errors import QueryError

if TYPE_CHECKING:
    from runs_pandas.catalog.models import LogSource, Resource
    from runs_pandas.session import Session

__all__ = ["LOG_COLUMNS", "logs"]

LOG_COLUMNS = ("provider", "resource", "run_id", "status", "source", "text", "lines", "error",
               "fetch_error")
_ERROR_LINE = re.compile(r"^(?:\S+ \S+ )?error:\s*(?P<message>.+)$", re.IGNORECASE)


def logs(
    frame: pd.DataFrame,
    *,
    tail: int | None = None,
    grep: str | None = None,
    session: Session | None = None,
) -> pd.DataFrame:
    """One row per run: where the text came from, the text (last `tail` lines, those matching
    the regular expression `grep`), its line count, the error line it holds, any fetch error."""
    from runs_pandas.session import default_session

    if tail is not None and (not isinstance(tail, int) or tail < 0):
        raise QueryError(f"logs(tail={tail!r}): give a number of lines (0 or more), or None for all")
    try:
        pattern = re.compile(grep) if grep is not None else None
    except re.error as exc:
        raise QueryError(f"logs(grep={grep!r}) is not a regular expression: {exc}") from None
    session = session or default_session()
    runs = read_runs(frame, None, [], "logs()")
    texts: list[tuple[str, str | None, str | None]] = [("state", None, None)] * len(frame)
    for resource, positions in assign(frame, candidates(frame, None, "logs()")):
        part = frame.iloc[positions]
        shape = run_shape(resource)
        if shape.log is None:
            got: list[tuple[str, str | None, str | None]] = [
                ("state", _state_text(row, shape.status), None) for row in _records(part)
            ]
        else:
            got = _from_source(part, resource, shape.log, session)
        for position, value in zip(positions, got):
            texts[position] = value
    rows = []
    for (source, text, problem), (_, run) in zip(texts, runs.iterrows()):
        lines = text.splitlines() if text is not None else []
        error = next((m["message"] for line in reversed(lines) if (m := _ERROR_LINE.match(line))), None)
        if pattern is not None:
            lines = [line for line in lines if pattern.search(line)]
        if tail is not None:
            lines = lines[-tail:] if tail else []
        rows.append({
            "provider": run["provider"], "resource": run["resource"], "run_id": run["run_id"],
            "status": run["status"], "source": source,
            "text": "\n".join(lines) if text is not None else None,
            "lines": len(lines), "error": error, "fetch_error": problem,
        })
    out = pd.DataFrame(rows, columns=list(LOG_COLUMNS), index=frame.index)
    for name in ("provider", "resource", "run_id", "source", "text", "error", "fetch_error"):
        out[name] = out[name].astype("str")
    out["lines"] = out["lines"].astype("int64")
    return out


def _from_source(
    part: pd.DataFrame, resource: Resource, source: LogSource, session: Session
) -> list[tuple[str, str | None, str | None]]:
    """Call the log method once per run, then follow links (concurrently, no credentials)."""
    from runs_pandas.actions import exec_rows

    outcome = exec_rows(resource.id, source.method, exec_params(part, resource, source.method, {}),
                        session).reset_index(drop=True)
    results: list[tuple[str, str | None, str | None]] = []
    links: dict[int, str] = {}
    for i, row in enumerate(_records(outcome)):
        if row.get("outcome") != "ok":
            results.append(("none", None, str(row.get("error"))))
        elif source.link is not None:
            link = row.get(source.link)
            results.append(("log", None, None if not missing(link) else f"no {source.link} in the answer"))
            if not missing(link):
                links[i] = str(link)
        else:
            name = str(source.text)
            prefix = f"{name}."
            pairs = [(k[len(prefix):], v) for k, v in row.items()
                     if k.startswith(prefix) and not missing(v)]
            body = row.get(name)
            output = "\n".join(f"{k}: {v}" for k, v in pairs) if pairs or missing(body) else str(body)
            results.append(("output", output, None))
    if links:
        workers = max(1, min(session.settings.concurrency, len(links)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runs-pandas-logs") as pool:
            fetched = dict(zip(links, pool.map(lambda url: _get_text(session, url), links.values())))
        for i, (text, problem) in fetched.items():
            results[i] = ("log", text, problem)
    return results


def _get_text(session: Session, url: str) -> tuple[str | None, str | None]:
    """GET a log link with no credentials: (text, None), or (None, why) with the URL redacted."""
    import httpx

    from runs_pandas.http.redact import redact

    try:
        response = session.client.get(url, headers={"Accept": "text/plain"},
                                      timeout=session.settings.timeout)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__} reading {redact(url)}"
    if response.status_code != 200:
        return None, f"HTTP {response.status_code} reading {redact(url)}"
    return response.text, None


def _state_text(row: dict[str, Any], columns: Sequence[str]) -> str:
    """What the API gives for a run without a log: its state columns as `name: value` lines."""
    return "\n".join(f"{c.rsplit('.', 1)[-1]}: {row[c]}" for c in columns
                     if c in row and not missing(row[c]))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(zip(frame.columns, values)) for values in frame.itertuples(index=False)]
