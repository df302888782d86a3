"""Saved queries: `%%runsql --save name` keeps a SELECT's text; later queries read it as a table.

JupySQL's model: what is kept is the SQL, not a result. A later query that names `name` as
a one-part table (`FROM name`, `JOIN name`), or lists it with `--with name`, runs the saved
SQL again on use (live, or from the store when the query's `source` says so) and reads its
result as the table `name`, through the same path as a notebook DataFrame. A saved query
may name other saved queries; each is run once per use, dependencies first.

Name resolution: a CTE of the query's own wins over a saved query, and a saved query wins
over a notebook DataFrame of the same name (the saved query is the more explicit ask).
Resource ids have three parts, so a saved name never hides a resource.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from runs_pandas.errors import QueryError
from runs_pandas.sql.placeholders import placeholders

#: runs one saved SELECT: (sql, params, frames) -> its result
Runner = Callable[[str, dict[str, Any], dict[str, Any]], pd.DataFrame]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SavedQuery:
    """One kept query: its name and SQL text."""

    name: str
    sql: str


class SavedQueries:
    """The saved queries of one kernel, by name (case-insensitive, as SQL table names are)."""

    def __init__(self) -> None:
        self._queries: dict[str, SavedQuery] = {}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._queries

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, name: str) -> SavedQuery:
        """The saved query `name`, or a QueryError naming the saved ones (closest first)."""
        found = self._queries.get(name.lower())
        if found is None:
            names = [q.name for q in self._queries.values()]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listed = ", ".join(sorted(names)) or "none yet: save one with %%runsql --save name"
            raise QueryError(f"no saved query {name!r}{hint}; saved queries are: {listed}")
        return found

    def save(self, name: str, sql: str) -> SavedQuery:
        """Keep `sql` under `name` (replacing an earlier one); only a SELECT can be saved."""
        if not _NAME.match(name):
            raise QueryError(
                f"cannot save a query as {name!r}: a saved query's name is one SQL identifier "
                f"(letters, digits, _), e.g. --save failed_runs"
            )
        kind = _statement_kind(sql)
        if kind != "select":
            raise QueryError(f"only a SELECT can be saved (it is read as a table); this is {kind}")
        if name.lower() in {n.lower() for n in self.names_in(sql)} or name.lower() in _one_part_tables(sql):
            raise QueryError(f"the saved query {name!r} cannot read itself")
        kept = SavedQuery(name, sql)
        self._queries[name.lower()] = kept
        return kept

    def remove(self, name: str) -> None:
        self._queries.pop(self.get(name).name.lower())

    def clear(self) -> None:
        self._queries.clear()

    def names_in(self, sql: str) -> list[str]:
        """The saved queries `sql` names as one-part tables (a CTE of that name wins)."""
        named = _one_part_tables(sql)
        return [q.name for key, q in self._queries.items() if key in named]

    def frames(
        self,
        sql: str,
        run: Runner,
        namespace: Mapping[str, Any],
        *,
        with_: tuple[str, ...] | list[str] = (),
        frames: Mapping[str, Any] | None = None,
    ) -> dict[str, pd.DataFrame]:
        """The result of each saved query `sql` needs (named in it or in `with_`), by name.

        Each saved query runs once, after the saved queries it names; its `:placeholders`
        come from `namespace`. `frames` (the notebook's DataFrames) are there for it too.
        """
        order: list[SavedQuery] = []
        self._resolve([self.get(n).name for n in with_] + self.names_in(sql), order, ())
        out: dict[str, pd.DataFrame] = {}
        for saved in order:
            wanted = placeholders(saved.sql)
            missing = [p for p in wanted if p not in namespace]
            if missing:
                raise QueryError(
                    f"the saved query {saved.name!r} needs {', '.join(':' + m for m in missing)}: "
                    f"define them in the notebook first"
                )
            params = {p: namespace[p] for p in wanted}
            out[saved.name] = run(saved.sql, params, {**(frames or {}), **out})
        return out

    def listing(self) -> pd.DataFrame:
        """One row per saved query: its name, the saved queries it reads, and its SQL."""
        rows = [
            {"name": q.name, "reads": ", ".join(self.names_in(q.sql)), "sql": q.sql.strip()}
            for q in sorted(self._queries.values(), key=lambda q: q.name.lower())
        ]
        return pd.DataFrame(rows, columns=["name", "reads", "sql"])

    def _resolve(self, names: list[str], order: list[SavedQuery], path: tuple[str, ...]) -> None:
        """Append `names` and what they read to `order`, dependencies first; refuse a cycle."""
        for name in names:
            saved = self.get(name)
            if saved.name in path:
                cycle = " -> ".join((*path[path.index(saved.name):], saved.name))
                raise QueryError(f"saved queries read each other in a cycle: {cycle}")
            if saved in order:
                continue
            self._resolve(self.names_in(saved.sql), order, (*path, saved.name))
            order.append(saved)


def _statement_kind(sql: str) -> str:
    """'select' for a SELECT (CTEs, UNION included), else what the statement is."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except (ParseError, TokenError):
        return "not a statement runs_pandas can read"
    if isinstance(tree, exp.Query):
        return "select"
    return f"a {tree.key.upper()} statement"


def _one_part_tables(sql: str) -> set[str]:
    """Lower-cased one-part table names in `sql` that no CTE of it defines."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except (ParseError, TokenError):
        return set()
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = {t.name.lower() for t in tree.find_all(exp.Table) if not t.db and not t.catalog}
    return tables - ctes


def counted(frame: pd.DataFrame, saved: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """`frame` with the requests its saved queries sent added to its own (the footer's count)."""
    info = frame.attrs.get("runs_pandas")
    if not saved or not isinstance(info, dict) or "requests" not in info:
        return frame
    spent = sum(int((f.attrs.get("runs_pandas") or {}).get("requests", 0)) for f in saved.values())
    frame.attrs["runs_pandas"] = {**info, "requests": int(info["requests"]) + spent}
    return frame


def planned(frame: pd.DataFrame, saved: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """A dry run's (or EXPLAIN's) rows for the whole query: those of each saved query it
    reads, in the order they would run, then its own; `query` names whose rows they are."""
    if not saved:
        return frame
    parts = [part.assign(query=name) for name, part in saved.items()] + [frame.assign(query="")]
    stacked = pd.concat([p for p in parts if len(p)] or parts[-1:], ignore_index=True)
    stacked = stacked[["query", *[c for c in stacked.columns if c != "query"]]]
    stacked.attrs = dict(frame.attrs)
    return stacked


_registry = SavedQueries()


def saved_queries() -> SavedQueries:
    """The kernel's saved queries (what `%%runsql --save` keeps and `--list-saved` shows)."""
    return _registry
