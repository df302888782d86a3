"""`runs_pandas.spark`: the same fetch as `df.runs.fetch`, run on Spark executors.

    import runs_pandas.spark as rps
    scopes = spark.createDataFrame(registries)          # one row per scope
    result = rps.fetch(scopes, "azure.container_registry.runs", where="status = 'Failed'")
    result.runs        # Spark DataFrame, schema from the catalog
    result.errors      # one row per failed scope: scope columns, error class, message
    result.write("/mnt/runs")                           # provider=/resource=/day= partitions

Scopes are spread over the executors with `mapInArrow` (the Arrow form of `mapInPandas`); each task fetches its scopes with
the core (`df.runs.fetch`, or the SQL path when `where=` is given), with the session's
retries, timeouts and request concurrency applying per executor. Nothing secret is put in
the plan: executors find credentials as the providers' tools do (see docs/spark.md).
pyspark is an optional extra: `pip install 'runs_pandas[spark]'`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runs_pandas.errors import ParamError, QueryError
from runs_pandas.spark.layout import (
    ERROR_CLASS,
    ERROR_MESSAGE,
    ERROR_STATUS,
    EXTRA,
    Layout,
    layout,
    scope_types,
    spark_schema,
)
from runs_pandas.spark.task import FetchTask, scoped_sql

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from runs_pandas.session import Session

__all__ = ["EXTRA", "SparkRuns", "fetch", "sandbox_environment", "to_pandas"]


@dataclass(frozen=True)
class SparkRuns:
    """The outcome of a Spark fetch: runs and per-scope errors, from one pass over the scopes.

    Both frames are views of one persisted frame, so counting the runs and then reading
    the errors fetches once (while the cache holds; `unpersist()` frees it).
    """

    fetched: DataFrame  # runs and error rows together, persisted
    plan: Layout
    task: FetchTask  # what each executor runs (pickled into the plan: holds no secret)

    @property
    def runs(self) -> DataFrame:
        """One row per run; the columns of `df.runs.fetch` plus `_extra` (see `EXTRA`)."""
        from pyspark.sql import functions as F

        runs: DataFrame = self.fetched.where(F.col(ERROR_CLASS).isNull())
        return runs.drop(ERROR_CLASS, ERROR_MESSAGE, ERROR_STATUS)

    @property
    def errors(self) -> DataFrame:
        """One row per failed scope: its scope columns, `error_class`, `message`, `status`."""
        from pyspark.sql import functions as F

        failed = self.fetched.where(F.col(ERROR_CLASS).isNotNull())
        errors: DataFrame = failed.select(
            *[F.col(f"`{name}`") for name in self.plan.scope],
            F.lit(self.plan.resource_id).alias("resource"),
            F.col(ERROR_CLASS).alias("error_class"),
            F.col(ERROR_MESSAGE).alias("message"),
            F.col(ERROR_STATUS).alias("status"),
        )
        return errors

    def to_pandas(self) -> pd.DataFrame:
        """The runs as `df.runs.fetch` gives them (same columns and types), on the driver."""
        return to_pandas(self.runs, self.plan)

    def write(self, path: str, *, format: str | None = None, mode: str = "append") -> str:
        """Write runs and errors under `path` (see `runs_pandas.spark.write`); the format used."""
        from runs_pandas.spark.write import write

        return write(self, path, format=format, mode=mode)

    def unpersist(self) -> None:
        self.fetched.unpersist()


def fetch(
    scopes: DataFrame,
    resource: str,
    *,
    where: str | None = None,
    params: Mapping[str, Any] | None = None,
    session: Session | None = None,
    scopes_in_flight: int = 8,
    partitions: int | None = None,
) -> SparkRuns:
    """Runs of `resource` for each row of the Spark frame `scopes`, fetched on the executors.

    Columns named like the resource's params are the scopes (others are ignored).
    `where` is a SQL condition on the resource's columns, as in a `%%runsql` WHERE clause
    (`:name` placeholders bound from `params`); it is pushed down as the SQL path pushes it.
    `session` gives the settings and the endpoints (base URLs) executors use, never its
    credentials. `partitions` spreads the scopes over that many tasks first.
    """
    from runs_pandas.catalog import catalog
    from runs_pandas.session import default_session

    found = catalog().resource(resource)
    session = session or default_session()
    types = {f.name: f.dataType for f in scopes.schema.fields}
    names = [name for name in scopes.columns if name in _param_names(found.id)]
    if not names:
        raise ParamError(
            f"{found.id}: the scopes frame has none of its params as columns "
            f"(columns: {', '.join(scopes.columns) or 'none'}; params: {', '.join(sorted(_param_names(found.id)))})"
        )
    plan = layout(found.id, scope_types(names, types))
    if where is not None:
        _check_where(found.id, plan, where, dict(params or {}))
    provider = catalog().provider_of(found)
    endpoint = session.endpoint(provider)
    task = FetchTask(
        plan,
        where=where,
        params=tuple(sorted(dict(params or {}).items())),
        settings=session.settings.model_dump(),
        endpoints=((provider.name, endpoint),) if endpoint else (),
        scopes_in_flight=scopes_in_flight,
    )
    source = scopes.select(*[f"`{n}`" for n in names])
    if partitions is not None:
        source = source.repartition(partitions)
    with _arrow_only():
        fetched = source.mapInArrow(task, schema=spark_schema(plan))
    return SparkRuns(fetched.persist(), plan, task)


def to_pandas(runs: DataFrame, plan: Layout | None = None) -> pd.DataFrame:
    """A Spark runs frame back as pandas, `_extra` opened into columns, types as the core's."""
    from runs_pandas.spark.layout import to_pandas as _to_pandas

    with _arrow_only():
        table = runs.toArrow()
    return _to_pandas(table, plan)


def sandbox_environment(endpoints: Mapping[str, str], tokens: Mapping[str, str]) -> dict[str, str]:
    """Environment variables that point executors at a sandbox (`sb.endpoints`, `sb.tokens`).

    For local mode and tests: set them in `os.environ` before the SparkSession starts (the
    JVM hands them to its Python workers). Each provider's variables are its catalog ones:
    the endpoint variable and the first credential variable. On a cluster the environment
    comes from the cluster's configuration instead (docs/spark.md).
    """
    from runs_pandas.catalog import catalog

    env: dict[str, str] = {}
    for provider in catalog().providers.values():
        key = next((k for k in endpoints if provider.name.startswith(k)), None)
        if key is None:
            continue
        env[provider.endpoint_env] = endpoints[key]
        variable = next((s.env for s in provider.auth.sources if s.env), None)
        if variable and key in tokens:
            env[variable] = tokens[key]
        scope = provider.auth.scope
        if scope is not None and scope.required and scope.setting:
            env[scope.setting] = "sandbox"  # a key goes with its scope (the sandbox takes any)
    return env


@contextmanager
def _arrow_only() -> Iterator[None]:
    """pyspark 4 warns that it does not fully support pandas 3 whenever an Arrow API is
    called; runs_pandas hands Spark Arrow, not pandas, so the warning does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


def _param_names(resource_id: str) -> set[str]:
    from runs_pandas.catalog import catalog

    return {p.name for m in catalog().resource(resource_id).methods_for("select") for p in m.params}


def _check_where(resource_id: str, plan: Layout, where: str, params: dict[str, Any]) -> None:
    """Read the WHERE text once on the driver, so a bad one fails before any task starts."""
    from runs_pandas.catalog import catalog
    from runs_pandas.sql.read import read

    sample = {name: "" for name in plan.scope}
    sql, values = scoped_sql(resource_id, sample, where)
    statement = read(sql, catalog(), {**params, **values})
    others = {r.resource.id for r in statement.references} - {resource_id}
    if others:
        raise QueryError(
            f"where= may only use columns of {resource_id}, not other resources ({', '.join(sorted(others))})"
        )
