"""The columns of a Spark runs frame, from the catalog: Arrow types mapped to Spark types.

A Spark DataFrame needs its schema before any run is fetched, so it comes from the catalog
(the same typed, flat columns `df.runs.fetch` gives), plus:

- `_extra` (map<string, string>): every field the catalog does not list (unknown fields,
  the keys of map fields such as `paramValues.service`), its value as JSON text;
- columns whose catalog type is open (an array of objects with untyped parts, such as
  Airplane's `params`) hold their value as JSON text.

`to_pandas()` turns such a frame back into what `df.runs.fetch` gives. pyspark is imported
only where a Spark type is built.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa

from runs_pandas import frames
from runs_pandas.catalog import Resource, catalog

EXTRA = "_extra"
ERROR_CLASS = "_error_class"
ERROR_MESSAGE = "_error_message"
ERROR_STATUS = "_error_status"


@dataclass(frozen=True)
class Layout:
    """Output columns of one resource for a given set of scope columns (picklable, no secrets)."""

    resource_id: str
    scope: tuple[str, ...]  # scope columns of the input frame, in its order
    columns: tuple[tuple[str, pa.DataType], ...]  # typed output columns, in result order
    json_columns: frozenset[str] = field(default_factory=frozenset)
    open_fields: tuple[str, ...] = ()  # map fields whose keys become columns (`paramValues`)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def wire_schema(self) -> pa.Schema:
        """The Arrow schema Spark takes (durations in microseconds, as Spark holds them)."""
        return pa.schema([(name, wire_type(kind)) for name, kind in self.columns])


def wire_type(kind: pa.DataType) -> pa.DataType:
    """`kind` as Spark's Arrow bridge accepts it: durations in microseconds."""
    if pa.types.is_duration(kind):
        return pa.duration("us")
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(wire_type(kind.value_type))
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(f.name, wire_type(f.type)) for f in kind])
    return kind


def layout(resource_id: str, scope: Mapping[str, pa.DataType]) -> Layout:
    """The layout of `resource_id` fetched for scopes with these columns (name -> Arrow type)."""
    resource = catalog().resource(resource_id)
    params = _select_params(resource)
    kept = [name for name in scope if name in params]
    columns = [c for c in kept if params[c]]
    options = [c for c in kept if not params[c]]
    template = frames.flatten(
        frames.to_table(
            [], resource.fields, {c: [] for c in columns}, {c: [] for c in options},
            leading=resource.leading,  # the core's column order
        )
    )
    out: list[tuple[str, pa.DataType]] = []
    json_columns: set[str] = set()
    open_fields: list[str] = []
    for name, kind in zip(template.column_names, template.schema.types):
        if name in scope:
            out.append((name, scope[name]))
        elif pa.types.is_null(kind):
            open_fields.append(name)  # a map field: its keys go to _extra
        elif _has_null(kind):
            out.append((name, pa.string()))
            json_columns.add(name)
        else:
            out.append((name, kind))
    return Layout(resource.id, tuple(kept), tuple(out), frozenset(json_columns), tuple(open_fields))


def _select_params(resource: Resource) -> dict[str, bool]:
    """Each SELECT param of the resource, and whether its value becomes a column."""
    found: dict[str, bool] = {}
    for method in resource.methods_for("select"):
        for param in method.params:
            found[param.name] = found.get(param.name, False) or param.column
    return found


def _has_null(kind: pa.DataType) -> bool:
    if pa.types.is_null(kind):
        return True
    if pa.types.is_struct(kind):
        return any(_has_null(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _has_null(kind.value_type)
    return False


# -- Arrow -> Spark ----------------------------------------------------------------------


def spark_type(kind: pa.DataType) -> Any:
    """The Spark type that holds values of the Arrow type `kind`."""
    from pyspark.sql import types as T

    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return T.StringType()
    if pa.types.is_boolean(kind):
        return T.BooleanType()
    if pa.types.is_integer(kind):
        return T.LongType()
    if pa.types.is_floating(kind):
        return T.DoubleType()
    if pa.types.is_timestamp(kind):
        return T.TimestampType() if kind.tz else T.TimestampNTZType()
    if pa.types.is_date(kind):
        return T.DateType()
    if pa.types.is_duration(kind):
        return T.DayTimeIntervalType()
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return T.ArrayType(spark_type(kind.value_type))
    if pa.types.is_struct(kind):
        return T.StructType(
            [T.StructField(kind.field(i).name, spark_type(kind.field(i).type)) for i in range(kind.num_fields)]
        )
    if pa.types.is_map(kind):
        return T.MapType(spark_type(kind.key_type), spark_type(kind.item_type))
    raise TypeError(f"no Spark type for the Arrow type {kind}")


def spark_schema(plan: Layout, *, errors: bool = True) -> Any:
    """The Spark schema of the fetch output: the runs columns, `_extra`, the error columns."""
    from pyspark.sql import types as T

    fields = [T.StructField(name, spark_type(kind)) for name, kind in plan.columns]
    fields.append(T.StructField(EXTRA, T.MapType(T.StringType(), T.StringType())))
    if errors:
        fields += [
            T.StructField(ERROR_CLASS, T.StringType()),
            T.StructField(ERROR_MESSAGE, T.StringType()),
            T.StructField(ERROR_STATUS, T.LongType()),
        ]
    return T.StructType(fields)


# -- pandas frames in and out --------------------------------------------------------------


def conform(frame: pd.DataFrame, plan: Layout) -> pa.Table:
    """A fetched frame as an Arrow table in the layout's columns and types, then `_extra`
    (every other column, its values as JSON text)."""
    known = set(plan.names)
    data: dict[str, Any] = {}
    for name, kind in plan.columns:
        if name not in frame.columns:
            continue
        if name in plan.json_columns:
            data[name] = [_json_or_none(v) for v in frame[name]]
        else:
            data[name] = frame[name]
    table = pa.Table.from_pandas(
        pd.DataFrame(data, index=pd.RangeIndex(len(frame))),
        schema=pa.schema([(n, k) for n, k in plan.columns if n in data]),
        preserve_index=False,
    )
    for index, (name, kind) in enumerate(plan.columns):
        if name not in data:
            table = table.add_column(index, name, pa.nulls(len(frame), kind))
    table = table.cast(plan.wire_schema())
    extra_names = [c for c in frame.columns if c not in known]
    extra: list[Any] = [None] * len(frame)
    if extra_names:
        values = [frame[c].tolist() for c in extra_names]
        extra = [
            [(n, orjson.dumps(v, default=_json_default).decode()) for n, v in zip(extra_names, row) if not _missing(v)]
            or None
            for row in zip(*values)
        ]
    return table.append_column(EXTRA, pa.array(extra, EXTRA_TYPE))


EXTRA_TYPE = pa.map_(pa.string(), pa.string())
_pandas_types = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def to_pandas(table: pa.Table, plan: Layout | None = None) -> pd.DataFrame:
    """A runs table from Spark (`sdf.toArrow()`) as `df.runs.fetch` gives it: typed columns,
    `_extra` opened back into columns, JSON columns read back."""
    names = table.column_names
    extra = table.column(EXTRA).to_pylist() if EXTRA in names else []
    base = table.select([n for n in names if n != EXTRA and not n.startswith("_error")])
    if plan is not None:
        types = dict(plan.columns)
        base = pa.table({n: base.column(n).cast(types[n]) if n in types else base.column(n) for n in base.column_names})
    frame = frames.to_frame(base)
    json_columns = plan.json_columns if plan is not None else frozenset()
    for name in json_columns:
        if name in frame.columns:
            frame[name] = pd.Series([_unjson(v) for v in frame[name]], dtype=object)
    rows = [{k: orjson.loads(v) for k, v in (pairs or [])} for pairs in extra]
    if any(rows):
        opened = frames.to_frame(frames.to_table(rows, ()))
        for name in opened.columns:
            frame[name] = opened[name].array
        frame = frame[_ordered(list(frame.columns), plan)]
    return frame


def _ordered(columns: list[str], plan: Layout | None) -> list[str]:
    """Keys of an open field (`paramValues.x`) where the field stands, as `df.runs.fetch` has them."""
    if plan is None or not plan.open_fields:
        return columns
    known = plan.names
    order: list[str] = []
    for name in columns:
        if name in known or not any(name.startswith(f + ".") for f in plan.open_fields):
            order.append(name)
    for field_name in plan.open_fields:
        keys = [c for c in columns if c.startswith(field_name + ".")]
        anchor = _anchor(field_name, plan, order)
        order[anchor:anchor] = keys
    return order


def _anchor(field_name: str, plan: Layout, order: list[str]) -> int:
    """Where the keys of `field_name` go: after the last catalog column before it."""
    template = plan.names
    resource = catalog().resource(plan.resource_id)
    names = [f.name for f in resource.fields]
    before = names[: names.index(field_name)] if field_name in names else []
    positions = [order.index(n) for n in template if n in before and n in order]
    return max(positions) + 1 if positions else len(order)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _json_or_none(value: Any) -> str | None:
    if _missing(value):
        return None
    return orjson.dumps(value, default=_json_default).decode()


def _unjson(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return value.total_seconds()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def scope_types(names: Sequence[str], spark_types: Mapping[str, Any]) -> dict[str, pa.DataType]:
    """Arrow types of the scope columns of a Spark frame (strings, integers, booleans)."""
    from pyspark.sql import types as T

    mapping: dict[type, pa.DataType] = {
        T.LongType: pa.int64(),
        T.IntegerType: pa.int64(),
        T.ShortType: pa.int64(),
        T.BooleanType: pa.bool_(),
        T.DoubleType: pa.float64(),
    }
    return {n: mapping.get(type(spark_types[n]), pa.string()) for n in names}
