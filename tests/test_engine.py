"""query() over a mock transport: pushdown, fan-out, paging, retries, secrets, errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx
import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.errors import ApiError, IncompleteFetchError, MissingParamError, QueryError, UnknownResourceError

AZ = "https://mgmt.test"
RUNS = "/providers/Microsoft.ContainerRegistry/registries/{reg}/runs"


def run(run_id: str, status: str = "Succeeded", **extra) -> dict:
    return {"id": f"/x/{run_id}", "name": run_id, "type": "Microsoft.ContainerRegistry/registries/runs",
            "properties": {"runId": run_id, "status": status, "createTime": "2024-05-01T09:00:00Z", **extra}}


def session(handler: Callable[[httpx.Request], httpx.Response], **settings) -> rp.Session:
    s = rp.Session(
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        secrets={"azure": "AZ-SECRET", "airplane": "tkn_SECRET", "databricks_workspace": "dapi-SECRET"},
        endpoints={"azure": AZ, "airplane": "https://air.test/v0", "databricks_workspace": "https://dbx.test"},
        settings=rp.Settings(progress=False, **settings),
    )
    return s


WHERE = "subscriptionId = 'sub' AND resourceGroupName = 'rg'"


def test_pushdown_fans_out_one_series_per_value_and_keeps_param_columns() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        reg = request.url.path.split("/registries/")[1].split("/")[0]
        return httpx.Response(200, json={"value": [run(f"{reg}-1"), run(f"{reg}-2", "Failed")]})

    df = rp.query(
        f"SELECT registryName, runId, status FROM azure.container_registry.runs WHERE {WHERE} "
        "AND registryName IN ('alpha1', 'beta22', 'gamma3') ORDER BY runId",
        session=session(handler),
    )
    assert sorted(p.split("/registries/")[1] for p in seen) == ["alpha1/runs", "beta22/runs", "gamma3/runs"]
    assert list(df["registryName"]) == ["alpha1", "alpha1", "beta22", "beta22", "gamma3", "gamma3"]
    assert df.attrs["runs_pandas"]["requests"] == 3


def test_next_link_is_followed_and_secrets_stay_on_their_origin() -> None:
    auth: dict[str, str | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        auth[request.url.host] = request.headers.get("authorization")
        if request.url.host == "mgmt.test" and "skip" not in str(request.url):
            return httpx.Response(200, json={"value": [run("a")], "nextLink": f"{AZ}/page2?skip=1"})
        if request.url.host == "mgmt.test":
            return httpx.Response(200, json={"value": [run("b")], "nextLink": "https://elsewhere.test/page3"})
        return httpx.Response(200, json={"value": [run("c")]})

    df = rp.query(f"SELECT runId FROM azure.container_registry.runs WHERE {WHERE} AND registryName = 'alpha1'",
                  session=session(handler))
    assert list(df["runId"]) == ["a", "b", "c"]
    assert auth["mgmt.test"] == "Bearer AZ-SECRET"
    assert auth["elsewhere.test"] is None


def test_429_is_retried_after_retry_after() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"code": "TooMany", "message": "slow down"}})
        return httpx.Response(200, json={"value": [run("a")]})

    df = rp.query(f"SELECT runId FROM azure.container_registry.runs WHERE {WHERE} AND registryName = 'alpha1'",
                  session=session(handler))
    assert list(df["runId"]) == ["a"] and calls["n"] == 2


def test_api_error_carries_status_code_message_and_url_without_secrets() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "ResourceNotFound", "message": "no registry"}})

    with pytest.raises(ApiError) as info:  # the only series failed: the error itself, not "partial data"
        rp.query(f"SELECT * FROM azure.container_registry.runs WHERE {WHERE} AND registryName = 'alpha1'",
                 session=session(handler))
    failure = info.value.failures[0]
    assert isinstance(failure, ApiError)
    assert failure.status == 404 and failure.code == "ResourceNotFound" and failure.api_message == "no registry"
    assert "AZ-SECRET" not in str(info.value) and "registries/alpha1/runs" in failure.url


def test_failed_series_keep_the_rows_already_fetched() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "broken" in request.url.path:
            return httpx.Response(503, json={"error": {"code": "Unavailable", "message": "down"}})
        return httpx.Response(200, json={"value": [run("ok-1"), run("ok-2")]})

    with pytest.raises(IncompleteFetchError) as info:
        rp.query(f"SELECT runId, registryName FROM azure.container_registry.runs WHERE {WHERE} "
                 "AND registryName IN ('alpha1', 'broken1')", session=session(handler, retries=1, retry_budget=1))
    assert list(info.value.frame["runId"]) == ["ok-1", "ok-2"]
    assert "broken1" in str(info.value) and "503" in str(info.value)


def test_complete_only_leaves_out_a_series_that_failed_after_its_first_page() -> None:
    """What a Spark task relies on: each series is whole in the table or named in `failed`."""
    from runs_pandas.catalog import catalog
    from runs_pandas.engine import fetch
    from runs_pandas.sql.plan import plan_scopes

    def handler(request: httpx.Request) -> httpx.Response:
        if "page2" in request.url.path:
            return httpx.Response(404, json={"error": {"code": "ResourceNotFound", "message": "gone"}})
        if "partly" in request.url.path:
            return httpx.Response(200, json={"value": [run("p-1")], "nextLink": f"{AZ}/page2?skip=1"})
        return httpx.Response(200, json={"value": [run("ok-1"), run("ok-2")]})

    resource = catalog().resource("azure.container_registry.runs")
    scopes = [{"subscriptionId": "sub", "resourceGroupName": "rg", "registryName": name} for name in ("partly", "alpha1")]
    calls = plan_scopes(resource, scopes, catalog())
    s = session(handler)
    kept = fetch(s, {resource.id: calls})
    assert sorted(kept.tables[resource.id].column("name").to_pylist()) == ["ok-1", "ok-2", "p-1"]
    whole = fetch(s, {resource.id: calls}, complete_only=True)
    assert sorted(whole.tables[resource.id].column("name").to_pylist()) == ["ok-1", "ok-2"]
    assert [(index, type(why).__name__) for index, why in whole.failed] == [(0, "ApiError")]
    assert whole.failures == [why for _, why in whole.failed]


def test_missing_required_params_are_named_with_those_given() -> None:
    with pytest.raises(MissingParamError) as info:
        rp.query("SELECT * FROM azure.container_registry.runs WHERE registryName = 'alpha1'",
                 session=session(lambda r: httpx.Response(500)))
    message = str(info.value)
    assert "azure.container_registry.runs" in message and "Runs_List" in message
    assert "subscriptionId" in message and "resourceGroupName" in message and "given: registryName" in message


def test_unknown_resource_and_column_suggest_the_closest() -> None:
    s = session(lambda r: httpx.Response(200, json={"runs": []}))
    with pytest.raises(UnknownResourceError, match="airplane.runs.runs"):
        rp.query("SELECT * FROM airplane.runs.run", session=s)
    with pytest.raises(QueryError, match="status"):
        rp.query("SELECT statuz FROM airplane.runs.runs", session=s)


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(QueryError) as info:
        rp.query("SELECT *\nFROM airplane.runs.runs WHERE (", session=session(lambda r: httpx.Response(500)))
    assert info.value.line == 2 and info.value.col is not None


def test_placeholders_are_bound_as_values_not_pasted() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, json={"runs": [{"id": "r1", "status": "Failed", "taskID": "tsk1"}]})

    evil = "x' OR 1=1 --"
    df = rp.query("SELECT id FROM airplane.runs.runs WHERE taskID = :task AND status = :status",
                  params={"task": "tsk1", "status": evil}, session=session(handler))
    assert df.empty  # the text was compared as a value, not run as SQL
    assert "taskID=tsk1" in sent[0]


def test_airplane_pages_until_a_short_page() -> None:
    pages: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page")
        pages.append(page)
        n = 2 if page in (None, "1") else 1
        start = 0 if page is None else int(page) * 2
        return httpx.Response(200, json={"runs": [{"id": f"r{start + i}"} for i in range(n)]})

    df = rp.query('SELECT id FROM airplane.runs.runs WHERE "limit" = 2', session=session(handler))
    assert pages == [None, "1", "2"]
    assert list(df["id"]) == ["r0", "r1", "r2", "r3", "r4"]


def test_databricks_token_paging_and_joins_ctes_windows_across_providers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "dbx.test":
            token = request.url.params.get("page_token")
            if token is None:
                return httpx.Response(200, json={"runs": [{"notebook_name": "a", "start_time": 1000, "run_duration": 5}], "next_page_token": "t2"})
            return httpx.Response(200, json={"runs": [{"notebook_name": "b", "start_time": 2000, "run_duration": "7"}]})
        return httpx.Response(200, json={"runs": [{"id": "r1", "taskID": "a"}]})

    df = rp.query(
        """WITH d AS (SELECT notebook_name, run_duration,
                         row_number() OVER (ORDER BY start_time DESC) AS n
                      FROM databricks_workspace.cleanrooms.task_runs
                      WHERE deployment_name = 'dbc-1' AND clean_room_name = 'cr')
           SELECT d.notebook_name, d.n, d.run_duration, a.id
           FROM d LEFT JOIN airplane.runs.runs a ON a.taskID = d.notebook_name ORDER BY d.n""",
        session=session(handler),
    )
    assert list(df["notebook_name"]) == ["b", "a"]
    assert list(df["n"]) == [1, 2]
    assert df.loc[1, "id"] == "r1" and pd.isna(df.loc[0, "id"])
    assert df.loc[0, "run_duration"] == pd.Timedelta(milliseconds=7)


def test_nested_fields_are_reached_and_named_with_dots() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [run("a", platform={"os": "Linux"}), run("b", platform={"os": "Windows"})]})

    df = rp.query(f"SELECT r.platform.os, platform.os AS o2, count(*) AS n FROM azure.container_registry.runs r "
                  f"WHERE {WHERE} AND registryName = 'alpha1' GROUP BY ALL ORDER BY 1", session=session(handler))
    assert list(df.columns) == ["platform.os", "o2", "n"]
    assert list(df["platform.os"]) == ["Linux", "Windows"]


def test_fan_out_is_concurrent() -> None:
    barrier = threading.Barrier(5, timeout=5)

    def handler(request: httpx.Request) -> httpx.Response:
        barrier.wait()  # only passes when five requests are in flight together
        return httpx.Response(200, json={"value": [run("a")]})

    regs = ", ".join(f"'reg{i:04d}'" for i in range(5))
    df = rp.query(f"SELECT * FROM azure.container_registry.runs WHERE {WHERE} AND registryName IN ({regs})",
                  session=session(handler))
    assert len(df) == 5


def test_dry_run_sends_nothing_and_shows_no_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("a dry run sent a request")

    df = rp.query(f"SELECT * FROM azure.container_registry.runs WHERE {WHERE} AND registryName IN ('alpha1', 'beta22')",
                  session=session(handler), dry_run=True)
    assert list(df.columns) == ["resource", "method", "verb", "url", "body"]
    assert len(df) == 2 and "AZ-SECRET" not in df.to_string()


def test_attrs_record_sql_resources_and_requests_but_no_secret() -> None:
    df = rp.query("SELECT * FROM airplane.runs.runs", session=session(lambda r: httpx.Response(200, json={"runs": []})))
    info = df.attrs["runs_pandas"]
    assert info["resources"] == ["airplane.runs.runs"] and info["requests"] == 1
    assert "SECRET" not in json.dumps(info)


def test_integers_beyond_64_bits_are_still_read() -> None:
    big = 2**70

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"runs": [{"id": "r1", "huge": %d}]}' % big)

    df = rp.query("SELECT id, huge FROM airplane.runs.runs", session=session(handler))
    assert df.loc[0, "id"] == "r1" and float(df.loc[0, "huge"]) == pytest.approx(big)  # Arrow holds it as a float


def test_airplane_asks_for_the_page_size_it_pages_by() -> None:
    # a server whose own default page size is smaller than the API's documented 50: paging
    # must not stop after its first (full) page, so the size is always sent
    asked: list[str | None] = []
    runs = [{"id": f"r{i}"} for i in range(120)]

    def handler(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params.get("limit") or 20)
        page = int(request.url.params.get("page") or 0)
        asked.append(request.url.params.get("limit"))
        return httpx.Response(200, json={"runs": runs[page * size:(page + 1) * size]})

    df = rp.query("SELECT id FROM airplane.runs.runs", session=session(handler))
    assert len(df) == 120 and asked == ["50", "50", "50"]
