"""Pushdown against the sandbox: fewer requests, the same result as with pushdown off."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

import runs_pandas as rp
import runs_pandas.sql.plan as plan_module
from runs_pandas.catalog import catalog
from runs_pandas.engine import query
from runs_pandas.errors import ParamError, RequestBudgetError
from runs_pandas.sandbox import Sandbox
from runs_pandas.sql.pushdown import since_args

SUB = "6f1c2e7a-93b4-4d2e-8a51-0c7d9e3b4f12"
ACR = (
    f"FROM azure.container_registry.runs WHERE subscriptionId = '{SUB}' AND "
    "resourceGroupName = 'rg-build-prod' AND registryName IN ('contosobuilds', 'fabrikamci')"
)


@pytest.fixture()
def pushdown_off() -> Iterator[None]:
    plan_module.PUSHDOWN = False
    yield
    plan_module.PUSHDOWN = True


def both(sql: str, session: rp.Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pushed, unpushed) results of one query, sorted the same way."""
    plan_module.PUSHDOWN = True
    try:
        pushed = query(sql, session=session)
        plan_module.PUSHDOWN = False
        plain = query(sql, session=session)
    finally:
        plan_module.PUSHDOWN = True
    return pushed, plain


def requests(frame: pd.DataFrame) -> int:
    return int(frame.attrs["runs_pandas"]["requests"])


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = list(a.columns)
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )


def test_failed_runs_of_the_last_day_are_one_filtered_series_per_registry(session: rp.Session) -> None:
    sql = f"SELECT runId, status, createTime {ACR} AND status = 'Failed' AND createTime > now() - INTERVAL 1 DAY"
    pushed, plain = both(sql, session)
    same(pushed, plain)
    assert requests(pushed) == 2 < requests(plain)
    urls = query("EXPLAIN " + sql, session=session)
    assert len(urls) == 2
    assert all(f.startswith("status eq 'Failed' and createTime gt 20") for f in urls["filter"])
    assert urls["residual"].isna().all()


def test_newest_five_send_one_request_per_scope(session: rp.Session) -> None:
    sql = f"SELECT runId, createTime {ACR} ORDER BY createTime DESC LIMIT 5"
    pushed, plain = both(sql, session)
    pd.testing.assert_frame_equal(pushed, plain)
    assert requests(pushed) == 2
    plan = query("EXPLAIN " + sql, session=session)
    assert list(plan["limit"]) == [5, 5] and all("%24top=5" in u for u in plan["url"])


def test_airplane_limit_stops_after_the_rows_and_uses_since(session: rp.Session) -> None:
    pushed, plain = both("SELECT id, createdAt FROM airplane.runs.runs ORDER BY createdAt DESC LIMIT 5", session)
    pd.testing.assert_frame_equal(pushed, plain)
    assert requests(pushed) == 1 < requests(plain)
    pushed, plain = both(
        "SELECT id FROM airplane.runs.runs WHERE createdAt >= now() - INTERVAL 3 DAY AND status = 'Failed'",
        session,
    )
    same(pushed, plain)
    assert requests(pushed) < requests(plain)


def test_explain_shows_pushed_and_residual_for_all_three_resources(session: rp.Session, sandbox: Sandbox) -> None:
    acr = query(f"EXPLAIN SELECT * {ACR} AND runType = 'QuickRun' AND lower(task) = 'x'", session=session)
    assert list(acr.columns) == [
        "resource", "method", "url", "params", "filter", "limit", "pushed", "residual", "expected_pages"
    ]
    assert acr["filter"][0] == "runType eq 'QuickRun'" and acr["residual"][0] == "LOWER(task) = 'x'"
    assert "registries/contosobuilds/runs?" in acr["url"][0] and "registries/fabrikamci/" in acr["url"][1]
    air = query("EXPLAIN SELECT * FROM airplane.runs.runs WHERE createdAt > TIMESTAMPTZ '2026-01-01 02:00:00+02:00' "
                "AND status = 'Failed'", session=session)
    assert air["params"][0] == {"since": "2026-01-01T00:00:00.000000Z"}
    assert air["residual"][0] == "status = 'Failed'"
    room = sandbox.scopes()["databricks"][0]
    dbx = query(f"EXPLAIN SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE "
                f"clean_room_name = '{room['clean_room_name']}' AND deployment_name = '{room['deployment_name']}' "
                "AND notebook_name = 'etl' AND run_duration IS NULL", session=session)
    assert dbx["params"][0]["notebook_name"] == "etl" and "notebook_name=etl" in dbx["url"][0]
    assert dbx["residual"][0] == "run_duration IS NULL"


def test_or_in_and_between_become_odata_and_or_of_unpushable_stays(session: rp.Session) -> None:
    sql = (f"SELECT runId, status, createTime {ACR} AND status IN ('Failed', 'Error') AND "
           "createTime BETWEEN TIMESTAMP '2020-01-01' AND now() AND (runType = 'QuickRun' OR runId = 'x')")
    plan = query("EXPLAIN " + sql, session=session)
    assert plan["filter"][0] == (
        "(status eq 'Failed' or status eq 'Error') and createTime ge 2020-01-01T00:00:00.000000Z "
        "and (runType eq 'QuickRun' or runId eq 'x')"
    )
    pushed, plain = both(sql, session)
    same(pushed, plain)
    mixed = query(f"EXPLAIN SELECT * {ACR} AND (status = 'Failed' OR lower(task) = 'x')", session=session)
    assert mixed["filter"].isna().all()


def test_a_resource_named_twice_is_not_narrowed(session: rp.Session) -> None:
    sql = (f"SELECT count(*) AS n FROM (SELECT runId {ACR} AND status = 'Failed') f, "
           f"(SELECT runId {ACR} AND status = 'Succeeded') s")
    plan = query("EXPLAIN " + sql, session=session)
    assert plan["filter"].isna().all()
    pushed, plain = both(sql, session)
    same(pushed, plain)


def test_limit_is_not_pushed_when_duckdb_still_filters_or_orders_otherwise(session: rp.Session) -> None:
    for tail in ("AND lower(task) = 'x' ORDER BY createTime DESC LIMIT 5", "ORDER BY createTime LIMIT 5",
                 "ORDER BY runId DESC LIMIT 5"):
        assert query(f"EXPLAIN SELECT runId {ACR} {tail}", session=session)["limit"].isna().all(), tail


def test_value_hints_refuse_a_misspelled_known_value_before_any_request(session: rp.Session) -> None:
    with pytest.raises(ParamError, match="status 'failed' is not a status; did you mean 'Failed'"):
        query(f"SELECT * {ACR} AND status = 'failed'", session=session)
    with pytest.raises(ParamError, match="did you mean 'QuickRun'"):
        query(f"SELECT * {ACR} AND runType IN ('Quickrun')", session=session)
    assert query(f"SELECT runId {ACR} AND status = 'NotAStatusAtAll'", session=session).empty


def test_page_size_zero_is_refused_with_the_range(session: rp.Session) -> None:
    with pytest.raises(ParamError, match=r"'limit' \(the page size\) accepts 1 - 50, got 0"):
        query('SELECT * FROM airplane.runs.runs WHERE "limit" = 0', session=session)
    param = catalog().resource("airplane.runs.runs").method("listRuns").param("limit")  # type: ignore[union-attr]
    assert param is not None and param.description.startswith("Page size")


def test_the_budget_refuses_a_plan_and_stops_a_fetch_keeping_rows(sandbox: Sandbox) -> None:
    session = rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, max_requests=3))
    with pytest.raises(RequestBudgetError, match="needs at least 4 requests, over the budget of 3"):
        query(f"SELECT * FROM azure.container_registry.runs WHERE subscriptionId = '{SUB}' AND "
              "resourceGroupName = 'rg-build-prod' AND registryName IN ('a1234', 'b1234', 'c1234', 'd1234')",
              session=session)
    with pytest.raises(RequestBudgetError) as caught:
        query("SELECT id FROM airplane.runs.runs", session=session)
    message = str(caught.value)
    assert "3 requests sent, max_requests is 3" in message and "airplane.runs.runs" in message
    assert "raise the budget" in message
    assert caught.value.frame is not None and len(caught.value.frame) == 150
    session.close()


def test_since_args_for_syncing() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    acr = catalog().resource("azure.container_registry.runs")
    air = catalog().resource("airplane.runs.runs")
    assert since_args(acr, acr.methods[0], when) == {"$filter": "createTime ge 2026-01-02T03:04:05.000000Z"}
    assert since_args(air, air.methods[0], when) == {"since": "2026-01-02T03:04:05.000000Z"}


def test_pushdown_off_switch_really_sends_everything(session: rp.Session, pushdown_off: None) -> None:
    plan = query(f"EXPLAIN SELECT * {ACR} AND status = 'Failed'", session=session)
    assert plan["filter"].isna().all()
