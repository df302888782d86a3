"""Leaves whose values mix kinds (a string here, a number or boolean there), read columnar.

pyarrow's JSON reader refuses a field that changes kind between values, even with `string`
declared for it. Its error names the field; from then on the page bytes are marked before
the read: each boolean or number value of a key so named becomes a string that starts with
`MARK` (a random prefix a server cannot guess), so the field reads as text. Once all pages
are joined, each marked leaf is decided as a whole, as the dict path (`frames._arrow`)
decides it from the parsed values: no value was a string -> the values' own kind (booleans,
integers, or doubles where a number has a fraction); kinds mixed -> text, with each
boolean or number as its JSON text. Objects or lists among the values, and numbers whose
text `json.dumps` would write differently, are not marked or not taken: the reader then
gives up and the dict path reads those pages.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_TOKEN = secrets.token_hex(6)
MARK = "\x01" + _TOKEN  # a marked value's prefix, as the reader decodes it
_MARK_JSON = b"\\u0001" + _TOKEN.encode()  # the same, as JSON text in the page bytes
METADATA_KEY = b"runs_pandas.mixed"  # schema metadata: the names marked, one a line
MAX_NAMES = 16  # names learned from the reader's errors, per schema

# Names ever marked in this process: leaves so named are looked at after the join (a name
# is only added, so no marked leaf is missed; only speed depends on it).
seen: set[str] = set()

_CHANGED = re.compile(r"Column\((/[^)]*)\) changed from (\w+) to (\w+)")
_SCALARS = {"string", "number", "boolean"}
# a boolean or a number json.dumps would write the same (no exponent, no "-0"): only
# fractions are checked after the read (a trailing zero)
_VALUE = rb"((?:true|false|0|-?[1-9][0-9]*|-0(?=\.))(?:\.[0-9]+)?)(?=[,}\]\s])"


def names(schema: pa.Schema) -> list[str]:
    """The names `schema` says to mark (none for a schema that says nothing)."""
    text = (schema.metadata or {}).get(METADATA_KEY, b"")
    return [n for n in text.decode().split("\n") if n]


def learn(error: Exception, schema: pa.Schema) -> pa.Schema | None:
    """`schema` that also marks the field the reader's `error` names; None when the error is
    not a change between string, number and boolean of a named field (or nothing new)."""
    found = _CHANGED.search(str(error))
    if found is None or not {found.group(2), found.group(3)} <= _SCALARS:
        return None
    name = found.group(1).rsplit("/", 1)[-1]
    known = names(schema)
    if name in ("", "[]") or name in known or len(known) >= MAX_NAMES or '"' in name or "\\" in name:
        return None
    seen.add(name)
    metadata = {**(schema.metadata or {}), METADATA_KEY: "\n".join([*known, name]).encode()}
    return pa.schema([_as_text(f, name) for f in schema], metadata=metadata)


def _as_text(field: pa.Field, name: str) -> pa.Field:
    """`field` with the leaves called `name` declared as text (what marking makes of them)."""
    kind = field.type
    if pa.types.is_struct(kind):
        return field.with_type(pa.struct([_as_text(kind.field(i), name) for i in range(kind.num_fields)]))
    if pa.types.is_list(kind):
        return field.with_type(pa.list_(_as_text(kind.value_field, name)))
    return field.with_type(pa.string()) if field.name == name else field


def mark(content: bytes, schema: pa.Schema) -> bytes:
    """The page bytes with each boolean or number value of the schema's names as marked text."""
    for name in names(schema):
        key = b'"' + name.encode() + b'"'
        if key in content:
            content = _pattern(key).sub(rb'\1"' + _MARK_JSON.replace(b"\\", b"\\\\") + rb'\2"', content)
    return content


@functools.lru_cache(maxsize=64)
def read(content: bytes, schema: pa.Schema, longest: int, unexpected: str) -> tuple[pa.Table, pa.Schema]:
    """Page bodies (one a line) read by pyarrow with `schema`, each field of mixed kinds
    learnt from the reader's refusal and marked; returns the table and the schema it took.

    `longest`: the longest line (0: the whole content); `unexpected`: pyarrow's
    `unexpected_field_behavior` ("infer" reads every field, "ignore" only those declared).
    """
    import pyarrow.json as pj

    while True:
        marked = mark(content, schema)
        # a block holds whole lines: at least the longest, grown by what marking added at
        # most; content of one block needs no threads, a batch is read a block per thread
        block = max(1 << 20, (longest + len(marked) - len(content) if longest else len(marked)) + 1)
        try:
            table = pj.read_json(
                pa.BufferReader(marked),  # the bytes as they are: no Python file calls
                read_options=pj.ReadOptions(use_threads=len(marked) > block, block_size=block),
                parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected),
            )
        except pa.ArrowInvalid as exc:
            learnt = learn(exc, schema)
            if learnt is None:
                raise
            schema = learnt
            continue
        return table, schema


def _pattern(key: bytes) -> re.Pattern[bytes]:
    """`key` as an object key (JSON allows blanks around the colon), then a value to mark."""
    return re.compile(b"(" + re.escape(key) + rb"[ \t\r\n]*:[ \t\r\n]*)" + _VALUE)


def marked_parts(parts: list[pa.Array]) -> list[pa.Array] | None:
    """Pages read before a name was learned hold its values as booleans or integers: as
    marked text, like the pages after, so they join. None where one holds doubles."""
    if not seen:
        return parts
    out = []
    last: tuple[pa.DataType, bool] | None = None  # pages mostly share types: == beats a walk
    for part in parts:
        if last is None or part.type != last[0]:
            last = (part.type, _native_named(part.type, frozenset(seen)))
        if not last[1]:
            out.append(part)
            continue
        redone = _each_leaf(part, _as_marked)
        if redone is None:
            return None
        out.append(redone)
    return out


def resolve(struct: pa.Array) -> pa.Array | None:
    """The joined rows with each marked leaf decided as the dict path decides it; None
    when a marked number's text is not what `json.dumps` writes (the dict path then)."""
    if not seen:
        return struct
    return _each_leaf(struct, _decide)


def _each_leaf(array: pa.Array, change: Any) -> pa.Array | None:
    """`array` with `change` applied to the leaves named as a marked name (ends with it)."""
    kind = array.type
    if pa.types.is_struct(kind):
        names_in = [kind.field(i).name for i in range(kind.num_fields)]
        if not any(_holds_named(kind.field(i)) for i in range(kind.num_fields)):
            return array
        children = []
        for name, child in zip(names_in, array.flatten()):
            if _named(name) and not pa.types.is_struct(child.type) and not pa.types.is_list(child.type):
                done = change(child)
            else:
                done = _each_leaf(child, change)
            if done is None:
                return None
            children.append(done)
        return pa.StructArray.from_arrays(children, names_in, mask=array.is_null() if array.null_count else None)
    if pa.types.is_list(kind):
        values = _each_leaf(array.values, change)
        if values is None:
            return None
        if values is array.values:
            return array
        return pa.ListArray.from_arrays(array.offsets, values, mask=array.is_null() if array.null_count else None)
    return array


def _named(name: str) -> bool:
    return any(name.endswith(n) for n in seen)


def _native_named(kind: pa.DataType, marked: frozenset[str]) -> bool:
    """Whether a leaf named as one of the `marked` names holds other than text (or nulls)."""
    if pa.types.is_list(kind):
        return _native_named(kind.value_type, marked)
    if not pa.types.is_struct(kind):
        return False
    for child in (kind.field(i) for i in range(kind.num_fields)):
        nested = pa.types.is_struct(child.type) or pa.types.is_list(child.type)
        if nested and _native_named(child.type, marked):
            return True
        if not nested and any(child.name.endswith(n) for n in marked) and not (pa.types.is_string(child.type) or pa.types.is_null(child.type)):
            return True
    return False


def _holds_named(field: pa.Field) -> bool:
    kind = field.type
    if _named(field.name):
        return True
    if pa.types.is_struct(kind):
        return any(_holds_named(kind.field(i)) for i in range(kind.num_fields))
    if pa.types.is_list(kind):
        return _holds_named(pa.field("", kind.value_type))
    return False


def _as_marked(leaf: pa.Array) -> pa.Array | None:
    if pa.types.is_boolean(leaf.type) or pa.types.is_int64(leaf.type):
        return pc.binary_join_element_wise(pa.scalar(MARK), pc.cast(leaf, pa.string()), "")
    if pa.types.is_floating(leaf.type):
        return None
    return leaf


_BOOLEANS = pa.array(["true", "false"])


def _decide(leaf: pa.Array) -> pa.Array | None:
    if not pa.types.is_string(leaf.type):
        return leaf
    marked = pc.starts_with(leaf, MARK)
    count = pc.sum(marked).as_py() or 0
    if not count:
        return leaf
    text = pc.if_else(marked, pc.utf8_slice_codeunits(leaf, len(MARK)), leaf)
    values = pc.filter(text, marked)
    booleans = pc.sum(pc.is_in(values, _BOOLEANS)).as_py() or 0
    numbers = pc.filter(values, pc.invert(pc.is_in(values, _BOOLEANS)))
    with_fraction = pc.match_substring(numbers, ".")
    fractions = pc.unique(pc.filter(numbers, with_fraction)).to_pylist()
    try:
        pc.cast(pc.filter(numbers, pc.invert(with_fraction)), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # beyond 64 bits: the parser makes a double of it
    if any(repr(float(t)) != t for t in fractions):
        return None  # a number json.dumps writes otherwise (a trailing zero)
    if count == len(leaf) - leaf.null_count:  # no value was a string: the values' own kind
        if booleans == count:
            return pc.equal(text, "true")
        if not booleans:  # numbers: doubles where one has a fraction, as pyarrow infers them
            return pc.cast(text, pa.float64() if fractions else pa.int64())
    return text


def restore(value: Any, parse: Callable[[bytes], Any]) -> Any:
    """Rows as dicts (`to_pylist` of marked parts) with the marked values as `parse` (the
    dict path's JSON parser) makes them from what was sent."""
    if not seen:
        return value
    if isinstance(value, str):
        return parse(value[len(MARK):].encode()) if value.startswith(MARK) else value
    if isinstance(value, dict):
        return {k: restore(v, parse) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v, parse) for v in value]
    return value
