"""Checking page bodies, and reading them with pyarrow's JSON reader (the columnar path).

`page_rows` checks a parsed page against the catalog's shape before anything reads it: a
body that is not what the method says is an error, never rows.

While fetching, pages are read once by pyarrow, in batches of whole pages (their next links
were found in their bytes, `http.scan`; the batch's read checks them), and their bytes are
dropped; afterwards the pages' rows are joined into the
one struct `frames.to_table` types. A field whose values mix kinds is read as marked
text and decided after the join (`runs_pandas.mixed`). Whatever the reader cannot be sure
of makes these functions give up (raise, or return None), and the rows take the dict path
instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import pyarrow as pa

from runs_pandas import pruned
from runs_pandas.catalog import Field, FieldType

# pyarrow.json reads ISO text as timestamps (the catalog's text fields are declared as
# strings, any other timestamp makes a second read with it as text), integers beyond 64 bits
# as doubles (no double is taken), and fails on mixed kinds (`mixed` marks those) and
# repeated keys.

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

    `longest`: the longest line's length (the whole content when not given). A field whose
    values mix kinds is read as marked text (`mixed`), learnt from the reader's error; the
    table's schema metadata then names it, and a schema with that metadata (`mixed.names`)
    marks it in the next read straight away. `rows_struct` decides the marked leaves.
    """
    return _read(content, schema, rows_key, longest)[0]


def _read(content: bytes, schema: pa.Schema, rows_key: str, longest: int = 0) -> tuple[pa.Table, pa.Schema]:
    """`read_pages`, and the schema with the mixed-kind names it learnt."""
    from runs_pandas import mixed

    table, schema = mixed.read(content, schema, longest, "infer")
    if not pa.types.is_list(table.schema.field(rows_key).type):
        raise pa.ArrowInvalid("the rows are not a list")
    if mixed.METADATA_KEY in (schema.metadata or {}):  # the names learnt, for the next read
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **(schema.metadata or {})})
    return table, schema


def read_page(
    content: bytes, schema: pa.Schema, rows_key: str, *, longest: int = 0
) -> tuple[pa.Table, pa.Schema]:
    """One page body as a one-row Arrow table, read once and kept (its bytes can go), or a
    batch of pages (one a line, `longest` the longest) as a table of a row per page.

    Returns the table and the schema to read the next pages of the series by: where the
    reader took text for timestamps, the page is read again with them as text, and the
    pages after are read with that type straight away. Raises when the reader is unsure.
    """
    if pruned.pruned(schema):
        return pruned.read_page(content, schema, longest)
    table, schema = _read(content, schema, rows_key, longest)
    rows_type = table.schema.field(rows_key).type
    if _has(rows_type, pa.types.is_timestamp):
        rows_type = _no_times(rows_type)
        schema = _with_rows(schema, rows_key, rows_type)
        table, schema = _read(content, schema, rows_key, longest)
    # the next page is read with every field seen so far declared (not the all-null ones,
    # whose kind is not known yet): most pages then come out with one type, and joining
    # them needs no cast (a page of just the declared fields changes nothing: no walk)
    if rows_type != schema.field(rows_key).type:
        declared = _known(rows_type)
        if declared != schema.field(rows_key).type:
            schema = _with_rows(schema, rows_key, declared)
    return table, schema


def _with_rows(schema: pa.Schema, rows_key: str, rows_type: pa.DataType) -> pa.Schema:
    """`schema` with the rows declared as `rows_type` (its metadata kept)."""
    fields = [pa.field(rows_key, rows_type), *(f for f in schema if f.name != rows_key)]
    return pa.schema(fields, metadata=schema.metadata)


def rows_struct(parts: Sequence[pa.Array], schema: pa.Schema, rows_key: str, lift: str | None) -> pa.Array | None:
    """The rows of all pages (one struct array each, as read) as one struct array, typed as
    `_infer` would type the parsed rows; None when unsure (the dict path then reads them).

    Pages differ in the fields they hold and in what is null: their types are unified
    (fields in order of first appearance, as the parsed rows have them) and each page cast
    to that type before they are joined.
    """
    from runs_pandas import mixed

    parts = [p for p in parts if len(p)]
    if not parts:
        return None  # no rows: the dict path is as quick and sure
    redone = mixed.marked_parts(parts)
    if redone is None:
        return None
    parts = redone
    try:
        kind = parts[-1].type  # read with every field of the pages before declared
        if any(p.type != kind for p in parts):
            distinct = dict.fromkeys(p.type for p in parts)  # in order: fields as first seen
            unified = pa.unify_schemas(
                [pa.schema([pa.field("rows", t)]) for t in distinct], promote_options="permissive"
            )
            kind = unified.field("rows").type
        struct = pa.concat_arrays([p if p.type == kind else _cast(p, kind) for p in parts])
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
    return mixed.resolve(struct)


def _cast(array: pa.Array, kind: pa.DataType) -> pa.Array:
    """`array.cast(kind)` for the unified type, child by child: pyarrow's own cast of a
    struct gains a missing field with too few nulls inside lists of structs of structs."""
    if array.type == kind:
        return array
    if pa.types.is_struct(kind) and pa.types.is_struct(array.type):
        present = {array.type.field(i).name: c for i, c in enumerate(array.flatten())}
        fields = [kind.field(i) for i in range(kind.num_fields)]
        children = [
            _cast(present[f.name], f.type) if f.name in present else pa.nulls(len(array), f.type) for f in fields
        ]
        if not fields:
            return array.cast(kind)
        return pa.StructArray.from_arrays(children, fields=fields, mask=array.is_null() if array.null_count else None)
    if pa.types.is_list(kind) and pa.types.is_list(array.type):
        values = _cast(array.values, kind.value_type)
        return pa.ListArray.from_arrays(
            array.offsets, values, type=kind, mask=array.is_null() if array.null_count else None
        )
    return array.cast(kind)


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
