"""Rows from an API -> a typed Arrow table -> a flat, typed pandas DataFrame.

The rows are converted in one pass by pyarrow (C++), not walked in Python: the struct type
is inferred from all rows, so a field the catalog does not know still becomes a column;
then each known leaf is cast to the catalog's type. A value that cannot be cast keeps its
original type rather than being lost.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from runs_pandas.catalog import Field, FieldType

UTC_US = pa.timestamp("us", tz="UTC")

_SCALAR_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATETIME: UTC_US,
    FieldType.EPOCH_MS: UTC_US,
    FieldType.DURATION_MS: pa.duration("ms"),
}


def lift(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Move the fields of the object `key` to the top level of each row (ARM `properties`)."""
    lifted = []
    for row in rows:
        merged = dict(row)
        inner = merged.pop(key, None)
        if isinstance(inner, dict):
            merged.update(inner)
        elif inner is not None:
            merged[key] = inner
        lifted.append(merged)
    return lifted


def to_table(
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[Field],
    scope: Mapping[str, Sequence[Any]] | None = None,
    options: Mapping[str, Sequence[Any]] | None = None,
    lift: str | None = None,
    struct: pa.Array | None = None,
    leading: Sequence[str] = (),
) -> pa.Table:
    """Typed, nested Arrow table: `scope` columns first, then catalog fields, then unknown ones.

    `leading` (the resource's key columns: id, status, times) come right after the scope.

    `scope` holds per-row values of the parameters that chose each request (one list per
    parameter, as long as `rows`), so rows from several scopes can be told apart;
    `options` (page sizes, filters: params that are not scopes) come last.
    `struct`, when given, is the rows already as one Arrow struct array (the columnar
    path, `rows_struct`), in place of `rows`.
    """
    known = {f.name for f in fields}
    columns: dict[str, pa.Array] = {}
    for name, values in (scope or {}).items():
        if name not in known:
            columns[name] = _scope_array(values)
    if struct is None:
        struct = _infer(rows)
    if lift:
        struct = _lift_struct(struct, lift)
    typed = _typed_struct(struct, fields)
    names = [typed.type.field(i).name for i in range(typed.type.num_fields)]
    for name, column in zip(names, typed.flatten()):
        columns.setdefault(name, column)
    for name, values in (options or {}).items():
        if name not in columns:
            columns[name] = _scope_array(values)
    if leading:
        first = [n for n in (scope or {}) if n in columns and n not in known]
        tops = [n.split(".")[0] for n in leading]  # a dotted name moves its whole object
        first += [n for n in tops if n in columns and n not in first]
        columns = {n: columns[n] for n in (*first, *(n for n in columns if n not in first))}
    return pa.table(columns)


# ---- the columnar path: page bodies read by pyarrow's JSON reader, no Python dicts ----
#
# It must give exactly what `_infer` gives on the parsed rows, so it only takes what it is
# sure of and answers None (the caller then parses the bodies into dicts) otherwise:
def _lift_struct(struct: pa.Array, key: str) -> pa.Array:
    """`lift()` done on the inferred struct: the children of `key` move to the top level.

    The same columns as lifting each row in Python (where a name is in both, the inner
    value wins where it is set), without building a second dict per row.
    """
    if not pa.types.is_struct(struct.type) or struct.type.get_field_index(key) < 0:
        return struct
    names = [struct.type.field(i).name for i in range(struct.type.num_fields)]
    children = dict(zip(names, struct.flatten()))
    inner = children[key]
    if pa.types.is_null(inner.type):
        del children[key]
    elif pa.types.is_struct(inner.type):
        del children[key]
        inner_names = [inner.type.field(i).name for i in range(inner.type.num_fields)]
        for name, child in zip(inner_names, inner.flatten()):
            outer = children.get(name)
            if outer is not None and outer.type == child.type:
                child = pc.coalesce(child, outer)
            children[name] = child
    else:
        return struct  # text or mixed values: kept as a column, as lift() keeps them
    if not children:
        return pa.array([{}] * len(struct), pa.struct([])) if len(struct) else pa.array([], pa.struct([]))
    return pa.StructArray.from_arrays(list(children.values()), list(children), mask=struct.is_null())


def _scope_array(values: Sequence[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def _infer(rows: Sequence[Mapping[str, Any]]) -> pa.StructArray:
    """One struct array for all rows; a field that mixes kinds becomes text, never dropped."""
    if not rows:
        return cast(pa.StructArray, pa.array([], pa.struct([])))
    return cast(pa.StructArray, _arrow(rows, ""))


# Paths ("", "params", "params[]") whose values once mixed kinds. A later call takes them
# apart straight away instead of first letting pyarrow fail on them: only speed depends on it.
_MIXED: set[str] = set()


def _arrow(values: Sequence[Any], path: str) -> pa.Array:
    """Arrow for a field's values, in one C++ pass when the values agree on their kinds.

    Where they do not (Airplane's `params[].default` is a bool, a number or a string), only
    that part is taken apart: objects stay structs, lists stay lists, and the mixed leaf
    becomes text.
    """
    if path not in _MIXED:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            _MIXED.add(path)
    kinds = {_kind(v) for v in values if v is not None}
    if len(kinds) < 2 and not kinds & {"dict", "list"}:
        try:  # one kind here (the mix was in another call): its own type, as the first time
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            pass
    mask = pa.array([v is None for v in values], pa.bool_())
    if kinds == {"dict"}:
        names = list(dict.fromkeys(k for v in values if v is not None for k in v))
        children = [
            _arrow([None if v is None else v.get(name) for v in values], f"{path}.{name}")
            for name in names
        ]
        if not names:
            return pa.array(values)
        return pa.StructArray.from_arrays(children, names, mask=mask)
    if kinds == {"list"}:
        items = [item for v in values if v is not None for item in v]
        offsets = [0]
        for v in values:
            offsets.append(offsets[-1] + (len(v) if v is not None else 0))
        return pa.ListArray.from_arrays(
            pa.array(offsets, pa.int32()), _arrow(items, f"{path}[]"), mask=mask
        )
    return pa.array(
        [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values],
        pa.string(),
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def arrow_type(field: Field) -> pa.DataType:
    """The Arrow type the catalog gives a field."""
    if field.type in _SCALAR_TYPES:
        return _SCALAR_TYPES[field.type]
    if field.type is FieldType.OBJECT:
        return pa.struct([pa.field(c.name, arrow_type(c)) for c in field.children])
    if field.type is FieldType.ARRAY:
        if field.children:
            return pa.list_(pa.struct([pa.field(c.name, arrow_type(c)) for c in field.children]))
        if field.items in _SCALAR_TYPES:
            return pa.list_(_SCALAR_TYPES[field.items])
    return pa.null()


def _typed_struct(struct: pa.Array, fields: Sequence[Field]) -> pa.StructArray:
    """Children in catalog order, cast to their types, then the ones the catalog lacks."""
    present: dict[str, pa.Array] = {}
    if pa.types.is_struct(struct.type):
        # flatten() applies the parent's nulls to each child: a child slot under a null
        # parent may hold a placeholder ("") that would otherwise spoil the cast
        names_in = [struct.type.field(i).name for i in range(struct.type.num_fields)]
        present = dict(zip(names_in, struct.flatten()))
    n = len(struct)
    names: list[str] = []
    children: list[pa.Array] = []
    for field in fields:
        names.append(field.name)
        if field.name in present:
            children.append(_typed(present.pop(field.name), field))
        else:
            children.append(pa.nulls(n, arrow_type(field)))
    for name, child in present.items():
        names.append(name)
        children.append(child)
    mask = struct.is_null() if n else None
    if not children:
        empty = pa.array([{}] * n, pa.struct([])) if n else pa.array([], pa.struct([]))
        return cast(pa.StructArray, empty)
    return pa.StructArray.from_arrays(children, names, mask=mask)


def _typed(array: pa.Array, field: Field) -> pa.Array:
    """One value array cast to the catalog's type; left as it came when it cannot be."""
    kind = field.type
    if kind is FieldType.OBJECT:
        if pa.types.is_struct(array.type) or pa.types.is_null(array.type):
            if pa.types.is_null(array.type):
                return pa.nulls(len(array), arrow_type(field))
            return _typed_struct(array, field.children)
        return array
    if kind is FieldType.ARRAY and field.children and pa.types.is_list(array.type):
        values = array.values
        if pa.types.is_struct(values.type):
            typed_values = _typed_struct(values, field.children)
            return pa.ListArray.from_arrays(array.offsets, typed_values, mask=array.is_null())
        return array
    if kind in (FieldType.MAP, FieldType.ARRAY, FieldType.ANY):
        return array
    target = _SCALAR_TYPES[kind]
    try:
        if kind is FieldType.EPOCH_MS:
            millis = pc.cast(array, pa.int64())
            return pc.cast(pc.cast(millis, pa.timestamp("ms", tz="UTC")), UTC_US)
        if kind is FieldType.DURATION_MS:
            return pc.cast(pc.cast(array, pa.int64()), target)
        if kind is FieldType.DATETIME and pa.types.is_string(array.type):
            return _parse_times(array)
        return pc.cast(array, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError):
        return array


def _parse_times(array: pa.Array) -> pa.Array:
    """ISO 8601 text with any offset (ARM's 7 digits, Airplane's `+00`) -> UTC datetimes."""
    try:
        return pc.cast(array, pa.timestamp("ns", tz="UTC")).cast(UTC_US, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        try:
            parsed = pd.to_datetime(array.to_pandas(), utc=True, format="ISO8601", errors="raise")
        except (ValueError, OverflowError):
            return array  # not all times: keep the text rather than lose a value
        return pa.array(parsed.astype("datetime64[us, UTC]"), UTC_US)


def flatten(table: pa.Table) -> pa.Table:
    """Struct columns -> dotted columns (`platform.os`), all the way down."""
    while any(pa.types.is_struct(t) for t in table.schema.types):
        table = table.flatten()
    return table


def to_frame(table: pa.Table, arrow_dtypes: bool = False) -> pd.DataFrame:
    """A flat Arrow table -> pandas with real types: UTC datetimes, timedeltas, Int64, boolean.

    List columns hold Python lists (of dicts, for lists of objects); with `arrow_dtypes` they
    are `pd.ArrowDtype` columns instead, built without a Python object per value. The cyclic
    collector is paused meanwhile: the lists are many young objects it would walk again.
    """
    with paused_gc():
        table = flatten(table)
        names = table.column_names
        keys = [f"c{i}" for i in range(len(names))]  # names may repeat or be anything
        kinds = table.schema.types
        plain = [i for i, kind in enumerate(kinds) if not _python_made(kind)]
        # one conversion for all plain columns: pyarrow builds the blocks, no Series each
        frame = (
            pa.table([table.column(i) for i in plain], names=[keys[i] for i in plain]).to_pandas(
                types_mapper=_nullable, split_blocks=True
            )
            if plain
            else pd.DataFrame(index=pd.RangeIndex(table.num_rows))
        )
        for i, kind in enumerate(kinds):
            if _python_made(kind):  # in its place: every column before it is there already
                frame.insert(i, keys[i], _to_series(table.column(i), arrow_dtypes))
        frame.index = pd.RangeIndex(table.num_rows)
        frame.columns = pd.Index(names, dtype=object)
    return frame


def _python_made(kind: pa.DataType) -> bool:
    """Columns `_to_series` makes itself: lists, maps, nulls and DuckDB's intervals."""
    return bool(
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind)
        or pa.types.is_null(kind) or pa.types.is_interval(kind)
    )


def _nullable(kind: pa.DataType) -> Any:
    """Integers as Int64 and booleans as boolean: pandas' nullable types, so nulls stay NA."""
    if pa.types.is_integer(kind):
        return pd.Int64Dtype()
    if pa.types.is_boolean(kind):
        return pd.BooleanDtype()
    return None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while many objects without cycles are made.

    Parsed pages and list columns are millions of small objects with no cycles; letting the
    collector walk them again and again costs more than making them. Reference counting
    still frees them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _to_series(column: pa.ChunkedArray, arrow_dtypes: bool = False) -> Any:
    kind = column.type
    if pa.types.is_interval(kind):
        return _interval_to_timedelta(column)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind):
        if arrow_dtypes:
            return pd.Series(pd.arrays.ArrowExtensionArray(column))
        return pd.Series(_py_lists(column), dtype=object)
    if pa.types.is_null(kind):
        return pd.Series([None] * len(column), dtype=object)
    if pa.types.is_integer(kind):
        return column.to_pandas(types_mapper={kind: pd.Int64Dtype()}.get)
    if pa.types.is_boolean(kind):
        return column.to_pandas(types_mapper={kind: pd.BooleanDtype()}.get)
    if pa.types.is_duration(kind):
        return column.to_pandas()
    return column.to_pandas()


# leaves that pyarrow's pandas conversion turns into the same Python objects as to_pylist
# (with integer_object_nulls): inside a struct, each becomes str, bool, int or datetime
_PLAIN_LEAVES = (pa.types.is_string, pa.types.is_boolean, pa.types.is_int64, pa.types.is_null, lambda t: t == UTC_US)


def _py_lists(column: pa.ChunkedArray) -> list[Any]:
    """A list column as Python lists, as `to_pylist` makes them.

    Lists of flat objects (ARM's `outputImages`) go through pyarrow's pandas conversion,
    which builds the dicts in C++, about twice as fast; anything else takes `to_pylist`.
    """
    kind = column.type
    value = kind.value_type if pa.types.is_list(kind) or pa.types.is_large_list(kind) else None
    if value is None or not pa.types.is_struct(value) or not all(
        any(test(value.field(i).type) for test in _PLAIN_LEAVES) for i in range(value.num_fields)
    ) or not value.num_fields:
        return cast(list[Any], column.to_pylist())
    arrays = column.to_pandas(integer_object_nulls=True)
    return [None if v is None else v.tolist() for v in arrays]


def _interval_to_timedelta(column: pa.ChunkedArray) -> pd.Series:
    """DuckDB hands intervals back as month-day-nano; durations are what users expect."""
    values = column.to_pylist()
    nanos = [
        None if v is None else (v.months * 30 + v.days) * 86_400_000_000_000 + v.nanoseconds
        for v in values
    ]
    return pd.Series(pd.to_timedelta(np.array([np.nan if n is None else n for n in nanos]), unit="ns"))
