"""runs_pandas: ask ACR Tasks, Databricks clean-room and Airplane runs questions in SQL or pandas.

    >>> import runs_pandas as rp
    >>> rp.query("SELECT status, count(*) FROM airplane.runs.runs GROUP BY status",
    ...          session=rp.Session(sandbox=True))

In Jupyter: `%load_ext runs_pandas`, then `%%runsql`. `import runs_pandas` loads only the
errors and the `df.runs` accessor; the session (httpx, pydantic, the catalog), the engine
(sqlglot, duckdb, pyarrow) and the widgets load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runs_pandas import accessor as _accessor  # noqa: F401  registers df.runs
from runs_pandas.errors import (
    ApiError,
    AuthError,
    IncompleteFetchError,
    MissingParamError,
    NotFoundError,
    PageError,
    ParamError,
    QueryError,
    RequestBudgetError,
    RunsError,
    UnauthorizedError,
    UnknownResourceError,
)

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    from runs_pandas.session import Session, Settings, default_session, set_default_session

_FROM_SESSION = ("Session", "Settings", "default_session", "set_default_session")

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AuthError",
    "IncompleteFetchError",
    "MissingParamError",
    "NotFoundError",
    "PageError",
    "ParamError",
    "QueryError",
    "RequestBudgetError",
    "RunsError",
    "Session",
    "Settings",
    "UnauthorizedError",
    "UnknownResourceError",
    "__version__",
    "default_session",
    "form",
    "load_ipython_extension",
    "query",
    "set_default_session",
    "sync",
]


def query(
    sql: str,
    params: dict[str, Any] | None = None,
    session: Session | None = None,
    *,
    dry_run: bool = False,
    frames: dict[str, pd.DataFrame] | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Run a SELECT, EXEC, SHOW or DESCRIBE statement; the result is a pandas DataFrame.

    `frames` are DataFrames the SQL names as one-part tables: `frames={"owners": df}`
    makes `JOIN owners ON ...` read `df`. Resource ids always have three parts, so a frame
    never hides a resource; a CTE of the same name wins over a frame.
    `source`: "live" (fetch now), "store" (the local run store, no request) or "sync"
    (sync the store, then answer from it); None: the session's `source` setting, which
    SELECTs follow (other statements run live).
    """
    from runs_pandas.store.source import answer  # the store sits above the engine: it fetches through it

    return answer(sql, params, session, dry_run=dry_run, frames=frames, source=source)


def sync(sql: str, params: dict[str, Any] | None = None, session: Session | None = None) -> pd.DataFrame:
    """Bring into the local run store what the SELECT `sql` would fetch; one row per series."""
    from runs_pandas.store.sync import sync as _sync

    return _sync(sql, params, session)


def form(
    target: str,
    *,
    session: Session | None = None,
    result: str = "result",
    namespace: dict[str, Any] | None = None,
) -> Any:
    """An ipywidgets form for a resource's or method's parameters, with a Run button.

    The result is kept in the variable `result` of `namespace` (the notebook's by default).
    """
    from runs_pandas.widgets import form as _form

    return _form(target, session=session, result=result, namespace=namespace)


def __getattr__(name: str) -> Any:
    """What loads on first use: `Session`, `Settings`, `default_session`,
    `set_default_session` (httpx, pydantic and the catalog come with them);
    `runs_pandas.spark` (it needs pyspark: `pip install 'runs_pandas[spark]'`) and
    `runs_pandas.store` (the local run store: it imports duckdb)."""
    import importlib

    if name in _FROM_SESSION:
        value = getattr(importlib.import_module("runs_pandas.session"), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    if name in ("spark", "store"):
        return importlib.import_module(f"runs_pandas.{name}")
    raise AttributeError(f"module 'runs_pandas' has no attribute {name!r}")


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext runs_pandas`: registers `%%runsql` / `%runsql` and the `df.runs` accessor."""
    from runs_pandas.completion import install
    from runs_pandas.magic import load_ipython_extension as _load

    _load(ipython)
    install(ipython)

