"""`df.runs`: the pandas accessor over runs frames, a thin adapter over the core.

    scopes.runs.fetch("azure.container_registry.runs")   # one request series per row
    df.runs.normalize()                                   # one schema for every provider
    pd.concat([acr.runs.normalize(), airplane.runs.normalize()]).runs.summary()
    df.runs.timeline(by="registryName").savefig("runs.png")
    df.runs.exec("Runs_Cancel", dry_run=True)             # one request per row

Which resource a frame holds comes from `resource=`, else `df.attrs["runs_pandas"]`, else
from its columns (the catalog's `runs` entry of each resource says where a run keeps its
id, status, times and error). Only pandas and the standard library are imported here, so
`import runs_pandas` stays light; the engine, the catalog and matplotlib load on use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from runs_pandas.catalog.models import Resource, RunShape
    from runs_pandas.errors import QueryError
    from runs_pandas.session import Session

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "skipped", "unknown")
NORMALIZED_COLUMNS = (
    "provider",
    "resource",
    "run_id",
    "status",
    "status_raw",
    "created_at",
    "started_at",
    "finished_at",
    "duration",
    "error",
)
FINISHED = ("succeeded", "failed", "cancelled")  # ran to an outcome: the success-rate base
ACTIVE = ("queued", "running")  # not over yet: no end time, duration so far at most
TIMELINE_CAP = 2_000  # bars drawn at most (the most recent runs)
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))
TIME_DTYPE = "datetime64[us, UTC]"
DURATION_DTYPE = "timedelta64[us]"
STATUS_COLORS = {
    "queued": "#9ecae1",
    "running": "#3182bd",
    "succeeded": "#31a354",
    "failed": "#de2d26",
    "cancelled": "#fd8d3c",
    "skipped": "#bdbdbd",
    "unknown": "#636363",
}
_RUN_ID_PARAMS = ("id", "runid", "run_id")  # EXEC params filled from the run id column
_FLAT = "flat"  # attrs["runs_pandas"]["flat"]: the columns unflatten() folded, for flatten()

__all__ = ["NORMALIZED_COLUMNS", "STATUSES", "RunsAccessor"]


@pd.api.extensions.register_dataframe_accessor("runs")
class RunsAccessor:
    """Runs verbs on any DataFrame: fetch, normalize, summary, timeline, exec and reshaping.

    Holds nothing but the frame (pandas builds a new accessor on every access); each
    method checks the columns it needs and says which ones are missing.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._df = frame

    # -- the core: fetch and exec --------------------------------------------------------

    def fetch(
        self, resource: str, *, session: Session | None = None, **fixed_params: Any
    ) -> pd.DataFrame:
        """Runs of `resource` for every row of this frame of scopes, fetched concurrently.

        Columns named like the resource's params give each row's values (others are
        ignored); keyword params apply to every row and win over a column of that name.

        >>> pd.DataFrame(sb.scopes()["azure"]).runs.fetch("azure.container_registry.runs")  # doctest: +SKIP
        """
        from runs_pandas.catalog import catalog
        from runs_pandas.engine import fetch_frame
        from runs_pandas.errors import MissingParamError

        found = catalog().resource(resource)
        names = {p.name for m in found.methods_for("select") for p in m.params}
        scopes = [
            {**row, **fixed_params}
            for row in _rows(
                self._df, [c for c in self._df.columns if c in names and c not in fixed_params]
            )
        ]
        try:
            return fetch_frame(found.id, scopes, session)
        except MissingParamError as exc:
            raise MissingParamError(
                exc.resource,
                exc.method,
                exc.missing,
                exc.given,
                hint=" Add them as columns of the frame or as keyword arguments of fetch().",
            ) from None

    def exec(
        self,
        method: str,
        *,
        resource: str | None = None,
        session: Session | None = None,
        dry_run: bool = False,
        body: Any = None,
        **fixed_params: Any,
    ) -> pd.DataFrame:
        """Call the EXEC `method` once per row: one outcome row per row, on the same index.

        Each row's columns give the method's params (missing cells are not sent);
        keyword params apply to every row and win over a column. A run-id param the frame
        lacks (Airplane `cancelRun`'s `runID`) is taken from the run id column.

        >>> failed.runs.exec("Runs_Cancel", dry_run=True)  # doctest: +SKIP
        """
        from runs_pandas.actions import exec_rows
        from runs_pandas.session import default_session

        found = _one_resource(self._df, resource, "exec()")
        called = found.method(method)
        params = [p.name for p in called.params] if called is not None else []
        frame = self._df
        taken = [c for c in frame.columns if c in params and c not in fixed_params]
        rows = _rows(frame, taken)
        run_ids = _run_ids(frame, found)
        for name in params:
            if run_ids is None or name in taken or name in fixed_params:
                continue
            if name.lower() in _RUN_ID_PARAMS:  # e.g. Airplane cancelRun's runID from `id`
                for row, value in zip(rows, run_ids):
                    if not _missing(value):
                        row[name] = value
        rows = [{**row, **fixed_params} for row in rows]
        outcome = exec_rows(
            found.id, method, rows, session or default_session(), dry_run=dry_run, body=body
        )
        if len(outcome) == len(frame):
            outcome.index = frame.index
        return outcome

    # -- one schema across providers ---------------------------------------------------

    def normalize(self, resource: str | None = None, *, keep: Sequence[str] = ()) -> pd.DataFrame:
        """Runs in one schema across providers: `NORMALIZED_COLUMNS`, then any `keep` columns.

        status is one of `STATUSES` (a provider state the catalog does not map is
        "unknown"), times are UTC, duration a timedelta. Frames holding rows of several
        resources work row by row; an already normalized frame comes back unchanged.
        """
        return _normalize(self._df, resource, list(keep), "normalize()")

    def summary(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Per group (default: resource): runs, outcomes, success rate and duration percentiles.

        success_rate = succeeded / (succeeded + failed + cancelled); the duration
        columns are over finished runs only (a running run's duration is not final).
        """
        keys = _keys(by)
        runs = _normalize(self._df, None, keys, "summary()")
        _require(runs, keys, "summary(by=...)")
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

    def timeline(
        self, by: str | None = None, *, ax: Axes | None = None, title: str | None = None
    ) -> Figure:
        """A Gantt chart: one bar per run from start (or creation) to end (or now), by group.

        Rows are grouped by `by` (default: resource; any column of this frame, such as
        "registryName"), concurrent runs of a group stack, colours show the status. At
        most `TIMELINE_CAP` bars are drawn, the most recent; the title says when capped.
        """
        key = by or "resource"
        runs = _normalize(self._df, None, [key], "timeline()")
        _require(runs, [key], "timeline(by=...)")
        return _draw_timeline(runs, key, ax, title)

    # -- reshaping -------------------------------------------------------------------------

    def unflatten(self) -> pd.DataFrame:
        """Dotted columns back into one column of dicts (`platform.os` -> `platform`), recursively.

        The inverse of `flatten()`: `df.runs.unflatten().runs.flatten()` equals `df`.
        A dict holds the leaves a row has (like the API's object); a row with none gets None.
        """
        frame = self._df
        groups: dict[str, list[str]] = {}
        for column in frame.columns:
            if isinstance(column, str) and "." in column:
                groups.setdefault(column.split(".", 1)[0], []).append(column)
        if not groups:
            return frame.copy()
        clash = [top for top in groups if top in frame.columns]
        if clash:
            raise _query_error(
                f"unflatten() cannot fold {', '.join(groups[clash[0]][:3])} into {clash[0]!r}: "
                f"the frame already has a column {clash[0]!r}; rename it first"
            )
        folded: dict[str, pd.Series] = {}
        for top, columns in groups.items():
            folded[top] = pd.Series(_nest(frame, top, columns), index=frame.index, dtype=object)
        out: dict[Hashable, pd.Series] = {}
        for column in frame.columns:
            head = column.split(".", 1)[0] if isinstance(column, str) and "." in column else None
            if head is None:
                out[column] = frame[column]
            elif head not in out:
                out[head] = folded[head]
        result = pd.DataFrame(out, index=frame.index)
        result.columns = _same_kind(result.columns, frame.columns)
        result.attrs = _attrs(
            frame,
            **{
                _FLAT: {
                    "columns": list(frame.columns),
                    "dtypes": {c: frame[c].dtype for cs in groups.values() for c in cs},
                }
            },
        )
        return result

    def flatten(self) -> pd.DataFrame:
        """Dict-valued columns into dotted columns (`platform` -> `platform.os`), recursively.

        Types come back from the `unflatten()` that made the dicts when it is known,
        otherwise they are inferred as the core types API rows.
        """
        frame = self._df
        flat = (frame.attrs.get("runs_pandas") or {}).get(_FLAT) or {}
        dtypes: Mapping[str, Any] = flat.get("dtypes", {})
        pieces: list[pd.DataFrame] = []
        changed = False
        for column in frame.columns:
            series = frame[column]
            if isinstance(column, str) and _holds(series, dict):
                pieces.append(_expand(series, column, dtypes))
                changed = True
            else:
                pieces.append(series.to_frame())
        if not changed:
            return frame.copy()
        result = pd.concat(pieces, axis=1)
        order = flat.get("columns")
        if (
            order is not None
            and set(order) == set(result.columns)
            and len(order) == result.shape[1]
        ):
            result = result[order]
        result.columns = _same_kind(result.columns, frame.columns)
        attrs = _attrs(frame)
        attrs.get("runs_pandas", {}).pop(_FLAT, None)
        result.attrs = attrs
        return result

    def explode(self, column: str) -> pd.DataFrame:
        """One row per element of the list column `column`; dict elements become `column.key`.

        The index repeats, so an exploded row can be joined back to its run.
        """
        frame = self._df
        lists = [c for c in frame.columns if _holds(frame[c], (list, tuple))]
        if column not in lists:
            what = "has no column" if column not in frame.columns else "is not a list column:"
            raise _query_error(
                f"explode(): the frame {what} {column!r}; its list columns are: "
                f"{', '.join(map(str, lists)) or 'none'}"
            )
        out = frame.explode(column)
        values = out[column]
        if _holds(values, dict):
            expanded = _expand(values, column, {})
            at = list(out.columns).index(column)
            out = pd.concat([out.iloc[:, :at], expanded, out.iloc[:, at + 1 :]], axis=1)
            out.columns = _same_kind(out.columns, frame.columns)
        else:
            out[column] = values.infer_objects()
        out.attrs = _attrs(frame)
        return out


# -- which resource, which rows ------------------------------------------------------------


def _query_error(message: str) -> QueryError:
    from runs_pandas.errors import QueryError

    return QueryError(message)


def _shape(resource: Resource) -> RunShape:
    if resource.runs is None:
        raise _query_error(
            f"{resource.id} does not describe runs (its catalog entry has no 'runs')"
        )
    return resource.runs


def _fits(columns: Iterable[Hashable], shape: RunShape) -> bool:
    """A frame can be read as runs of a resource: its first status column and a run id."""
    have = set(columns)
    return shape.status[0] in have and any(c in have for c in shape.run_id)


def _shape_columns(shape: RunShape) -> list[str]:
    names = [
        *shape.run_id,
        *shape.status,
        *shape.created_at,
        *shape.started_at,
        *shape.finished_at,
        *shape.duration,
        *shape.error,
    ]
    return list(dict.fromkeys(names))


def _needs(shape: RunShape) -> str:
    return f"{shape.status[0]} and one of {', '.join(shape.run_id)}"


def _unusable(frame: pd.DataFrame, pool: Sequence[Resource], what: str) -> QueryError:
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(columns[:40]) + (
        f", ... ({len(columns) - 40} more)" if len(columns) > 40 else ""
    )
    needs = "; ".join(f"{r.id} needs {_needs(_shape(r))}" for r in pool)
    return _query_error(
        f"df.runs.{what} cannot read this frame as runs: {needs}. "
        f"The frame has: {shown or 'no columns'}. Query the resource with runs_pandas.query() "
        f"or df.runs.fetch(), keep those columns, or pass resource='...'."
    )


def _candidates(frame: pd.DataFrame, resource: str | None, what: str) -> list[Resource]:
    """Resources the frame's rows may belong to: explicit, else attrs, else by columns."""
    from runs_pandas.catalog import catalog

    if resource is not None:
        found = catalog().resource(resource)
        if not _fits(frame.columns, _shape(found)):
            raise _unusable(frame, [found], what)
        return [found]
    named = (frame.attrs.get("runs_pandas") or {}).get("resources") or []
    pool = [catalog().resources[r] for r in named if r in catalog().resources]
    pool = [r for r in pool if r.runs is not None]
    if not pool:
        pool = [r for r in catalog().resources.values() if r.runs is not None]
    fits = [r for r in pool if _fits(frame.columns, _shape(r))]
    if not fits:
        raise _unusable(frame, pool, what)
    return fits


def _score(frame: pd.DataFrame, resource: Resource) -> pd.Series:
    """How many of the resource's run columns each row fills: who the row belongs to."""
    present = [c for c in _shape_columns(_shape(resource)) if c in frame.columns]
    return frame[present].notna().sum(axis=1)


def _assign(frame: pd.DataFrame, candidates: list[Resource]) -> list[tuple[Resource, Any]]:
    """Row positions per resource: all rows for one candidate, else the best-filled one."""
    import numpy as np

    if len(candidates) == 1:
        return [(candidates[0], np.arange(len(frame)))]
    scores = np.column_stack([_score(frame, r).to_numpy() for r in candidates])
    best = scores.argmax(axis=1) if len(frame) else np.array([], dtype=int)
    return [(r, np.flatnonzero(best == i)) for i, r in enumerate(candidates) if (best == i).any()]


def _one_resource(frame: pd.DataFrame, resource: str | None, what: str) -> Resource:
    """The single resource of a frame, for methods that call one API method."""
    from runs_pandas.catalog import catalog

    if resource is None and _is_normalized(frame):
        ids = frame["resource"].dropna().unique().tolist()
        if len(ids) == 1:
            return catalog().resource(str(ids[0]))
        raise _query_error(
            f"df.runs.{what} needs rows of one resource; this frame has rows of "
            f"{', '.join(map(str, ids)) or 'none'}: filter it first or pass resource='...'"
        )
    if resource is not None:
        return catalog().resource(resource)
    assigned = _assign(frame, _candidates(frame, None, what))
    if len(assigned) > 1:
        raise _query_error(
            f"df.runs.{what} needs rows of one resource; this frame has rows of "
            f"{', '.join(r.id for r, _ in assigned)}: filter it first or pass resource='...'"
        )
    if not assigned:
        return _candidates(frame, None, what)[0]
    return assigned[0][0]


# -- normalize --------------------------------------------------------------------------------


def _is_normalized(frame: pd.DataFrame) -> bool:
    return set(NORMALIZED_COLUMNS) <= set(frame.columns)


def _normalize(
    frame: pd.DataFrame, resource: str | None, keep: list[str], what: str
) -> pd.DataFrame:
    if resource is None and _is_normalized(frame):
        return frame.copy()
    candidates = _candidates(frame, resource, what)
    keep = [k for k in dict.fromkeys(keep) if k not in NORMALIZED_COLUMNS and k in frame.columns]
    pieces = []
    for found, positions in _assign(frame, candidates):
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
        out = _normalize_one(frame.iloc[:0].reset_index(drop=True), candidates[0])
        for name in keep:
            out[name] = frame[name].iloc[:0].to_numpy()
    out.index = frame.index
    out.attrs = _attrs(frame, resources=[r.id for r in candidates])
    return out


def _normalize_one(part: pd.DataFrame, resource: Resource) -> pd.DataFrame:
    """The rows of one resource in the common schema, read from its catalog RunShape."""
    shape = _shape(resource)
    n = len(part)
    parts = [
        _text(part[c]) if c in part.columns else _text(pd.Series([None] * n, dtype=object))
        for c in shape.status
    ]
    keys = []
    for k in range(1, len(parts) + 1):
        key = parts[0]
        for extra in parts[1:k]:
            key = (key + "/" + extra).where(key.notna() & extra.notna())
        keys.append(key)
    status = pd.Series([None] * n, dtype=object)
    for key in reversed(
        keys
    ):  # the most specific key first: "TERMINATED/SUCCESS", then "TERMINATED"
        status = status.where(status.notna(), key.map(shape.states))
    status = status.where(status.notna(), "unknown").astype(STATUS_DTYPE)
    raw = parts[0]
    for extra in parts[1:]:
        raw = raw.where(extra.isna() | raw.isna(), raw + "/" + extra)
    started = _first(part, shape.started_at, _utc, TIME_DTYPE)
    finished = _first(part, shape.finished_at, _utc, TIME_DTYPE)
    duration = _first(part, shape.duration, _timedelta, DURATION_DTYPE)
    over = ~status.astype("str").isin(ACTIVE)
    finished = finished.where(finished.notna() | ~over, started + duration)
    duration = duration.where(duration.notna(), finished - started)
    return pd.DataFrame(
        {
            "provider": pd.Series([resource.provider] * n, dtype="str"),
            "resource": pd.Series([resource.id] * n, dtype="str"),
            "run_id": _first(part, shape.run_id, _text, "str"),
            "status": status,
            "status_raw": raw.astype("str"),
            "created_at": _first(part, shape.created_at, _utc, TIME_DTYPE),
            "started_at": started,
            "finished_at": finished.astype(TIME_DTYPE),
            "duration": duration.astype(DURATION_DTYPE),
            "error": _first(part, shape.error, _text, "str"),
        }
    )


def _first(part: pd.DataFrame, names: Sequence[str], convert: Any, dtype: str) -> pd.Series:
    """The first non-null value among the columns `names` (missing columns are skipped)."""
    out = pd.Series([None] * len(part), dtype=object).astype(dtype)
    for name in names:
        if name in part.columns:
            out = out.where(out.notna(), convert(part[name]))
    return out.astype(dtype)


def _text(series: pd.Series) -> pd.Series:
    return series.astype("str")


def _utc(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype(TIME_DTYPE)
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize("UTC").astype(TIME_DTYPE)
    return pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce").astype(TIME_DTYPE)


def _timedelta(series: pd.Series) -> pd.Series:
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return series.astype(DURATION_DTYPE)
    if pd.api.types.is_numeric_dtype(series.dtype):  # the APIs count milliseconds
        return pd.to_timedelta(series, unit="ms").astype(DURATION_DTYPE)
    return pd.to_timedelta(series, errors="coerce").astype(DURATION_DTYPE)


def _keys(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return ["resource"]
    return [by] if isinstance(by, str) else list(by)


def _require(frame: pd.DataFrame, names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise _query_error(
            f"df.runs.{what}: no column {', '.join(map(repr, missing))}; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )


def _same_kind(columns: pd.Index, like: pd.Index) -> pd.Index:
    """Column labels with the dtype of the input's labels (the core uses plain objects)."""
    try:
        return pd.Index(list(columns), dtype=like.dtype)
    except (TypeError, ValueError):
        return columns


def _attrs(frame: pd.DataFrame, **updates: Any) -> dict[str, Any]:
    """The frame's attrs with `runs_pandas` entries updated (never shared with the input)."""
    attrs = dict(frame.attrs)
    attrs["runs_pandas"] = {**(attrs.get("runs_pandas") or {}), **updates}
    return attrs


# -- rows as params ---------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or isinstance(value, (list, tuple, dict, str)):
        return value is None
    try:
        return pd.isna(value) is True
    except (TypeError, ValueError):
        return False


def _rows(frame: pd.DataFrame, columns: Sequence[Hashable]) -> list[dict[str, Any]]:
    """One dict per row of the given columns, as plain Python values, missing cells left out."""
    if not columns:
        return [{} for _ in range(len(frame))]
    lists = [frame[c].tolist() for c in columns]
    return [
        {str(c): v for c, v in zip(columns, values) if not _missing(v)} for values in zip(*lists)
    ]


def _run_ids(frame: pd.DataFrame, resource: Resource) -> list[Any] | None:
    """Each row's run id (from the RunShape's columns or a normalized run_id), if any."""
    names = [*(resource.runs.run_id if resource.runs else ()), "run_id"]
    present = [n for n in names if n in frame.columns]
    if not present:
        return None
    return _first(frame.reset_index(drop=True), present, _text, "str").tolist()


# -- flatten / unflatten / explode ------------------------------------------------------------


def _holds(series: pd.Series, kinds: type | tuple[type, ...]) -> bool:
    """The column's non-null values are all of `kinds` (and there is at least one)."""
    if series.dtype != object:
        return False
    values = [v for v in series.tolist() if not _missing(v)]
    return bool(values) and all(isinstance(v, kinds) for v in values)


def _nest(frame: pd.DataFrame, top: str, columns: list[str]) -> list[dict[str, Any] | None]:
    """Rows of dicts from dotted columns `top.a`, `top.b.c`, missing leaves left out."""
    paths = [c.split(".")[1:] for c in columns]
    for path, column in zip(paths, columns):
        for other, other_column in zip(paths, columns):
            if len(other) > len(path) and other[: len(path)] == path:
                raise _query_error(
                    f"unflatten() cannot nest {other_column!r} under {column!r}: "
                    f"{column!r} is a value, not an object; rename one of them"
                )
    lists = [frame[c].tolist() for c in columns]
    out: list[dict[str, Any] | None] = []
    for values in zip(*lists):
        if all(_missing(v) for v in values):
            out.append(None)
            continue
        row: dict[str, Any] = {}
        for path, value in zip(paths, values):
            if _missing(value):
                continue
            node = row
            for step in path[:-1]:
                node = node.setdefault(step, {})
            node[path[-1]] = value
        out.append(row)
    return out


def _leaves(value: Mapping[str, Any], prefix: str, into: dict[str, None]) -> None:
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, Mapping) and item:
            _leaves(item, name, into)
        else:
            into[name] = None


def _dig(value: Any, path: Sequence[str]) -> Any:
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return None if isinstance(value, Mapping) and not value else value


def _expand(series: pd.Series, name: str, dtypes: Mapping[str, Any]) -> pd.DataFrame:
    """A column of dicts as dotted leaf columns, typed from `dtypes` or as the core types rows."""
    found: dict[str, None] = {c: None for c in dtypes if c.startswith(f"{name}.")}
    values = series.tolist()
    for value in values:
        if isinstance(value, Mapping):
            _leaves(value, name, found)
    columns: dict[str, pd.Series] = {}
    for leaf in found:
        path = leaf[len(name) + 1 :].split(".")
        cells = [_dig(v, path) for v in values]
        columns[leaf] = _typed(cells, dtypes.get(leaf), series.index)
    return pd.DataFrame(columns, index=series.index)


def _typed(cells: list[Any], dtype: Any, index: pd.Index) -> pd.Series:
    """Cells as a column of `dtype` when known, else typed the way the core types API rows."""
    if dtype is not None:
        try:
            return pd.Series(cells, index=index, dtype=dtype)
        except (TypeError, ValueError):
            pass
    import pyarrow as pa

    from runs_pandas import frames

    try:
        column = frames.to_frame(pa.table({"v": pa.array(cells)}))["v"]
        column.index = index
        return column
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.Series(cells, index=index, dtype=object)


# -- timeline --------------------------------------------------------------------------------


def _draw_timeline(runs: pd.DataFrame, key: str, ax: Axes | None, title: str | None) -> Figure:
    import matplotlib.dates as mdates
    import numpy as np
    from matplotlib.figure import Figure

    runs = runs.reset_index(drop=True)
    status = runs["status"].astype("str")
    start = runs["started_at"].where(runs["started_at"].notna(), runs["created_at"])
    now = pd.Timestamp.now(tz="UTC")
    end = runs["finished_at"].where(runs["finished_at"].notna() | ~status.isin(ACTIVE), now)
    end = end.where(end.notna() & (end >= start), start)
    drawable = start.notna()
    total = int(drawable.sum())
    table = pd.DataFrame(
        {
            "group": runs[key].astype("str").where(runs[key].notna(), "(none)")[drawable],
            "start": start[drawable],
            "end": end[drawable],
            "status": status[drawable],
        }
    ).reset_index(drop=True)
    capped = total > TIMELINE_CAP
    if capped:
        table = table.sort_values("start", ascending=False, kind="stable").head(TIMELINE_CAP)
    table = table.sort_values(["group", "start"], kind="stable").reset_index(drop=True)

    left = mdates.date2num(pd.DatetimeIndex(table["start"]).tz_localize(None).to_numpy())
    right = mdates.date2num(pd.DatetimeIndex(table["end"]).tz_localize(None).to_numpy())
    span = float(right.max() - left.min()) if len(table) else 0.0
    width = np.maximum(right - left, span * 0.002 or 1 / 86_400)  # a short run stays visible
    lanes = np.zeros(len(table), dtype=float)
    ticks: list[float] = []
    labels: list[str] = []
    offset = 0
    for group, rows in table.groupby("group", sort=True):
        lane_ends: list[float] = []  # concurrent runs of a group stack in lanes
        for position in rows.index:
            start_at, end_at = left[position], left[position] + width[position]
            lane = next((i for i, last in enumerate(lane_ends) if last <= start_at), len(lane_ends))
            if lane == len(lane_ends):
                lane_ends.append(end_at)
            else:
                lane_ends[lane] = end_at
            lanes[position] = offset + lane
        ticks.append(offset + (len(lane_ends) - 1) / 2)
        labels.append(str(group))
        offset += len(lane_ends) + 1  # a blank lane between groups

    if ax is None:
        figure = Figure(figsize=(11, min(2.0 + 0.22 * max(offset, 1), 16)), layout="constrained")
        ax = figure.add_subplot()
    else:
        figure = ax.get_figure(root=True)  # type: ignore[assignment]
    for name in STATUSES:
        mask = (table["status"] == name).to_numpy()
        if mask.any():
            ax.barh(
                lanes[mask],
                width[mask],
                left=left[mask],
                height=0.8,
                color=STATUS_COLORS[name],
                label=name,
                linewidth=0,
            )
    utc = dt.UTC
    locator = mdates.AutoDateLocator(tz=utc)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=utc))
    ax.set_xlabel("time (UTC)")
    ax.set_yticks(ticks, labels)
    ax.set_ylim(offset - 0.5 if offset else 0.5, -0.5)
    ax.set_ylabel(key)
    if len(table):
        ax.legend(title="status", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    else:
        ax.text(
            0.5,
            0.5,
            "no runs with a start or creation time",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    heading = title or f"Runs by {key}"
    if capped:
        heading += f" (most recent {TIMELINE_CAP:,} of {total:,} runs)"
    ax.set_title(heading)
    return figure
