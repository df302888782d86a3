"""The local run store against the sandbox: sync, answer from the store, faults, export."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox
from runs_pandas.store import StoreError
from runs_pandas.store.source import typed

pytestmark = pytest.mark.store

AIRPLANE = "SELECT * FROM airplane.runs.runs"
ROOT = Path(__file__).resolve().parents[2]


def databricks_sql(sandbox: Sandbox) -> str:
    rooms = ", ".join(f"'{s['clean_room_name']}'" for s in sandbox.scopes()["databricks"])
    return ("SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE deployment_name = 'dbc-sandbox' "
            f"AND clean_room_name IN ({rooms})")


def acr_sql(sandbox: Sandbox) -> str:
    first = sandbox.scopes()["azure"][0]
    names = ", ".join(f"'{s['registryName']}'" for s in acr_scopes(sandbox))
    return (f"SELECT * FROM azure.container_registry.runs WHERE subscriptionId = '{first['subscriptionId']}' "
            f"AND resourceGroupName = '{first['resourceGroupName']}' AND registryName IN ({names})")


def acr_scopes(sandbox: Sandbox) -> list[dict[str, str]]:
    first = sandbox.scopes()["azure"][0]
    return [s for s in sandbox.scopes()["azure"]
            if (s["subscriptionId"], s["resourceGroupName"]) == (first["subscriptionId"], first["resourceGroupName"])]


@pytest.fixture()
def store(tmp_path: Path, fresh_sandbox: Sandbox) -> Iterator[rp.Session]:
    s = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False, store=str(tmp_path / "runs.duckdb")))
    yield s
    s.close()


# a Databricks run from another workspace has no run id: its clean room and start time tell it apart
DATABRICKS_KEY = ["clean_room_name", "start_time", "notebook_name", "collaborator_job_run_info.collaborator_task_run_id"]


def same(a: pd.DataFrame, b: pd.DataFrame, key: str | list[str]) -> None:
    """Equal frames, whatever the row order (series are written as they arrive)."""
    a = a.sort_values(key, ignore_index=True)
    b = b.sort_values(key, ignore_index=True)[list(a.columns)]
    pd.testing.assert_frame_equal(a, b)


def test_first_sync_stores_what_a_live_query_returns(store: rp.Session, fresh_sandbox: Sandbox) -> None:
    for sql, key in [(AIRPLANE, "id"), (databricks_sql(fresh_sandbox), DATABRICKS_KEY)]:
        report = rp.sync(sql, session=store)
        assert (report["new"] > 0).all() and report["error"].isna().all()
        stored = rp.query(sql, session=store, source="store")
        same(rp.query(sql, session=store), stored, key)
        attrs = stored.attrs["runs_pandas"]
        assert attrs["source"] == "store" and attrs["requests"] == 0 and attrs["stored_age_seconds"] >= 0


def test_acr_sync_per_registry_and_a_second_sync_changes_nothing(store: rp.Session, fresh_sandbox: Sandbox) -> None:
    sql = acr_sql(fresh_sandbox)
    first = rp.sync(sql, session=store)
    assert len(first) == len(acr_scopes(fresh_sandbox))
    again = rp.sync(sql, session=store)
    assert again["new"].sum() == 0 and again["updated"].sum() == 0
    assert 0 < again["unchanged"].sum() < first["new"].sum()  # only the runs since the cursor came again
    assert again["requests"].sum() < first["requests"].sum()
    same(rp.query(sql, session=store), rp.query(sql, session=store, source="store"), "runId")
    info = rp.store.info(session=store)
    assert info["rows"].sum() == first["new"].sum() and (info["syncs"] == 2).all()


def test_a_run_that_changed_state_is_updated_not_duplicated(store: rp.Session) -> None:
    rp.sync(AIRPLANE, session=store)
    active = rp.query("SELECT id FROM airplane.runs.runs WHERE status = 'Active'", session=store, source="store")
    assert len(active) > 0
    run_id = active["id"].iloc[0]
    rp.query("EXEC airplane.runs.runs.cancelRun @runID=:id", params={"id": run_id}, session=store)
    report = rp.sync(AIRPLANE, session=store)
    assert report["updated"].sum() >= 1 and report["new"].sum() == 0
    stored = rp.query("SELECT id, status FROM airplane.runs.runs WHERE id = :id", params={"id": run_id},
                      session=store, source="store")
    assert list(stored["status"]) == [rp.query(f"{AIRPLANE} WHERE id = :id", params={"id": run_id}, session=store)["status"].iloc[0]]
    assert stored["status"].iloc[0] != "Active"
    same(rp.query(AIRPLANE, session=store), rp.query(AIRPLANE, session=store, source="store"), "id")


def test_source_sync_syncs_then_answers_from_the_store(store: rp.Session) -> None:
    df = rp.query("SELECT status, count(*) AS n FROM airplane.runs.runs GROUP BY status", session=store, source="sync")
    assert df.attrs["runs_pandas"]["source"] == "sync" and df.attrs["runs_pandas"]["requests"] > 0
    assert df["n"].sum() == len(rp.query(AIRPLANE, session=store))


def test_store_answers_before_any_sync_with_a_clear_error(store: rp.Session) -> None:
    with pytest.raises(StoreError, match="sync"):
        rp.query(AIRPLANE, session=store, source="store")
    with pytest.raises(StoreError, match="live, store, sync"):
        rp.query(AIRPLANE, session=store, source="cache")


def test_a_store_of_another_schema_version_is_refused(store: rp.Session) -> None:
    rp.sync(AIRPLANE, session=store)
    con = duckdb.connect(store.settings.store)
    con.execute("UPDATE _runs_pandas_meta SET value = '0' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema version 0"):
        rp.query(AIRPLANE, session=store, source="store")


def test_a_field_that_appears_later_becomes_a_column(store: rp.Session) -> None:
    rp.sync(AIRPLANE, session=store)
    con = duckdb.connect(store.settings.store)
    con.execute('ALTER TABLE "airplane.runs.runs" DROP COLUMN "teamID"')  # as if an older sync never saw it
    con.close()
    report = rp.sync(AIRPLANE, session=store)
    assert report["new"].sum() == 0
    stored = rp.query(AIRPLANE, session=store, source="store")
    fetched_again = report["updated"].sum() + report["unchanged"].sum()
    assert stored["teamID"].notna().sum() == fetched_again > 0  # older rows have it empty


def test_a_second_writer_waits_then_gets_a_clear_error(store: rp.Session) -> None:
    rp.sync(AIRPLANE, session=store)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)",
         store.settings.store], stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        store.settings.store_lock_timeout = 0.5
        started = time.monotonic()
        with pytest.raises(StoreError, match="in use by another process"):
            rp.sync(AIRPLANE, session=store)
        assert time.monotonic() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()
    assert len(rp.sync(AIRPLANE, session=store)) == 1  # the lock is gone with its process


KILLED_SYNC = """
import sys, runs_pandas as rp
from runs_pandas.sandbox import Sandbox
sb = Sandbox(acr_runs=400, databricks_runs=100, airplane_runs=200).start()
s = rp.Session(sandbox=sb, settings=rp.Settings(progress=False, store=sys.argv[1]))
print("go", flush=True)
while True:
    rp.sync(sys.argv[2], session=s)
"""


def test_a_sync_killed_midway_is_completed_by_the_next(store: rp.Session, fresh_sandbox: Sandbox) -> None:
    sql = databricks_sql(fresh_sandbox)
    child = subprocess.Popen([sys.executable, "-c", KILLED_SYNC, store.settings.store, sql],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "go"
    time.sleep(1.5)  # syncing, series after series, when it is killed
    child.kill()
    child.wait()
    rp.sync(sql, session=store)
    key = DATABRICKS_KEY
    stored = rp.query(sql, session=store, source="store")
    same(rp.query(sql, session=store), stored, key)


def test_parquet_export_round_trips_every_column(store: rp.Session, fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    rp.sync(AIRPLANE, session=store)
    rp.sync(databricks_sql(fresh_sandbox), session=store)
    files = rp.store.export_parquet(tmp_path / "out", session=store)
    assert all("provider=" in str(f) and "/day=" in str(f) for f in files)
    con = duckdb.connect(store.settings.store, read_only=True)
    for rid in ["airplane.runs.runs", "databricks_workspace.cleanrooms.task_runs"]:
        provider, service, name = rid.split(".")
        expected = typed(con.sql(f'SELECT * FROM "{rid}"').to_arrow_table())
        part = tmp_path / "out" / f"provider={provider}" / f"resource={service}.{name}"
        back = ds.dataset(part, format="parquet", partitioning="hive").to_table()
        back = back.select(expected.column_names)
        assert [(f.name, _utc(f.type)) for f in back.schema] == [(f.name, _utc(f.type)) for f in expected.schema]
        check = duckdb.connect()
        check.register("a", back)
        check.register("b", expected)
        assert check.sql("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchall() == [(0,)]
        assert check.sql("SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)").fetchall() == [(0,)]
        check.close()
        assert back.num_rows == expected.num_rows
    con.close()
    assert rp.store.partition_path("x", "a.b.c", "2026-01-02") == Path("x/provider=a/resource=b.c/day=2026-01-02")


def _utc(kind: object) -> str:
    # one zone, two spellings; a list's element has no name a reader sees (item, element, l)
    return re.sub(r"list<(item|element|l): ", "list<", str(kind).replace("Etc/UTC", "UTC"))


def test_prune_by_scope(store: rp.Session, fresh_sandbox: Sandbox) -> None:
    sql = databricks_sql(fresh_sandbox)
    rp.sync(sql, session=store)
    room = fresh_sandbox.scopes()["databricks"][0]["clean_room_name"]
    gone = rp.store.prune("databricks_workspace.cleanrooms.task_runs", scope={"clean_room_name": room}, session=store)
    assert gone > 0
    left = rp.query(sql, session=store, source="store")
    assert room not in set(left["clean_room_name"])
    with pytest.raises(StoreError, match="older_than"):
        rp.store.prune("airplane.runs.runs", session=store)
