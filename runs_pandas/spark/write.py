"""Writing a Spark fetch in the run store's layout: Parquet (or Delta when it is installed).

    <path>/provider=<p>/resource=<service.resource>/day=YYYY-MM-DD/part-*.parquet
    <path>/_errors/...                       the failed scopes of each write, appended

`day` is the UTC date of the run's creation time (else its start time), the catalog's
`runs.created_at` / `runs.started_at` columns (a run with neither goes to Spark's
`day=__HIVE_DEFAULT_PARTITION__`). Readers skip `_errors` as they skip every `_` folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runs_pandas.catalog import catalog
from runs_pandas.errors import RunsError

if TYPE_CHECKING:
    from runs_pandas.spark import SparkRuns

FORMATS = ("parquet", "delta")
PARTITIONS = ("provider", "resource", "day")


def write(result: SparkRuns, path: str, *, format: str | None = None, mode: str = "append") -> str:
    """Write the runs partitioned by provider, resource and day, and the errors beside them.

    `format` is "parquet" or "delta"; by default Delta when the session can write it,
    else Parquet. `mode` is Spark's ("append", "overwrite": only the days written are
    replaced). Returns the format used.
    """
    from pyspark.sql import functions as F

    if format is not None and format not in FORMATS:
        raise RunsError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    if mode not in ("append", "overwrite"):
        raise RunsError(f"mode must be 'append' or 'overwrite', not {mode!r}")
    runs = result.runs
    spark = runs.sparkSession
    chosen = format or ("delta" if delta_available(spark) else "parquet")
    resource = catalog().resource(result.plan.resource_id)
    provider, service, name = resource.id.split(".")
    shape = resource.runs
    times = [c for c in (*(shape.created_at if shape else ()), *(shape.started_at if shape else ())) if c in runs.columns]
    day = F.to_date(F.coalesce(*[F.col(f"`{c}`") for c in times])) if times else F.lit(None).cast("date")
    out = (
        runs.withColumn("provider", F.lit(provider))
        .withColumn("resource", F.lit(f"{service}.{name}"))
        .withColumn("day", F.date_format(day, "yyyy-MM-dd"))
    )
    writer = out.write.format(chosen).mode(mode).partitionBy(*PARTITIONS)
    if mode == "overwrite":
        writer = writer.option("partitionOverwriteMode", "dynamic")
    # day is the UTC date; times are written as UTC instants (TIMESTAMP_MICROS) that
    # pyarrow, DuckDB and pandas read as tz-aware, not Spark's legacy INT96
    with _conf(spark, {"spark.sql.session.timeZone": "UTC", "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS"}):
        writer.save(path)
        result.errors.write.format("parquet").mode("append").save(f"{path.rstrip('/')}/_errors")
    return chosen


@contextmanager
def _conf(spark: Any, values: dict[str, str]) -> Iterator[None]:
    """Spark SQL settings for the length of a write, then back to what they were."""
    saved = {key: spark.conf.get(key, None) for key in values}
    for key, value in values.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def delta_available(spark: Any) -> bool:
    """True when delta-spark is importable and its extension is configured on `spark`."""
    try:
        import delta  # noqa: F401
    except ImportError:
        return False
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    return "DeltaSparkSessionExtension" in str(extensions)
