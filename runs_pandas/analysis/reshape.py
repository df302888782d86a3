"""Nested API values as columns and back: `flatten`, `unflatten` (inverses) and `explode`.

    unflatten(df)           # platform.os, platform.arch -> platform: {"os": ..., "arch": ...}
    flatten(unflatten(df))  # equals df: unflatten records the columns and dtypes it folded
    explode(df, "steps")    # one row per list element; dict elements become steps.key

Queries return nested API objects as dotted columns; `unflatten` gives the objects back.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import pandas as pd

from runs_pandas.analysis.cells import missing
from runs_pandas.analysis.resources import attrs, frame_error

FLAT = "flat"  # attrs["runs_pandas"]["flat"]: the columns unflatten() folded, for flatten()

__all__ = ["explode", "flatten", "unflatten"]


def unflatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Dotted columns back into one column of dicts (`platform.os` -> `platform`), recursively.

    The inverse of `flatten()`: `flatten(unflatten(df))` equals `df`. A dict holds the
    leaves a row has (like the API's object); a row with none gets None.
    """
    groups: dict[str, list[str]] = {}
    for column in frame.columns:
        if isinstance(column, str) and "." in column:
            groups.setdefault(column.split(".", 1)[0], []).append(column)
    if not groups:
        return frame.copy()
    clash = [top for top in groups if top in frame.columns]
    if clash:
        raise frame_error(
            f"unflatten() cannot fold {', '.join(groups[clash[0]][:3])} into {clash[0]!r}: "
            f"the frame already has a column {clash[0]!r}; rename it first"
        )
    folded: dict[str, pd.Series] = {}
    for top, columns in groups.items():
        folded[top] = pd.Series(_nest(frame, columns), index=frame.index, dtype=object)
    out: dict[Hashable, pd.Series] = {}
    for column in frame.columns:
        head = column.split(".", 1)[0] if isinstance(column, str) and "." in column else None
        if head is None:
            out[column] = frame[column]
        elif head not in out:
            out[head] = folded[head]
    result = pd.DataFrame(out, index=frame.index)
    result.columns = _same_kind(result.columns, frame.columns)
    result.attrs = attrs(
        frame,
        **{
            FLAT: {
                "columns": list(frame.columns),
                "dtypes": {c: frame[c].dtype for cs in groups.values() for c in cs},
            }
        },
    )
    return result


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    """Dict-valued columns into dotted columns (`platform` -> `platform.os`), recursively.

    Types come back from the `unflatten()` that made the dicts when it is known,
    otherwise they are inferred as the core types API rows.
    """
    flat = (frame.attrs.get("runs_pandas") or {}).get(FLAT) or {}
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
    if order is not None and set(order) == set(result.columns) and len(order) == result.shape[1]:
        result = result[order]
    result.columns = _same_kind(result.columns, frame.columns)
    out_attrs = attrs(frame)
    out_attrs.get("runs_pandas", {}).pop(FLAT, None)
    result.attrs = out_attrs
    return result


def explode(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per element of the list column `column`; dict elements become `column.key`.

    The index repeats, so an exploded row can be joined back to its run.
    """
    lists = [c for c in frame.columns if _holds(frame[c], (list, tuple))]
    if column not in lists:
        what = "has no column" if column not in frame.columns else "is not a list column:"
        raise frame_error(
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
    out.attrs = attrs(frame)
    return out


def _same_kind(columns: pd.Index, like: pd.Index) -> pd.Index:
    """Column labels with the dtype of the input's labels (the core uses plain objects)."""
    try:
        return pd.Index(list(columns), dtype=like.dtype)
    except (TypeError, ValueError):
        return columns


def _holds(series: pd.Series, kinds: type | tuple[type, ...]) -> bool:
    """The column's non-null values are all of `kinds` (and there is at least one)."""
    if series.dtype != object:
        return False
    values = [v for v in series.tolist() if not missing(v)]
    return bool(values) and all(isinstance(v, kinds) for v in values)


def _nest(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any] | None]:
    """Rows of dicts from dotted columns `top.a`, `top.b.c`, missing leaves left out."""
    paths = [c.split(".")[1:] for c in columns]
    for path, column in zip(paths, columns):
        for other, other_column in zip(paths, columns):
            if len(other) > len(path) and other[: len(path)] == path:
                raise frame_error(
                    f"unflatten() cannot nest {other_column!r} under {column!r}: "
                    f"{column!r} is a value, not an object; rename one of them"
                )
    lists = [frame[c].tolist() for c in columns]
    out: list[dict[str, Any] | None] = []
    for values in zip(*lists):
        if all(missing(v) for v in values):
            out.append(None)
            continue
        row: dict[str, Any] = {}
        for path, value in zip(paths, values):
            if missing(value):
                continue
            node = row
            for step in path[:-1]:
                node = node.setdefault(step, {})
            node[path[-1]] = value
        out.append(row)
    return out


def _leaves(value: Mapping[str, Any], prefix: str, into: dict[str, None]) -> None:
    """Collect the dotted leaf names of a nested dict into `into` (ordered, once each)."""
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, Mapping) and item:
            _leaves(item, name, into)
        else:
            into[name] = None


def _dig(value: Any, path: Sequence[str]) -> Any:
    """The value at `path` in nested dicts; None when absent (an empty dict counts as absent)."""
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
