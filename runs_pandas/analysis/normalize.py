"""Runs of any provider in one schema (`normalize`), and per-group outcomes (`summary`).

    normalize(acr_frame)                                   # NORMALIZED_COLUMNS, UTC times
    summary(pd.concat([normalize(acr), normalize(airplane)]), by="provider")

Each resource's catalog RunShape says which columns hold the run id, status, times and
error, and how provider states map onto `STATUSES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from runs_pandas.analysis.cells import first, text
from runs_pandas.analysis.resources import assign, attrs, candidates, require, run_shape
from runs_pandas.analysis.schema import (
    ACTIVE,
    DURATION_DTYPE,
    FINISHED,
    NORMALIZED_COLUMNS,
    STATUS_DTYPE,
    STATUSES,
    TIME_DTYPE,
    is_normalized,
)

if TYPE_CHECKING:
    from runs_pandas.catalog.models import Resource

__all__ = ["NORMALIZED_COLUMNS", "STATUSES", "normalize", "read_runs", "summary"]


def normalize(
    frame: pd.DataFrame, resource: str | None = None, keep: Sequence[str] = ()
) -> pd.DataFrame:
    """Runs in one schema across providers: `NORMALIZED_COLUMNS`, then any `keep` columns.

    status is one of `STATUSES` (a provider state the catalog does not map is "unknown"),
    times are UTC, duration a timedelta. Frames holding rows of several resources work row
    by row; an already normalized frame comes back unchanged.
    """
    return read_runs(frame, resource, list(keep), "normalize()")


def summary(frame: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Per group (default: resource): runs, outcomes, success rate and duration percentiles.

    success_rate = succeeded / (succeeded + failed + cancelled); the duration columns are
    over finished runs only (a running run's duration is not final).
    """
    keys = _keys(by)
    runs = read_runs(frame, None, keys, "summary()")
    require(runs, keys, "summary(by=...)")
    runs = runs.reset_index(drop=True)
    status = runs["status"].astype("str")
    finished_duration = runs["duration"].where(status.isin(FINISHED))
    work = pd.DataFrame(
        {
            **{f"__key{i}": runs[key] for i, key in enumerate(keys)},
            "__succeeded": status.eq("succeeded"),
            "__failed": status.eq("failed"),
            "__cancelled": status.eq("cancelled"),
            "__duration": finished_duration,
        }
    )
    group_keys = [f"__key{i}" for i in range(len(keys))]
    grouped = work.groupby(group_keys, observed=True, dropna=False, sort=True)
    out = pd.DataFrame(
        {
            "runs": grouped.size().astype("int64"),
            "succeeded": grouped["__succeeded"].sum().astype("int64"),
            "failed": grouped["__failed"].sum().astype("int64"),
            "cancelled": grouped["__cancelled"].sum().astype("int64"),
        }
    )
    finished = out["succeeded"] + out["failed"] + out["cancelled"]
    out["success_rate"] = (out["succeeded"] / finished.where(finished > 0)).astype("float64")
    out["p50_duration"] = grouped["__duration"].quantile(0.5).astype(DURATION_DTYPE)
    out["p95_duration"] = grouped["__duration"].quantile(0.95).astype(DURATION_DTYPE)
    out["max_duration"] = grouped["__duration"].max().astype(DURATION_DTYPE)
    out.index = out.index.set_names(keys)
    return out


def read_runs(
    frame: pd.DataFrame, resource: str | None, keep: list[str], what: str
) -> pd.DataFrame:
    """`normalize`, with errors naming the df.runs method `what` that needed the runs."""
    if resource is None and is_normalized(frame):
        return frame.copy()
    pool = candidates(frame, resource, what)
    keep = [k for k in dict.fromkeys(keep) if k not in NORMALIZED_COLUMNS and k in frame.columns]
    pieces = []
    for found, positions in assign(frame, pool):
        part = frame.iloc[positions].reset_index(drop=True)
        piece = _normalize_one(part, found)
        for name in keep:
            piece[name] = part[name]
        piece.index = positions
        pieces.append(piece)
    if len(pieces) == 1:
        out = pieces[0]
    elif pieces:
        out = pd.concat(pieces).sort_index()
    else:
        out = _normalize_one(frame.iloc[:0].reset_index(drop=True), pool[0])
        for name in keep:
            out[name] = frame[name].iloc[:0].to_numpy()
    out.index = frame.index
    out.attrs = attrs(frame, resources=[r.id for r in pool])
    return out


def _normalize_one(part: pd.DataFrame, resource: Resource) -> pd.DataFrame:
    """The rows of one resource in the common schema, read from its catalog RunShape."""
    shape = run_shape(resource)
    n = len(part)
    parts = [
        text(part[c]) if c in part.columns else text(pd.Series([None] * n, dtype=object))
        for c in shape.status
    ]
    keys = []
    for k in range(1, len(parts) + 1):
        key = parts[0]
        for extra in parts[1:k]:
            key = (key + "/" + extra).where(key.notna() & extra.notna())
        keys.append(key)
    status = pd.Series([None] * n, dtype=object)
    # the most specific key first: "TERMINATED/SUCCESS", then "TERMINATED"
    for key in reversed(keys):
        status = status.where(status.notna(), key.map(shape.states))
    status = status.where(status.notna(), "unknown").astype(STATUS_DTYPE)
    raw = parts[0]
    for extra in parts[1:]:
        raw = raw.where(extra.isna() | raw.isna(), raw + "/" + extra)
    started = first(part, shape.started_at, _utc, TIME_DTYPE)
    finished = first(part, shape.finished_at, _utc, TIME_DTYPE)
    duration = first(part, shape.duration, _timedelta, DURATION_DTYPE)
    over = ~status.astype("str").isin(ACTIVE)
    finished = finished.where(finished.notna() | ~over, started + duration)
    duration = duration.where(duration.notna(), finished - started)
    return pd.DataFrame(
        {
            "provider": pd.Series([resource.provider] * n, dtype="str"),
            "resource": pd.Series([resource.id] * n, dtype="str"),
            "run_id": first(part, shape.run_id, text, "str"),
            "status": status,
            "status_raw": raw.astype("str"),
            "created_at": first(part, shape.created_at, _utc, TIME_DTYPE),
            "started_at": started,
            "finished_at": finished.astype(TIME_DTYPE),
            "duration": duration.astype(DURATION_DTYPE),
            "error": first(part, shape.error, text, "str"),
        }
    )


def _keys(by: str | Sequence[str] | None) -> list[str]:
    """The group-by columns: `resource` unless given, one name or several."""
    if by is None:
        return ["resource"]
    return [by] if isinstance(by, str) else list(by)


def _utc(series: pd.Series) -> pd.Series:
    """Times as UTC: aware ones converted, naive ones taken as UTC, text parsed as ISO 8601."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype(TIME_DTYPE)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize("UTC").astype(TIME_DTYPE)
    return pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce").astype(TIME_DTYPE)


def _timedelta(series: pd.Series) -> pd.Series:
    """Durations as timedeltas: numbers are milliseconds (what the APIs count in)."""
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return series.astype(DURATION_DTYPE)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return pd.to_timedelta(series, unit="ms").astype(DURATION_DTYPE)
    return pd.to_timedelta(series, errors="coerce").astype(DURATION_DTYPE)
