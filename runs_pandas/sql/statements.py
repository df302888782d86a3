"""Statements a session has read, kept for the next query with the same text and values.

Reading a SELECT (sqlglot's parse, the resources it names, what its WHERE pins) is about
a millisecond of every query, and a notebook re-running a cell or a loop asking the same
question reads the same text with the same values again. A statement is reused only when
the text, the catalog, the names of the given frames and every param's type and value
(plain scalars only) are the same, and only a SELECT's: reading is a function of those
alone, and nothing after it changes a Statement (pushdown binds copies of the nodes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from typing import Any

from runs_pandas.catalog import Catalog
from runs_pandas.sql.read import Statement, read

_SCALARS = (str, int, float, bool, type(None))
Key = tuple[str, tuple[tuple[str, str, str], ...], tuple[str, ...]]


class Statements:
    """A session's last `size` SELECTs as read, by text, param values and frame names."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._kept: OrderedDict[Key, tuple[Catalog, Statement]] = OrderedDict()
        self._lock = threading.Lock()

    def read(
        self, sql: str, catalog: Catalog, params: Mapping[str, Any], local: Collection[str] = ()
    ) -> Statement:
        """`read(sql, catalog, params, local=local)`, or the Statement it gave last time."""
        key = _key(sql, params, local)
        if key is not None:
            with self._lock:
                hit = self._kept.get(key)
                if hit is not None and hit[0] is catalog:
                    self._kept.move_to_end(key)
                    return hit[1]
        statement = read(sql, catalog, params, local=local)
        if key is not None and statement.kind == "select":
            with self._lock:
                self._kept[key] = (catalog, statement)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return statement


def _key(sql: str, params: Mapping[str, Any], local: Collection[str]) -> Key | None:
    """The cache key, or None when a value is no plain scalar (then nothing is kept)."""
    if not all(type(v) in _SCALARS for v in params.values()):
        return None
    # the type and repr tell 1, 1.0 and True apart, and -0.0 from 0.0
    values = tuple(sorted((str(k), type(v).__name__, repr(v)) for k, v in params.items()))
    return sql, values, tuple(sorted(local))
