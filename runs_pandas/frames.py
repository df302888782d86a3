"""Rows from an API -> a typed Arrow table -> a flat, typed pandas DataFrame.

The rows are converted in one pass by pyarrow (C++), not walked in Python: the struct type
is inferred from all rows, so a field the catalog does not know still becomes a column;
then each known leaf is cast to the catalog's type. A value that cannot be cast keeps its
original type rather than being lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
) -> pa.Table:
    """Typed, nested Arrow table: `scope` columns first, then catalog fields, then unknown ones.

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
    return pa.table(columns)


# ---- the columnar path: page bodies read by pyarrow's JSON reader, no Python dicts ----
#
# It must give exactly what `_infer` gives on the parsed rows, so it only takes what it is
# sure of and answers None (the caller then parses the bodies into dicts) otherwise:
# pyarrow.json reads ISO text as timestamps (the catalog's text fields are declared as
# strings, any other timestamp makes a second read with it as text), integers beyond 64 bits
# as doubles (no double is taken), and fails on mixed kinds and repeated keys.

_SAFE_LEAVES = (pa.types.is_string, pa.types.is_int64, pa.types.is_boolean, pa.types.is_null)


def page_schema(fields: Sequence[Field], rows_key: str, next_field: str | None, lift: str | None) -> pa.Schema:
    """The explicit part of a page's schema: the catalog's times as text, the next link.

    With a lift, the times are declared inside the lifted object (where ARM keeps them);
    `rows_struct` gives up where such a name is also outside it.
    """
    times = [pa.field(f.name, pa.string()) for f in fields if f.type is FieldType.DATETIME]
    row = [pa.field(lift, pa.struct(times))] if lift and times else times
    schema = [pa.field(rows_key, pa.list_(pa.struct(row)))]
    if next_field and next_field != rows_key:
        schema.append(pa.field(next_field, pa.string()))
    return pa.schema(schema)


def skeleton(schema: pa.Schema, rows_key: str) -> pa.Schema:
    """The schema to read one page by while fetching: its rows (only counted) and next link."""
    return pa.schema([pa.field(rows_key, pa.list_(pa.struct([]))), *(f for f in schema if f.name != rows_key)])


def read_pages(
    content: bytes, schema: pa.Schema, rows_key: str, *, only_schema: bool = False, longest: int = 0
) -> pa.Table:
    """Page bodies (one compact JSON object a line) as one Arrow table; raises when unsure.

    `only_schema` reads just what the schema names (a page checked and its rows counted
    while fetching, without building its columns). `longest`: the longest line's length
    (the whole content when not given).
    """
    import io

    import pyarrow.json as pj

    table = pj.read_json(
        io.BytesIO(content),
        # a block holds whole lines: at least the longest page
        read_options=pj.ReadOptions(
            use_threads=not only_schema, block_size=max(1 << 20, (longest or len(content)) + 1)
        ),
        parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore" if only_schema else "infer"
        ),
    )
    if not pa.types.is_list(table.schema.field(rows_key).type):
        raise pa.ArrowInvalid("the rows are not a list")
    return table


def rows_struct(bodies: Sequence[bytes], schema: pa.Schema, rows_key: str, lift: str | None) -> pa.Array | None:
    """All rows of the page bodies as one struct array, as `_infer` would make it; None if unsure."""
    if not bodies:
        return None
    joined = b"\n".join(bodies)
    longest = max(map(len, bodies))
    try:
        table = read_pages(joined, schema, rows_key, longest=longest)
        if _has(table.schema.field(rows_key).type, pa.types.is_timestamp):
            rows_type = _no_times(table.schema.field(rows_key).type)
            fixed = pa.schema([pa.field(rows_key, rows_type), *(f for f in schema if f.name != rows_key)])
            table = read_pages(joined, fixed, rows_key, longest=longest)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != len(bodies):
        return None
    struct = table.column(rows_key).combine_chunks().flatten()
    if not len(struct):
        return None  # no rows: the dict path is as quick and sure
    if not pa.types.is_struct(struct.type) or struct.null_count or not _safe(struct.type):
        return None
    if lift:
        declared = schema.field(rows_key).type.value_type
        inner = declared.field(lift).type if declared.get_field_index(lift) >= 0 else pa.struct([])
        outer = {struct.type.field(i).name for i in range(struct.type.num_fields)}
        if any(inner.field(i).name in outer for i in range(inner.num_fields)):
            return None  # a declared time also outside the lifted object: not sure of the merge
    return struct


def _has(kind: pa.DataType, test: Any) -> bool:
    if test(kind):
        return True
    if pa.types.is_struct(kind):
        return any(_has(kind.field(i).type, test) for i in range(kind.num_fields))
    if pa.types.is_list(kind):
        return _has(kind.value_type, test)
    return False


def _safe(kind: pa.DataType) -> bool:
    if pa.types.is_struct(kind):
        return all(_safe(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind):
        return _safe(kind.value_type)
    return any(test(kind) for test in _SAFE_LEAVES)


def _no_times(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(kind.field(i).name, _no_times(kind.field(i).type)) for i in range(kind.num_fields)])
    if pa.types.is_list(kind):
        return pa.list_(_no_times(kind.value_type))
    return kind


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
        return pa.array([], pa.struct([]))  # type: ignore[return-value]
    return _arrow(rows, "")  # type: ignore[return-value]


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
            return pa.list_(_SCALAR_TYPES[field.items])  # type: ignore[index]
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
        return pa.array([{}] * n, pa.struct([])) if n else pa.array([], pa.struct([]))  # type: ignore[return-value]
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


def to_frame(table: pa.Table) -> pd.DataFrame:
    """A flat Arrow table -> pandas with real types: UTC datetimes, timedeltas, Int64, boolean."""
    table = flatten(table)
    columns: dict[str, Any] = {}
    for name, column in zip(table.column_names, table.columns):
        columns[name] = _to_series(column)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
    frame.columns = pd.Index(table.column_names, dtype=object)
    return frame


def _to_series(column: pa.ChunkedArray) -> Any:
    kind = column.type
    if pa.types.is_interval(kind):
        return _interval_to_timedelta(column)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind):
        return pd.Series(column.to_pylist(), dtype=object)
    if pa.types.is_null(kind):
        return pd.Series([None] * len(column), dtype=object)
    if pa.types.is_integer(kind):
        return column.to_pandas(types_mapper={kind: pd.Int64Dtype()}.get)
    if pa.types.is_boolean(kind):
        return column.to_pandas(types_mapper={kind: pd.BooleanDtype()}.get)
    if pa.types.is_duration(kind):
        return column.to_pandas()
    return column.to_pandas()


def _interval_to_timedelta(column: pa.ChunkedArray) -> pd.Series:
    """DuckDB hands intervals back as month-day-nano; durations are what users expect."""
    values = column.to_pylist()
    nanos = [
        None if v is None else (v.months * 30 + v.days) * 86_400_000_000_000 + v.nanoseconds
        for v in values
    ]
    return pd.Series(pd.to_timedelta(np.array([np.nan if n is None else n for n in nanos]), unit="ns"))
