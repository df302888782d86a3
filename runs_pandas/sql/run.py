"""Running the user's SQL in DuckDB over the fetched tables, attached under their ids.

`ATTACH ':memory:' AS azure; CREATE SCHEMA azure.container_registry` lets the text name
`azure.container_registry.runs` unchanged, so the query needs no rewriting.

Notebook DataFrames (`frames=`) are registered under their one-part names, so
`JOIN owners ON ...` reads the frame `owners`. Resource ids always have three parts, so a
frame never hides a resource; a CTE of the same name wins over a frame (SQL scoping).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from sqlglot import exp

from runs_pandas.errors import QueryError


class Database:
    """One in-memory DuckDB connection that a session's queries share (made on the first).

    Opening a connection and attaching the provider catalogs is a fixed cost of every query
    otherwise. Each query registers its Arrow tables, queries them through views (no copy
    into DuckDB's own storage) and drops them again; a lock keeps one query at a time on it.
    """

    def __init__(self) -> None:
        self._con: Any = None
        self._attached: set[str] = set()
        self._schemas: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        import duckdb  # heavy: loaded on first query, not on import

        if self._con is None:
            self._con = duckdb.connect(":memory:")
            self._con.execute("SET TimeZone = 'UTC'")
        return self._con

    def run(
        self,
        text: str,
        tables: Mapping[str, pa.Table],
        params: Mapping[str, Any],
        frames: Mapping[str, Any] | None = None,
    ) -> pa.Table:
        """The result of `text` over `tables` (see `run`)."""
        import duckdb

        with self._lock:
            con = self._connection()
            views: list[str] = []
            registered: list[str] = []
            try:
                for index, (resource_id, table) in enumerate(tables.items()):
                    provider, service, name = resource_id.split(".")
                    if provider not in self._attached:
                        con.execute(f"ATTACH ':memory:' AS {_quote(provider)}")
                        self._attached.add(provider)
                    if (provider, service) not in self._schemas:
                        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(provider)}.{_quote(service)}")
                        self._schemas.add((provider, service))
                    source = f"__runs_pandas_{index}"
                    con.register(source, table)
                    registered.append(source)
                    view = f"{_quote(provider)}.{_quote(service)}.{_quote(name)}"
                    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {source}")
                    views.append(view)
                for name, frame in (frames or {}).items():
                    con.register(name, frame)
                    registered.append(name)
                used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text))
                bound = {k: v for k, v in params.items() if k in used}
                try:
                    relation = con.sql(text, params=bound or None)
                    return pa.table({}) if relation is None else relation.to_arrow_table()
                except duckdb.Error as exc:
                    raise _query_error(exc) from None
            finally:
                for view in views:
                    con.execute(f"DROP VIEW IF EXISTS {view}")
                for source in registered:
                    con.unregister(source)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
                self._attached.clear()
                self._schemas.clear()


def run(
    text: str,
    tables: Mapping[str, pa.Table],
    params: Mapping[str, Any],
    frames: Mapping[str, Any] | None = None,
    database: Database | None = None,
) -> pa.Table:
    """The result of `text` over `tables` (keyed by resource id), placeholders bound.

    `frames` are extra one-part tables (pandas DataFrames or Arrow tables) by name.
    `database`: the session's shared connection; a fresh one (closed after) when not given.
    """
    if database is not None:
        return database.run(text, tables, params, frames)
    own = Database()
    try:
        return own.run(text, tables, params, frames)
    finally:
        own.close()


def used_frames(
    tree: exp.Expression | None, text: str, frames: Mapping[str, Any]
) -> dict[str, Any]:
    """The frames `text` names as one-part tables (not shadowed by a CTE of that name)."""
    if not frames:
        return {}
    if tree is None:  # DuckDB-only syntax: go by the words of the text
        words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
        return {n: f for n, f in frames.items() if n.lower() in words}
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    named = {
        t.name.lower() for t in tree.find_all(exp.Table) if not t.db and not t.catalog
    } - ctes
    return {n: f for n, f in frames.items() if n.lower() in named}


def output_names(tree: exp.Expression | None, names: list[str]) -> list[str]:
    """Result names: `platform.os` stays `platform.os` (DuckDB would call it `os`).

    Where that would give two outputs one name, both keep the names DuckDB gave them, and
    outputs DuckDB itself names alike (`a.status, b.status` in a JOIN) are told apart as
    DuckDB's own DataFrames do: `status`, `status_1`.
    """
    return distinct(_dotted(tree, names))


def distinct(names: list[str]) -> list[str]:
    """Names made unique the way DuckDB's `.df()` does it: a repeat gets `_1`, `_2`, ..."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        new, suffix = name, 0
        while new in seen:
            suffix += 1
            new = f"{name}_{suffix}"
        seen.add(new)
        out.append(new)
    return out


def _dotted(tree: exp.Expression | None, names: list[str]) -> list[str]:
    if not isinstance(tree, exp.Select) or any(
        isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
        for e in tree.expressions
    ):
        return names
    if len(tree.expressions) != len(names):
        return names
    tables = {t.alias_or_name.lower() for t in tree.find_all(exp.Table)}
    renamed = []
    for expression, name in zip(tree.expressions, names):
        if isinstance(expression, (exp.Column, exp.Dot)) and not isinstance(expression, exp.Alias):
            parts = [p.name for p in expression.parts] if isinstance(expression, exp.Column) else []
            if len(parts) > 1:
                if parts[0].lower() in tables:
                    parts = parts[1:]
                renamed.append(".".join(parts))
                continue
        renamed.append(name)
    # two outputs with one name (`a.status, b.status` in a JOIN) keep DuckDB's distinct names
    taken = [n for n in renamed if renamed.count(n) > 1]
    return [name if new in taken else new for new, name in zip(renamed, names)]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _query_error(exc: Exception) -> QueryError:
    message = str(exc)
    line = col = None
    match = re.search(r"LINE (\d+):", message)
    if match:
        line = int(match.group(1))
    hint = ""
    missing = re.search(r"Table with name (\S+) does not exist", message)
    if missing:
        hint = (
            f"\nHint: {missing.group(1)} is neither a resource (three-part id, see SHOW RESOURCES) "
            f"nor a DataFrame given in frames= (in the magic: a DataFrame variable of the notebook)"
        )
    unknown = re.search(r'Referenced column "([^"]+)" not found.*?Candidate bindings: "([^"]+)"', message, re.S)
    if unknown:
        hint = f"\nunknown column {unknown.group(1)!r} (did you mean {unknown.group(2)!r}?)"
    if "syntax error at or near" in message:
        word = re.search(r'near "([^"]+)"', message)
        if word and word.group(1).lower() in _RESERVED:
            hint = f'\nHint: {word.group(1)} is a SQL keyword; quote it as a column: "{word.group(1)}"'
    return QueryError(f"DuckDB could not run the query: {message}{hint}", line=line, col=col)


_RESERVED = {"limit", "order", "group", "from", "where", "select", "table", "user", "type", "offset"}
