"""Which fields of each resource a SELECT reads, so its pages are read for those only.

A GROUP BY over one column needs no wide table. When every column the statement names is
placed for sure, as a scalar field of a resource it reads (`status`), a scalar inside an
object field (`platform.os`, `r.systemData.createdAt`), a param of that resource (a scope
column the engine adds), or an alias the statement defines, its pages are read for just
those fields (`pages.page_schema(..., needed=...)`). Whatever it cannot be sure of reads
every field of every resource (None): `*` outside `count(*)`, `COLUMNS(...)`, a whole
object, list or map column, a name it cannot place (a field the catalog does not know, a
table used as a row value), `NATURAL JOIN`, `PIVOT`/`UNPIVOT`, lambdas, a resource's
columns renamed by position (`AS r(a, b)`), SQL that sqlglot cannot read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlglot import exp

from runs_pandas.catalog import Field, FieldType
from runs_pandas.sql.read import Reference

# leaves a page can be read for with a declared type (`pages.page_schema`)
READ_LEAVES = frozenset(
    {
        FieldType.STRING, FieldType.INTEGER, FieldType.NUMBER, FieldType.BOOLEAN,
        FieldType.DATETIME, FieldType.EPOCH_MS, FieldType.DURATION_MS,
    }
)

PRUNE = True  # pages read for the needed fields only (tests switch it off to compare)


class _Unsure(Exception):
    """The statement may read more than the analysis can place: read every field."""


def needed_fields(
    tree: exp.Expression | None, references: Sequence[Reference], local: Collection[str] = ()
) -> dict[str, frozenset[str] | None]:
    """Per resource id, the dotted paths of the fields `tree` reads (None: every field).

    `references` are the statement's (`read`): their pinned params are the scope columns
    the engine adds. `local` holds the column names of the notebook frames it may name.

    >>> needed_fields(sqlglot.parse_one("SELECT status, count(*) FROM p.s.r GROUP BY 1"), [r])
    {'p.s.r': frozenset({'status'})}
    """
    ids = list(dict.fromkeys(r.resource.id for r in references))
    try:
        if not PRUNE or not isinstance(tree, exp.Query):
            raise _Unsure
        found = _Reader(tree, references, local).read()
    except _Unsure:
        return dict.fromkeys(ids)
    return {rid: frozenset(found.get(rid, ())) for rid in ids}


class _Reader:
    """One walk over a statement: each column reference placed, or `_Unsure` raised."""

    def __init__(self, tree: exp.Expression, references: Sequence[Reference], local: Collection[str]) -> None:
        self.tree = tree
        self.resources = list({r.resource.id: r.resource for r in references}.values())
        self.fields = {r.id: _by_name(r.fields) for r in self.resources}
        # a param is a column for sure where the statement pins it and it is a scope column
        # (one left open, or an option such as a page size, may be a field the rows bring)
        self.params: dict[str, set[str]] = {r.id: set() for r in self.resources}
        for reference in references:
            resource = reference.resource
            scope = {p.name for m in resource.methods for p in m.params if p.column}
            self.params[resource.id] |= {n.lower() for n in reference.conditions if n in scope}
        self.qualifiers: dict[str, set[str]] = {}  # table alias or name -> resource ids
        for table in tree.find_all(exp.Table):
            rid = ".".join(p for p in (table.catalog, table.db, table.name) if p).lower()
            if rid not in self.fields:
                continue
            alias = table.args.get("alias")
            if isinstance(alias, exp.TableAlias) and alias.columns:
                raise _Unsure  # columns renamed by position: the names no longer say which field
            for name in {table.alias_or_name.lower(), table.name.lower()}:
                self.qualifiers.setdefault(name, set()).add(rid)
        self.aliases = {a.alias.lower() for a in tree.find_all(exp.Alias) if a.alias}
        for alias in tree.find_all(exp.TableAlias):
            self.aliases |= {c.name.lower() for c in alias.columns}
        self.aliases |= {name.lower() for name in local}
        self.found: dict[str, set[str]] = {}

    def read(self) -> dict[str, set[str]]:
        for node in self.tree.walk():
            if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
                raise _Unsure
            if isinstance(node, (exp.Columns, exp.Pivot, exp.Lambda)):
                raise _Unsure
            if isinstance(node, exp.Join):
                if node.args.get("method") and str(node.args["method"]).upper() == "NATURAL":
                    raise _Unsure
                for using in node.args.get("using") or ():
                    self._place([using.name])
            if isinstance(node, exp.Column):
                self._place(_parts(node))
        return self.found

    def _place(self, parts: list[str]) -> None:
        """Record the field(s) a column reference can mean; `_Unsure` when one is not a
        scalar the catalog knows, or the reference means nothing the analysis can place."""
        placed = False
        for i, part in enumerate(parts):
            qualifier = parts[i - 1].lower() if i else None
            for resource in self.resources:
                if qualifier in self.qualifiers and resource.id not in self.qualifiers[qualifier]:
                    continue  # qualified by another table
                name = part.lower()
                if name in self.params[resource.id] and i == len(parts) - 1:
                    placed = True
                for field in self.fields[resource.id].get(name, ()):
                    self.found.setdefault(resource.id, set()).add(_leaf(field, parts[i + 1 :]))
                    placed = True
        if placed:
            return
        if parts[-1].lower() in self.aliases and not (len(parts) > 1 and parts[-2].lower() in self.qualifiers):
            return  # a column the statement itself names (a select alias, a CTE's column)
        raise _Unsure


def _parts(column: exp.Column) -> list[str]:
    """A column's dotted names, struct access included (`a.b.c.d` parses as a Dot)."""
    parts = [p.name for p in column.parts]
    node: exp.Expression = column
    while isinstance(node.parent, exp.Dot) and node.parent.this is node:
        node = node.parent
        parts.append(node.expression.name)
    return parts


def _by_name(fields: Sequence[Field]) -> dict[str, list[Field]]:
    """Fields by their lower-case name (DuckDB's names are case-insensitive)."""
    out: dict[str, list[Field]] = {}
    for field in fields:
        out.setdefault(field.name.lower(), []).append(field)
    return out


def _leaf(field: Field, rest: Sequence[str]) -> str:
    """The dotted path of the scalar `rest` names inside `field`; `_Unsure` otherwise."""
    path = [field.name]
    for name in rest:
        if field.type is not FieldType.OBJECT:
            raise _Unsure
        children = _by_name(field.children).get(name.lower(), [])
        if len(children) != 1:
            raise _Unsure
        field = children[0]
        path.append(field.name)
    if field.type not in READ_LEAVES:
        raise _Unsure  # a whole object, list, map or free-form value: all its fields
    return ".".join(path)


def frame_columns(frames: Mapping[str, Any]) -> list[str]:
    """The column names of notebook frames (pandas DataFrames or Arrow tables)."""
    names: list[str] = []
    for frame in frames.values():
        columns = getattr(frame, "column_names", None)
        names.extend(str(c) for c in (columns if columns is not None else getattr(frame, "columns", ())))
    return names


def only(fields: Sequence[Field], paths: Collection[str] | None) -> tuple[Field, ...]:
    """The catalog fields cut down to the dotted `paths` (objects to the children named),
    in catalog order; all of them when `paths` is None."""
    if paths is None:
        return tuple(fields)
    if not paths:  # `count(*)` alone: one column of nulls still holds the row count
        return tuple(f for f in fields if f.type in READ_LEAVES)[:1] or tuple(fields)
    kept = []
    for field in fields:
        inner = {p.split(".", 1)[1] for p in paths if p.startswith(field.name + ".")}
        if field.name in paths:
            kept.append(field)
        elif inner and field.type is FieldType.OBJECT:
            kept.append(field.model_copy(update={"children": only(field.children, inner)}))
    return tuple(kept)
