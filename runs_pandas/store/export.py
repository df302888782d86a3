"""Parquet out of the store: hive partitions that DuckDB, pandas, Polars and Spark read.

Layout (shared with `runs_pandas.spark`):
`<dir>/provider=<p>/resource=<service.resource>/day=YYYY-MM-DD/part-*.parquet`, the day
taken in UTC from the run's creation time (the catalog's `runs.created_at`, else start).
"""

from __future__ import annotations

from pathlib import Path

from runs_pandas.catalog import catalog
from runs_pandas.session import Session, default_session
from runs_pandas.store.db import BOOKKEEPING, connect, stored_tables, table_name


def partition_path(root: str | Path, resource_id: str, day: str) -> Path:
    """The folder of one partition: where a writer puts a resource's runs of one UTC day."""
    provider, service, name = resource_id.split(".")
    return Path(root) / f"provider={provider}" / f"resource={service}.{name}" / f"day={day}"


def day_column(resource_id: str, columns: list[str]) -> str | None:
    """The column a run's day is taken from: its creation time, else its start time."""
    runs = catalog().resource(resource_id).runs
    names = (*runs.created_at, *runs.started_at) if runs else ()
    return next((c for c in names if c in columns), None)


def export_parquet(directory: str | Path, session: Session | None = None) -> list[Path]:
    """Write every stored resource to `directory` as partitioned Parquet; the files written.

    Rows are written with their first/last-seen times; reading the folder back with hive
    partitioning gives `provider`, `resource` and `day` columns too. Written by pyarrow, so
    durations stay durations (its schema travels in the files).
    """
    session = session or default_session()
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    import uuid

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from runs_pandas.store.source import typed

    with connect(session, read_only=True) as con:
        for rid in stored_tables(con):
            provider, service, name = rid.split(".")
            table = typed(con.sql(f"SELECT * FROM {table_name(rid)}").to_arrow_table())
            day = day_column(rid, [c for c in table.column_names if c not in BOOKKEEPING])
            if day is None:
                days = pa.array(["unknown"] * table.num_rows, pa.string())
            else:
                days = pc.fill_null(pc.strftime(table.column(day), format="%Y-%m-%d"), "unknown")
            table = table.append_column("provider", pa.array([provider] * table.num_rows, pa.string()))
            table = table.append_column("resource", pa.array([f"{service}.{name}"] * table.num_rows, pa.string()))
            table = table.append_column("day", days)
            ds.write_dataset(
                table, root, format="parquet", partitioning=["provider", "resource", "day"],
                partitioning_flavor="hive", basename_template=f"part-{uuid.uuid4().hex}-{{i}}.parquet",
                existing_data_behavior="overwrite_or_ignore",
            )
    return sorted(root.rglob("*.parquet"))
