"""Checking page bodies, and reading them with pyarrow's JSON reader (the columnar path).

`page_rows` checks a parsed page against the catalog's shape before anything reads it: a
body that is not what the method says is an error, never rows.

While fetching, each page is read once, whole, by pyarrow (its row count and next link come
from that read, and its bytes are dropped); afterwards the pages' rows are joined into the
one struct `frames.to_table` types. Whatever
the reader cannot be sure of makes these functions give up (raise, or return None), and
the rows take the dict path instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import pyarrow as pa

from runs_pandas import pruned
from runs_pandas.catalog import Field, FieldType

# pyarrow.json reads ISO text as timestamps (the catalog's text fields are declared as
# strings, any other timestamp makes a second read with it as text), integers beyond 64 bits
# as doubles (no double is taken), and fails on mixed kinds and repeated keys.

class ShapeError(ValueError):
    """A page whose shape is not the catalog's; the message says what was expected."""


def page_rows(body: Any, path: str) -> list[dict[str, Any]]:
    """The rows at `path` ("$", "$.value") of a parsed page, checked: objects, in a list.

    An absent or null rows field is no rows (APIs omit empty lists); `path` "$" is one object.
    Anything else raises `ShapeError` saying what was expected and what came.
    """
    node = body
    parts = path.split(".")[1:]
    where = "the body"
    for part in parts:
        if not isinstance(node, dict):
            raise ShapeError(f"expected {where} to be a JSON object holding {path!r}, got {_kind(node)}")
        node = node.get(part)
        where = f"{path!r}"
    if not parts:
        if not isinstance(node, dict):
            raise ShapeError(f"expected the body to be one JSON object, got {_kind(node)}")
        return [node]
    if node is None:
        return []
    if isinstance(node, dict):
        return [node]
    if not isinstance(node, list):
        raise ShapeError(f"expected {where} to be a list of objects, got {_kind(node)}")
    bad = next((i for i, row in enumerate(node) if not isinstance(row, dict)), None)
    if bad is not None:
        raise ShapeError(f"expected {where} to be a list of objects, but item {bad} is {_kind(node[bad])}")
    return node


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def objects_page(content: bytes) -> bool:
    """True when the bytes are one JSON object (the only thing handed to pyarrow's reader:
    it crashes the process on some other bodies, such as `null`)."""
    text = content.strip()
    return text.startswith(b"{") and text.endswith(b"}") and b"\n" not in text


_SAFE_LEAVES = (pa.types.is_string, pa.types.is_int64, pa.types.is_boolean, pa.types.is_null)


def page_schema(
    fields: Sequence[Field],
    rows_key: str,
    next_field: str | None,
    lift: str | None,
    needed: Collection[str] | None = None,
) -> pa.Schema:
    """The explicit part of a page's schema: the catalog's times as text, the next link.

    With a lift, the times are declared inside the lifted object (where ARM keeps them);
    `rows_struct` gives up where such a name is also outside it. `needed` (dotted field
    paths, `sql.needed`) prunes the schema to those fields: the pages are then read for
    them only (`pruned`), every other field ignored.
    """
    if needed is not None:
        narrow = pruned.schema(fields, rows_key, next_field, lift, needed)
        if narrow is not None:
            return narrow
    times = [pa.field(f.name, pa.string()) for f in fields if f.type is FieldType.DATETIME]
    row = [pa.field(lift, pa.struct(times))] if lift and times else times
    schema = [pa.field(rows_key, pa.list_(pa.struct(row)))]
    if next_field and next_field != rows_key:
        schema.append(pa.field(next_field, pa.string()))
    return pa.schema(schema)


def read_pages(content: bytes, schema: pa.Schema, rows_key: str, *, longest: int = 0) -> pa.Table:
    """Page bodies (one compact JSON object a line) as one Arrow table; raises when unsure.

    `longest`: the longest line's length (the whole content when not given).
    """
    import io

    import pyarrow.json as pj

    table = pj.read_json(
        io.BytesIO(content),
        # a block holds whole lines: at least the longest page; one page needs no threads
        read_options=pj.ReadOptions(use_threads=False, block_size=max(1 << 20, (longest or len(content)) + 1)),
        parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer"),
    )
    if not pa.types.is_list(table.schema.field(rows_key).type):
        raise pa.ArrowInvalid("the rows are not a list")
    return table


def read_page(content: bytes, schema: pa.Schema, rows_key: str) -> tuple[pa.Table, pa.Schema]:
    """One page body as a one-row Arrow table, read once and kept (its bytes can go).

    Returns the table and the schema to read the next pages of the series by: where the
    reader took text for timestamps, the page is read again with them as text, and the
    pages after are read with that type straight away. Raises when the reader is unsure.
    """
    if pruned.pruned(schema):
        return pruned.read_page(content, schema)
    table = read_pages(content, schema, rows_key)
    rows_type = table.schema.field(rows_key).type
    if _has(rows_type, pa.types.is_timestamp):
        rows_type = _no_times(rows_type)
        schema = pa.schema([pa.field(rows_key, rows_type), *(f for f in schema if f.name != rows_key)])
        table = read_pages(content, schema, rows_key)
    # the next page is read with every field seen so far declared (not the all-null ones,
    # whose kind is not known yet): most pages then come out with one type, and joining
    # them needs no cast
    declared = _known(rows_type)
    if declared != schema.field(rows_key).type:
        schema = pa.schema([pa.field(rows_key, declared), *(f for f in schema if f.name != rows_key)])
    return table, schema


def rows_struct(parts: Sequence[pa.Array], schema: pa.Schema, rows_key: str, lift: str | None) -> pa.Array | None:
    """The rows of all pages (one struct array each, as read) as one struct array, typed as
    `_infer` would type the parsed rows; None when unsure (the dict path then reads them).

    Pages differ in the fields they hold and in what is null: their types are unified
    (fields in order of first appearance, as the parsed rows have them) and each page cast
    to that type before they are joined.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return None  # no rows: the dict path is as quick and sure
    try:
        kind = parts[-1].type  # read with every field of the pages before declared
        if any(p.type != kind for p in parts):
            unified = pa.unify_schemas(
                [pa.schema([pa.field("rows", p.type)]) for p in parts], promote_options="permissive"
            )
            kind = unified.field("rows").type
        struct = pa.concat_arrays([p if p.type == kind else p.cast(kind) for p in parts])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
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


def _known(kind: pa.DataType) -> pa.DataType:
    """`kind` without the fields whose kind is not known yet: null, or lists of null."""
    if pa.types.is_struct(kind):
        fields = [kind.field(i) for i in range(kind.num_fields)]
        return pa.struct([pa.field(f.name, _known(f.type)) for f in fields if not _unknown(f.type)])
    if pa.types.is_list(kind):
        return pa.list_(_known(kind.value_type))
    return kind


def _unknown(kind: pa.DataType) -> bool:
    return bool(pa.types.is_null(kind) or pa.types.is_list(kind) and _unknown(kind.value_type))


def _no_times(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        return pa.struct([pa.field(kind.field(i).name, _no_times(kind.field(i).type)) for i in range(kind.num_fields)])
    if pa.types.is_list(kind):
        return pa.list_(_no_times(kind.value_type))
    return kind
