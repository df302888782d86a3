"""Field predicates and LIMIT into the API's own filters, as the catalog describes them.

Only a conjunct the API can answer without losing a row is pushed: the API may return a
few more rows (`ne` keeps NULLs, `since` bounds the last update), never fewer, and the
whole WHERE clause still runs in DuckDB. LIMIT is pushed only when every conjunct is
answered exactly and the API's order is the query's order.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlglot import exp

from runs_pandas.catalog import Method, Resource
from runs_pandas.catalog.models import Filter
from runs_pandas.errors import ParamError
from runs_pandas.sql.read import literal, pin

_FLIP = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}
_OPS: dict[type[exp.Expression], str] = {
    exp.EQ: "eq", exp.NEQ: "ne", exp.GT: "gt", exp.GTE: "ge", exp.LT: "lt", exp.LTE: "le"
}
_NOW_WORDS = ("now", "current_", "today", "get_current")


@dataclass(frozen=True)
class Pushed:
    """What one request series asks the API for, and what is left to DuckDB alone."""

    args: tuple[tuple[str, Any], ...] = ()  # request args added ($filter, since, $top)
    pushed: tuple[str, ...] = ()  # the SQL conjuncts the API answers
    residual: tuple[str, ...] = ()  # the SQL conjuncts only DuckDB answers
    limit: int | None = None  # stop the series after this many rows
    exact: bool = True  # the API answers every pushed conjunct exactly


@dataclass
class _Where:
    odata: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def push(
    table: exp.Table | None,
    resource: Resource,
    method: Method,
    values: Mapping[str, Any],
    *,
    pinned: set[str],
    alone: bool,
) -> Pushed:
    """What `method` can be asked beyond the pinned params, for the reference at `table`."""
    if table is None:
        return Pushed()
    conjuncts = where_conjuncts(table)
    check_values(conjuncts, resource, table)
    if not alone:  # one table for several references: pushing one's WHERE would starve another
        return Pushed(residual=tuple(c.sql("duckdb") for c in conjuncts))
    where, pushed, residual, exact = _Where(), [], [], True
    for conjunct in conjuncts:
        column = _own_column(conjunct, table, values)
        if column is not None and column.lower() in {p.lower() for p in pinned}:
            pushed.append(conjunct.sql("duckdb"))
            continue
        result = _translate(conjunct, table, method, values)
        if result is None:
            residual.append(conjunct.sql("duckdb"))
            exact = False
            continue
        odata, params, is_exact = result
        if odata:
            where.odata.append(odata)
        for name, value in params.items():
            where.params[name] = max(value, where.params[name]) if name in where.params else value
        pushed.append(conjunct.sql("duckdb"))
        exact = exact and is_exact
    args: dict[str, Any] = {
        k: _iso(v) if isinstance(v, datetime) else v for k, v in where.params.items() if k not in pinned
    }
    if where.odata and method.filter_param and method.filter_param not in pinned:
        args[method.filter_param] = " and ".join(where.odata)
    limit = _limit(table, method) if exact else None
    if limit is not None and method.top_param and method.top_param not in pinned:
        args[method.top_param] = limit
    elif limit is not None and method.paginator.size_param and method.paginator.size_param not in pinned:
        size = method.param(method.paginator.size_param)
        top = size.maximum if size is not None and size.maximum else limit
        args[method.paginator.size_param] = min(limit, top)
    return Pushed(tuple(args.items()), tuple(pushed), tuple(residual), limit, exact)


def since_args(resource: Resource, method: Method, since: datetime) -> dict[str, Any]:
    """The args that ask `method` only for runs created at or after `since` (for syncing)."""
    created = resource.runs.created_at[0] if resource.runs and resource.runs.created_at else None
    for spec in method.filters:
        if spec.field == created and "ge" in spec.operators:
            odata, params, _ = _render(spec, "ge", since.astimezone(UTC))
            if odata and method.filter_param:
                return {method.filter_param: odata}
            return {k: _iso(v) for k, v in params.items()}
    return {}


def ids_args(method: Method, field: str, ids: list[str]) -> dict[str, Any] | None:
    """The args that ask `method` for exactly the runs `ids` (an `eq` filter on the id field,
    OR-ed), or None when its API cannot filter on `field` that way (for syncing)."""
    for spec in method.filters:
        if spec.field == field and "eq" in spec.operators and spec.odata and method.filter_param:
            parts = [_render(spec, "eq", value)[0] for value in ids]
            return {method.filter_param: " or ".join(p for p in parts if p)}
    return None


def where_conjuncts(table: exp.Table) -> list[exp.Expression]:
    """The top-level AND parts of the WHERE clause of the SELECT reading `table`."""
    select = table.find_ancestor(exp.Select)
    where = select.args.get("where") if select is not None else None
    if where is None:
        return []
    node = where.this
    return [cast(exp.Expression, c) for c in node.flatten()] if isinstance(node, exp.And) else [node]


def check_values(conjuncts: list[exp.Expression], resource: Resource, table: exp.Table) -> None:
    """Refuse `status = 'failed'` before any request when the known value is 'Failed'."""
    for conjunct in conjuncts:
        node = _unparen(conjunct)
        pairs: list[tuple[exp.Expression, exp.Expression]] = []
        if isinstance(node, exp.EQ):
            pairs = [(node.this, node.expression), (node.expression, node.this)]
        elif isinstance(node, exp.In) and not node.args.get("query"):
            pairs = [(node.this, item) for item in node.expressions]
        for left, right in pairs:
            name = _column_of(left, table)
            spec = resource.field(name) if name else None
            if spec is None or not spec.enum:
                continue
            ok, value = literal(right, {})
            if not ok or not isinstance(value, str) or value in spec.enum:
                continue
            same = [v for v in spec.enum if v.lower() == value.lower()]
            close = same or difflib.get_close_matches(value, list(spec.enum), n=1, cutoff=0.8)
            if close:
                raise ParamError(
                    f"{name} {value!r} is not a {name}; did you mean {close[0]!r}? "
                    f"Known values: {', '.join(spec.enum)}"
                )


def _translate(
    conjunct: exp.Expression, table: exp.Table, method: Method, values: Mapping[str, Any]
) -> tuple[str | None, dict[str, Any], bool] | None:
    """(filter text, params, exact) for one conjunct the API can answer, else None."""
    node = _unparen(conjunct)
    if isinstance(node, exp.Or):
        parts = [_translate(cast(exp.Expression, p), table, method, values) for p in node.flatten()]
        if any(p is None or p[0] is None or p[1] for p in parts) or not method.filter_param:
            return None
        texts = [p[0] for p in parts if p is not None and p[0]]
        return "(" + " or ".join(texts) + ")", {}, all(p[2] for p in parts if p is not None)
    if isinstance(node, exp.In) and not node.args.get("query") and not node.args.get("field"):
        ors: list[exp.Expression] = [
            exp.EQ(this=node.this.copy(), expression=item.copy()) for item in node.expressions
        ]
        if not ors or len(ors) > 20:
            return None
        if len(ors) == 1:
            return _translate(ors[0], table, method, values)
        return _translate(exp.Or(this=ors[0], expression=_or(ors[1:])), table, method, values)
    if isinstance(node, exp.Between):
        low = exp.GTE(this=node.this.copy(), expression=node.args["low"].copy())
        high = exp.LTE(this=node.this.copy(), expression=node.args["high"].copy())
        first, second = (_translate(low, table, method, values), _translate(high, table, method, values))
        if first is None or second is None:
            one = first or second
            return None if one is None else (one[0], one[1], False)
        texts = [t for t in (first[0], second[0]) if t]
        return " and ".join(texts) or None, {**first[1], **second[1]}, first[2] and second[2]
    op = _OPS.get(type(node))
    if op is None:
        return None
    left, right = node.this, node.expression
    name = _column_of(left, table)
    if name is None:
        name, left, right, op = _column_of(right, table), right, left, _FLIP[op]
    if name is None or _has_column(right):
        return None
    specs = [f for f in method.filters if f.field.lower() == name.lower() and op in f.operators]
    if not specs:
        return None
    spec = specs[0]
    value = _constant(right, spec, op, values)
    if value is None:
        return None
    odata, params, exact = _render(spec, op, value)
    if odata and not method.filter_param:
        return None
    return odata, params, exact


def _render(spec: Filter, op: str, value: Any) -> tuple[str | None, dict[str, Any], bool]:
    """The filter text or param for `field op value`, and whether it is exact."""
    if spec.param is not None:
        exact = op == "eq" and spec.format == "string"
        return None, {spec.param: value}, exact
    if spec.format == "datetime":
        if op == "le":  # the API may keep finer digits than DuckDB's microseconds
            op, value = "lt", value + timedelta(microseconds=1)
        return f"{spec.odata} {op} {_iso(value)}", {}, False
    if spec.format == "boolean":
        return f"{spec.odata} {op} {'true' if value else 'false'}", {}, False
    quoted = "'" + str(value).replace("'", "''") + "'"
    return f"{spec.odata} {op} {quoted}", {}, op == "eq"


def _constant(node: exp.Expression, spec: Filter, op: str, values: Mapping[str, Any]) -> Any:
    """The value of a constant side as the filter's format wants it, or None."""
    if spec.format == "datetime":
        if op not in ("gt", "ge", "lt", "le"):
            return None
        text = node.sql("duckdb").lower()
        if any(word in text for word in _NOW_WORDS) and op in ("lt", "le"):
            return None  # DuckDB's now() comes later than ours: an upper bound would lose rows
        return _fold_time(node, values)
    ok, value = literal(node, values)
    if not ok or isinstance(value, list):
        return None
    if spec.format == "boolean":
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def _fold_time(node: exp.Expression, values: Mapping[str, Any]) -> datetime | None:
    """A constant time expression folded by DuckDB itself, in UTC as queries run."""
    import duckdb

    if node.find(exp.Select) is not None:
        return None
    names = [p.name for p in node.find_all(exp.Placeholder)]
    if any(n not in values for n in names):
        return None
    bound = node.copy().transform(
        lambda n: exp.var(f"${n.name}") if isinstance(n, exp.Placeholder) else n
    )
    text = bound.sql("duckdb")
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        row = con.execute(
            f"SELECT CAST(({text}) AS TIMESTAMPTZ)", {n: values[n] for n in names} or None
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    value = row[0] if row else None
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def _limit(table: exp.Table, method: Method) -> int | None:
    """Rows enough for the SELECT over `table` alone: LIMIT + OFFSET, when the order allows."""
    select = table.find_ancestor(exp.Select)
    if select is None or select.args.get("joins") or select.args.get("laterals"):
        return None
    source = select.args.get("from_", select.args.get("from"))
    if source is None or source.this is not table:
        return None
    if any(select.args.get(k) for k in ("group", "having", "distinct", "qualify", "windows")):
        return None
    if any(e.find(exp.AggFunc, exp.Window) for e in select.expressions):
        return None
    limit = select.args.get("limit")
    if limit is None:
        return None
    ok, count = literal(limit.expression, {})
    offset = select.args.get("offset")
    ok_skip, skip = literal(offset.expression, {}) if offset is not None else (True, 0)
    if not (ok and ok_skip and isinstance(count, int) and isinstance(skip, int)):
        return None
    order = select.args.get("order")
    if order is not None:
        keys = order.expressions
        if method.order is None or len(keys) != 1:
            return None
        key = keys[0]
        name = _column_of(key.this, table)
        if (name or "").lower() != method.order.field.lower() or bool(key.args.get("desc")) != method.order.descending:
            return None
    return count + skip if count + skip > 0 else None


def _column_of(node: exp.Expression, table: exp.Table) -> str | None:
    """The field name when `node` is a plain column of this table (qualified in a join)."""
    node = _unparen(node)
    if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
        return None
    select = table.find_ancestor(exp.Select)
    qualifiers = {table.alias_or_name.lower(), table.name.lower()}
    if node.table:
        return node.name if node.table.lower() in qualifiers else None
    if select is not None and select.args.get("joins"):
        return None  # unqualified in a join: it may be another table's column
    return node.name


def _own_column(conjunct: exp.Expression, table: exp.Table, values: Mapping[str, Any]) -> str | None:
    """The column a `column = constant` / `column IN (constants)` conjunct pins, else None."""
    column, _ = pin(conjunct, values)
    return None if column is None else _column_of(column, table)


def _has_column(node: exp.Expression) -> bool:
    return node.find(exp.Column) is not None


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _or(nodes: list[exp.Expression]) -> exp.Expression:
    return nodes[0] if len(nodes) == 1 else exp.Or(this=nodes[0], expression=_or(nodes[1:]))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
