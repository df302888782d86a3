"""Reading a query with sqlglot: what kind it is, which resources it names, what it pushes down.

The query is only read here, never rewritten: DuckDB later runs the user's text as written
(with `:name` placeholders turned into DuckDB's `$name`, bound as values, never pasted).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from runs_pandas import values
from runs_pandas.catalog import Catalog, Param, Resource
from runs_pandas.errors import QueryError, UnknownResourceError
from runs_pandas.sql.placeholders import duckdb_text, placeholders
from runs_pandas.sql.syntax import check_statement, syntax_error, token_error
from runs_pandas.values import checked as checked_value

Kind = Literal["select", "exec", "show", "describe", "explain"]


@dataclass
class Reference:
    """One place a resource is named in a SELECT, with the param values its WHERE pins."""

    resource: Resource
    conditions: dict[str, list[Any]] = field(default_factory=dict)
    table: exp.Table | None = None  # where it is named, for pushdown
    values: Mapping[str, Any] = field(default_factory=dict)  # placeholder values
    alone: bool = True  # the only reference to its resource (its WHERE may narrow the fetch)


@dataclass
class Statement:
    """A query as read: its kind, the text DuckDB runs, and what it names."""

    kind: Kind
    text: str  # the user's SQL, placeholders as $name (for DuckDB)
    tree: exp.Expression | None
    references: list[Reference] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)


def read(
    sql: str,
    catalog: Catalog,
    params: Mapping[str, Any] | None = None,
    *,
    local: Collection[str] = (),
) -> Statement:
    """Read `sql`: a SELECT (with pushdown), EXEC, SHOW or DESCRIBE statement.

    `local` names one-part tables the caller provides (notebook frames): never resources.
    """
    text = sql.strip().rstrip(";").strip()
    if not text:
        raise QueryError("the query is empty; write a SELECT, EXEC, SHOW or DESCRIBE statement")
    first = _first_word(text)
    check_statement(text, first)
    if first == "EXPLAIN":
        inner = read(text[len(_leading(text, "EXPLAIN")):], catalog, params)
        if inner.kind != "select":
            raise QueryError("EXPLAIN shows the requests of a SELECT; write EXPLAIN SELECT ...")
        inner.kind = "explain"
        return inner
    if first in ("EXEC", "EXECUTE"):
        return Statement("exec", text, _parse(text, "tsql"))
    if first == "SHOW":
        return Statement("show", text, None)
    if first in ("DESCRIBE", "DESC"):
        return Statement("describe", text, None)
    try:
        tree: exp.Expression | None = _parse(text, "duckdb")
    except QueryError:
        # DuckDB reads more than sqlglot does (PIVOT, some functions): name the resources
        # from the tokens and let DuckDB judge the rest; nothing can be pushed down then.
        tree = None
        references = _token_references(text, catalog)
        if not references or not _duckdb_reads(duckdb_text(text)):
            raise
        references = _subquery_references(text, catalog, params or {}) or references
    names = placeholders(text)
    values = dict(params or {})
    missing = [name for name in names if name not in values]
    if missing:
        raise QueryError(
            f"no value for placeholder(s) {', '.join(':' + n for n in missing)}; "
            f"pass them in params= (given: {', '.join(sorted(values)) or 'none'})"
        )
    for name in names:
        checked_value(f"placeholder :{name}", values[name])
    return Statement(
        "select",
        duckdb_text(text),
        tree,
        references=_references(tree, catalog, values, local) if tree is not None else references,
        placeholders=names,
    )


def _leading(text: str, word: str) -> str:
    """The text up to and including the first `word` (after any leading comment)."""
    at = text.upper().index(word)
    return text[: at + len(word)]


def _duckdb_reads(text: str) -> bool:
    """True when DuckDB's own parser accepts the text (it reads more than sqlglot)."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.extract_statements(text)
    except duckdb.Error:
        return False
    finally:
        con.close()
    return True


def _subquery_references(
    text: str, catalog: Catalog, params: Mapping[str, Any]
) -> list[Reference]:
    """References, with pushdown, from the `(SELECT ...)` parts sqlglot can read on their own.

    `PIVOT (SELECT ... WHERE taskSlug = 'x') ON status USING count(*)` keeps its pushdown
    although sqlglot cannot read the PIVOT around it. Resources named outside such parts
    are listed without pushdown.
    """
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except TokenError:
        return []
    found: list[Reference] = []
    depth_stack: list[int] = []
    spans: list[tuple[int, int]] = []
    for index, token in enumerate(tokens):
        if token.token_type is TokenType.L_PAREN:
            depth_stack.append(index)
        elif token.token_type is TokenType.R_PAREN and depth_stack:
            start = depth_stack.pop()
            if start + 1 < index and tokens[start + 1].token_type in (TokenType.SELECT, TokenType.WITH):
                spans.append((tokens[start].end + 1, token.start))
    covered: set[str] = set()
    for begin, end in sorted(spans, key=lambda span: span[1] - span[0], reverse=True):
        inner = text[begin:end]
        try:
            tree = _parse(inner, "duckdb")
        except QueryError:
            continue
        for reference in _references(tree, catalog, params):
            if reference.resource.id not in covered:
                found.append(reference)
        covered.update(r.resource.id for r in found)
    outside = [r for r in _token_references(text, catalog) if r.resource.id not in covered]
    return found + outside if found else []


def _token_references(text: str, catalog: Catalog) -> list[Reference]:
    """Resources named as `a.b.c` in the tokens, for SQL that sqlglot cannot parse."""
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except TokenError:
        return []
    found: list[Reference] = []
    for i in range(len(tokens) - 4):
        window = tokens[i : i + 5]
        if window[1].token_type is TokenType.DOT and window[3].token_type is TokenType.DOT:
            resource_id = f"{window[0].text}.{window[2].text}.{window[4].text}".lower()
            resource = catalog.resources.get(resource_id)
            if resource is not None and all(r.resource is not resource for r in found):
                found.append(Reference(resource))
    return found


# statement words whose tokenizing `_first_word` can skip: a text that starts with one of them
# and a blank has it as its first token (no keyword of T-SQL's tokenizer starts with one of
# them and goes on past a word boundary; tests/sql/test_first_word.py checks that), and loading
# T-SQL's dialect for it costs ~15 ms of the first query
_STATEMENT_WORD = re.compile(r"(SELECT|WITH|EXEC|EXECUTE|SHOW|DESCRIBE|DESC|EXPLAIN)[ \t\r\n]", re.IGNORECASE)


def _first_word(text: str) -> str:
    """The statement's first keyword, after any leading comment or hint."""
    plain = _STATEMENT_WORD.match(text)
    if plain:
        return plain.group(1).upper()
    try:
        tokens = sqlglot.tokenize(text, read="tsql")
    except TokenError:
        return text.split(None, 1)[0].upper()
    return tokens[0].text.upper() if tokens else ""


def _parse(text: str, dialect: str) -> exp.Expression:
    try:
        trees = sqlglot.parse(text, read=dialect)
    except ParseError as exc:
        if not exc.errors:
            raise token_error(text, str(exc)) from None
        raise syntax_error(text, exc.errors[0]) from None
    except TokenError as exc:
        raise token_error(text, str(exc)) from None
    except RecursionError:
        raise QueryError("cannot read the SQL: it nests too deeply (parentheses or subqueries)") from None
    statements = [t for t in trees if t is not None]
    if len(statements) != 1:
        raise QueryError(f"write one statement per query, got {len(statements)}")
    return cast(exp.Expression, statements[0])


def _references(
    tree: exp.Expression, catalog: Catalog, params: Mapping[str, Any], local: Collection[str] = ()
) -> list[Reference]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    ctes |= {name.lower() for name in local}
    references = []
    for table in tree.find_all(exp.Table):
        parts = [p for p in (table.catalog, table.db, table.name) if p]
        resource_id = ".".join(parts).lower()
        if len(parts) == 3:
            if resource_id in catalog.resources:
                resource = catalog.resources[resource_id]
                references.append(
                    Reference(resource, _conditions(table, resource, params), table, params)
                )
                continue
            catalog.resource(resource_id)  # a misspelt provider, service or resource: the closest
        elif len(parts) == 2 or (len(parts) == 1 and resource_id not in ctes):
            tails = [r for r in catalog.resources if r.endswith("." + resource_id)]
            if tails:
                raise UnknownResourceError(
                    f"unknown table {'.'.join(parts)!r}: resources are named by their "
                    f"three-part id (did you mean {tails[0]!r}?)"
                )
            close = difflib.get_close_matches(resource_id, list(catalog.resources), n=1, cutoff=0.8)
            if close:
                raise UnknownResourceError(
                    f"unknown resource {'.'.join(parts)!r} (did you mean {close[0]!r}?)"
                )
    for reference in references:
        reference.alone = sum(r.resource is reference.resource for r in references) == 1
    return references


def _conditions(
    table: exp.Table, resource: Resource, params: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """`param = v` and `param IN (...)` conjuncts that pin this table's method params."""
    names = {p.name.lower(): p.name for m in resource.methods_for("select") for p in m.params}
    qualifiers = {table.alias_or_name.lower(), table.name.lower()}
    predicates: list[exp.Expression] = []
    select = table.find_ancestor(exp.Select)
    if select is not None and select.args.get("where") is not None:
        predicates.append(select.args["where"].this)
    join = table.find_ancestor(exp.Join)
    if join is not None and join.this is table and join.args.get("on") is not None:
        predicates.append(join.args["on"])
    found: dict[str, list[Any]] = {}
    for predicate in predicates:
        for conjunct in predicate.flatten() if isinstance(predicate, exp.And) else [predicate]:
            column, values = pin(cast(exp.Expression, conjunct), params)
            if column is None or column.name.lower() not in names:
                continue
            if column.table and column.table.lower() not in qualifiers:
                continue
            name = names[column.name.lower()]
            if name in found:  # two pins on one param: only the values both allow
                found[name] = [v for v in found[name] if v in values]
            else:
                found[name] = values
    return found


def pin(node: exp.Expression, params: Mapping[str, Any]) -> tuple[exp.Column | None, list[Any]]:
    """The column and values of `column = constant` or `column IN (constants)`."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.EQ):
        left, right = node.this, node.expression
        if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
            left, right = right, left
        if isinstance(left, exp.Column):
            ok, value = literal(right, params)
            if ok:
                return left, value if isinstance(value, list) else [value]
    if isinstance(node, exp.In) and isinstance(node.this, exp.Column) and node.args.get("field"):
        ok, value = literal(node.args["field"], params)  # `IN :names` bound to a list
        if ok:
            return node.this, value if isinstance(value, list) else [value]
        return None, []
    if isinstance(node, exp.In) and isinstance(node.this, exp.Column) and not node.args.get("query"):
        values = []
        for item in node.expressions:
            ok, value = literal(item, params)
            if not ok:
                return None, []
            values.extend(value if isinstance(value, list) else [value])
        return node.this, values
    return None, []


def literal(node: exp.Expression, params: Mapping[str, Any]) -> tuple[bool, Any]:
    """(True, value) when `node` is a constant: a literal, a placeholder, a typed literal."""
    if isinstance(node, exp.Literal):
        if node.is_string:
            return True, node.this
        text = node.this
        return True, int(text) if text.lstrip("-").isdigit() else float(text)
    if isinstance(node, exp.Boolean):
        return True, bool(node.this)
    if isinstance(node, exp.Null):
        return False, None
    if isinstance(node, exp.Neg):
        ok, value = literal(node.this, params)
        return (ok, -value) if ok and isinstance(value, (int, float)) else (False, None)
    if isinstance(node, exp.Placeholder) and node.name in params:
        value = values.checked(f"placeholder :{node.name}", params[node.name])
        if value is None:
            return False, None  # SQL NULL: nothing to push down or send
        return True, list(value) if isinstance(value, (list, tuple, set)) else value
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        return literal(node.this, params)
    return False, None


def exec_target(table: exp.Table) -> list[str]:
    """The dotted parts of an EXEC target: provider, service, resource, Method."""
    parts = [table.catalog, table.db]
    if isinstance(table.this, exp.Dot):
        parts += [table.this.this.name, table.this.expression.name]
    else:
        parts.append(table.name)
    return [p for p in parts if p]


def placeholder_params(sql: str, catalog: Catalog) -> dict[str, Param | None]:
    """Each `:name` placeholder of `sql` and the method param it binds to (None if none).

    Forms use this to give a field the right widget: `WHERE registryName = :reg` makes
    `reg` a text field with ACR's registry-name rules, `@limit = :n` a bounded integer.
    """
    names = placeholders(sql)
    found: dict[str, Param | None] = dict.fromkeys(names)
    if not names:
        return found
    text = sql.strip().rstrip(";")
    kind = _first_word(text)
    tree = _parse(text, "tsql" if kind in ("EXEC", "EXECUTE") else "duckdb")
    if isinstance(tree, exp.Execute) and isinstance(tree.this, exp.Table):
        parts = exec_target(tree.this)
        resource = catalog.resources.get(".".join(parts[:3]).lower())
        method = resource.method(parts[3]) if resource is not None and len(parts) == 4 else None
        for item in tree.expressions:
            if isinstance(item, exp.EQ) and isinstance(item.expression, exp.Placeholder):
                param = method.param(item.this.name) if method is not None else None
                found[item.expression.name] = param
        return found
    for table in tree.find_all(exp.Table):
        resource = catalog.resources.get(".".join(p for p in (table.catalog, table.db, table.name) if p).lower())
        if resource is None:
            continue
        params = {p.name.lower(): p for m in resource.methods_for("select") for p in m.params}
        select = table.find_ancestor(exp.Select)
        where = select.args.get("where") if select is not None else None
        for node in where.find_all(exp.EQ, exp.In) if where is not None else []:
            column = node.this if isinstance(node.this, exp.Column) else node.expression
            if not isinstance(column, exp.Column) or column.name.lower() not in params:
                continue
            for placeholder in node.find_all(exp.Placeholder):
                found[placeholder.name] = params[column.name.lower()]
    return found
