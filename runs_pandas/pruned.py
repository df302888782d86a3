"""Reading pages for some fields only: a pruned explicit schema for pyarrow's JSON reader.

A statement that reads a few fields (`sql.needed`) has its pages read with a schema that
declares just those fields, every other one ignored, so the reader builds a narrow
table. Each needed field is declared with the type its catalog type reads as (text for
times); a field whose values are not all of that kind is read as marked text and decided
after the join (`mixed`), as on the full read. Where a method lifts an object (ARM's
`properties`), a field is declared both inside it and at the top, since the catalog does
not say where it lives; each page then keeps the side that holds it, and a page where both
sides do, or where an explicit `null` could mean "set to null" rather than "absent", raises
so the page takes the dict path (whose rows are the same, only slower).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from runs_pandas import mixed
from runs_pandas.catalog import Field, FieldType

MARK = b"runs_pandas.needed"  # schema metadata: this schema is pruned (and how)

_READ_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.DATETIME: pa.string(),  # read as text; typed to UTC datetimes afterwards
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.INTEGER: pa.int64(),
    FieldType.EPOCH_MS: pa.int64(),
    FieldType.DURATION_MS: pa.int64(),
    FieldType.NUMBER: pa.float64(),
}
pages_read = 0  # pages read pruned (tests look at it)
_ESCAPED_KEY = re.compile(rb'"(?:[^"\\\n]|\\.)*\\(?:[^"\\\n]|\\.)*"\s*:')


class Unsure(ValueError):
    """A page the pruned read cannot be sure of (the dict path reads it)."""


def schema(
    fields: Sequence[Field], rows_key: str, next_field: str | None, lift: str | None, needed: Collection[str]
) -> pa.Schema | None:
    """The explicit schema for reading only `needed` (dotted field paths); None when the
    paths cannot be declared (a path the catalog lacks, or the lifted object's own name)."""
    tree: dict[str, Any] = {}
    for path in sorted(needed):
        node = tree
        kinds = fields
        names = path.split(".")
        for depth, name in enumerate(names):
            field = next((f for f in kinds if f.name == name), None)
            if field is None:
                return None
            if depth == len(names) - 1:
                if field.type not in _READ_TYPES:
                    return None
                node[name] = _READ_TYPES[field.type]
            else:
                node = node.setdefault(name, {})
                if not isinstance(node, dict):
                    return None
                kinds = field.children
    if lift and lift in tree:
        return None
    row = _struct(tree)
    if lift and tree:
        row = pa.struct([*row, pa.field(lift, row)])
    declared = [pa.field(rows_key, pa.list_(row))]
    if next_field and next_field != rows_key:
        declared.append(pa.field(next_field, pa.string()))
    meta = {"lift": lift, "rows": rows_key}
    return pa.schema(declared, metadata={MARK: json.dumps(meta).encode()})


def _struct(tree: dict[str, Any]) -> pa.StructType:
    return pa.struct([pa.field(k, _struct(v) if isinstance(v, dict) else v) for k, v in tree.items()])


def pruned(schema: pa.Schema) -> bool:
    """True for a schema made by `schema` (its pages are read by `read_page` here)."""
    return bool(schema.metadata and MARK in schema.metadata)


def read_page(content: bytes, schema: pa.Schema, longest: int = 0) -> tuple[pa.Table, pa.Schema]:
    """A page (or a batch of pages, one a line, `longest` the longest) read for the needed
    fields only: a row per page, and the schema to read the next pages by. A field whose
    values are not all of its declared kind (an integer sent as text, kinds mixed) is read
    as marked text and decided after the join, as on the full read (`mixed`). Raises (a
    ValueError) when the reader is unsure; the caller's dict path then takes the page.
    """
    global pages_read
    meta = json.loads(schema.metadata[MARK])
    table, schema = mixed.read(content, schema, longest, "ignore")
    if meta["lift"]:
        table = _sides(table, content, meta["rows"], meta["lift"])
    pages_read += table.num_rows
    return table, schema


def _sides(table: pa.Table, content: bytes, rows_key: str, lift: str) -> pa.Table:
    """The pages with each field declared at the top and in `lift` kept on the one side
    that holds it (in `lift`, so lifting finds every field there); `Unsure` where both might."""
    column = table.column(rows_key)
    kind = column.type.value_type
    at = kind.get_field_index(lift)
    if at < 0 or not column.num_chunks:
        return table  # no field needed: nothing declared on either side
    names = [kind.field(at).type.field(i).name for i in range(kind.field(at).type.num_fields)]
    chunks = []
    for lists in column.chunks:
        rows = lists.values
        if rows.null_count:
            raise Unsure("a row is null")  # the dict path says what is wrong with it
        inner = rows.field(at)  # the rows are not null, so their children need no mask
        outside = [name for name in names if rows.field(name).null_count < len(rows)]
        if outside:  # rare: ARM keeps these fields on one side, which these rows break
            inner = _merged(inner, {name: rows.field(name) for name in outside}, content, lift)
        row = pa.StructArray.from_arrays([inner], [lift])
        chunks.append(pa.ListArray.from_arrays(lists.offsets, row, mask=lists.is_null() if lists.null_count else None))
    return table.set_column(table.schema.get_field_index(rows_key), rows_key, pa.chunked_array(chunks, chunks[0].type))


def _merged(inner: pa.StructArray, tops: dict[str, pa.Array], content: bytes, lift: str) -> pa.StructArray:
    """`inner` with the values outside it (`tops`) where it has none; `Unsure` unless a
    row's value outside is sure to count: not where both have one, nor with an explicit null."""
    names = [inner.type.field(i).name for i in range(inner.type.num_fields)]
    children = dict(zip(names, inner.flatten()))
    valid = inner.is_valid()
    for name, top in tops.items():
        low = children[name]
        both = pc.any(pc.and_(top.is_valid(), low.is_valid())).as_py()
        if both or _explicit_null(content, name) or pa.types.is_struct(top.type) and low.null_count < len(low):
            raise Unsure(f"the field {name!r} is both in {lift!r} and outside it")
        children[name] = pc.coalesce(low, top)
        valid = pc.or_(valid, top.is_valid())
    return pa.StructArray.from_arrays(list(children.values()), names, mask=pc.invert(valid))


def _explicit_null(content: bytes, name: str) -> bool:
    """Whether the page may hold `"name": null` (a key spelt with escapes counts as may)."""
    if re.search(rb'"' + re.escape(name.encode()) + rb'"\s*:\s*null', content):
        return True
    return b"\\" in content and _ESCAPED_KEY.search(content) is not None
