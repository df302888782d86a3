"""Incremental sync with Spark doing the fetch: cursors per scope, the store's own upsert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

pytestmark = pytest.mark.spark

ACR = "azure.container_registry.runs"
KEY = ["registryName", "runId"]


@pytest.fixture()
def moving(tmp_path: Path) -> Iterator[tuple[Sandbox, rp.Session]]:
    """A sandbox of its own (its clock moves) and a session with a fresh store.

    The executors reach it through the endpoint the driver's session gives the tasks; its
    tokens are the sandbox's, which the Spark fixture put in the executors' environment.
    """
    sb = Sandbox(acr_runs=2000, databricks_runs=100, airplane_runs=100,
                 now=datetime(2026, 11, 2, 9, tzinfo=UTC), page_size={"azure": 20}).start()
    with rp.Session(sandbox=sb, settings=rp.Settings(progress=False, store=str(tmp_path / "runs.duckdb"))) as s:
        yield sb, s
    sb.stop()


def _registries(sb: Sandbox) -> list[dict[str, str]]:
    return [s for s in sb.scopes()["azure"] if s["registryName"] != "myRegistry"]


def _stored(session: rp.Session) -> pd.DataFrame:
    frame = rp.query(f"SELECT registryName, runId, status, finishTime FROM {ACR}", session=session, source="store")
    return frame.sort_values(KEY).reset_index(drop=True)


def _live(scopes: list[dict[str, str]], session: rp.Session) -> pd.DataFrame:
    frame = pd.DataFrame(scopes).runs.fetch(ACR, session=session)[["registryName", "runId", "status", "finishTime"]]
    return frame.sort_values(KEY).reset_index(drop=True)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want) > 0
    for name in want.columns:
        assert got[name].astype(str).tolist() == want[name].astype(str).tolist(), name


def test_a_second_spark_sync_sends_a_fraction_and_the_store_equals_a_live_query(
    spark: Any, moving: tuple[Sandbox, rp.Session]
) -> None:
    import runs_pandas.spark as rps
    from runs_pandas.store.sync import sync_scopes

    sb, session = moving
    scopes = _registries(sb)
    frame = spark.createDataFrame(pd.DataFrame(scopes))
    first = rps.sync(frame, ACR, session=session, partitions=2)
    assert first["error"].isna().all()
    assert first["new"].sum() == len(_live(scopes, session))
    _same(_stored(session), _live(scopes, session))

    sb.advance(hours=4)  # runs in progress finish, new runs arrive
    sent = len(sb.requests)
    again = rps.sync(frame, ACR, session=session, partitions=2)
    assert again["error"].isna().all()
    assert len(sb.requests) - sent == again["requests"].sum() <= 0.1 * first["requests"].sum()
    assert again["since"].notna().all()  # each scope asked from its cursor
    assert again["new"].sum() > 0 and again["updated"].sum() > 0
    _same(_stored(session), _live(scopes, session))

    # the cursors Spark moved are the store's: a local sync takes over where it left off
    sb.advance(hours=2)
    local = sync_scopes(ACR, scopes, session=session)
    assert local["since"].notna().all()
    assert local["requests"].sum() <= 0.1 * first["requests"].sum()
    _same(_stored(session), _live(scopes, session))


def test_a_failing_scope_writes_nothing_and_the_others_are_stored(
    spark: Any, moving: tuple[Sandbox, rp.Session]
) -> None:
    import runs_pandas.spark as rps

    sb, session = moving
    scopes = _registries(sb)[:2]
    broken = {**scopes[0], "registryName": "nosuchregistry"}
    frame = spark.createDataFrame(pd.DataFrame([*scopes, broken]))
    with pytest.raises(rps.IncompleteSyncError, match="1 of 3 scope") as caught:
        rps.sync(frame, ACR, session=session)
    report = caught.value.frame
    failed = report[report["error"].notna()]
    assert len(failed) == 1 and "nosuchregistry" in failed["scope"].iloc[0]
    assert "ApiError" in failed["error"].iloc[0] and "ResourceNotFound" in failed["error"].iloc[0]
    assert not any(token in report.to_string() for token in sb.tokens.values())
    _same(_stored(session), _live(scopes, session))
