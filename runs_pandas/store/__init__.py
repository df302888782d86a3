"""The local run store: history kept by incremental sync, answered by the same SQL.

>>> runs_pandas.sync("SELECT * FROM airplane.runs.runs")
>>> runs_pandas.query("SELECT status, count(*) FROM airplane.runs.runs GROUP BY 1", source="store")
>>> runs_pandas.store.info(); runs_pandas.store.export_parquet("runs/")

For callers that hold scopes: `sync_scopes(resource, scopes)` syncs them from their cursors.
Split for fetching elsewhere (Spark executors): `cursors()` -> `fetch_increment()` (store-free)
-> `write_delta()`.
"""

from __future__ import annotations

from runs_pandas.store.db import SCHEMA_VERSION, StoreError, store_path
from runs_pandas.store.export import export_parquet, partition_path
from runs_pandas.store.increment import Cursor, Delta, Increment, fetch_increment, plan_increment
from runs_pandas.store.info import info, prune
from runs_pandas.store.source import SOURCES
from runs_pandas.store.sync import cursors, series_of, sync, sync_scopes, write_delta

__all__ = [
    "SCHEMA_VERSION", "SOURCES", "Cursor", "Delta", "Increment", "StoreError", "export_parquet", "fetch_increment",
    "cursors", "info", "partition_path", "plan_increment", "prune", "series_of", "store_path", "sync", "sync_scopes",
    "write_delta",
]
