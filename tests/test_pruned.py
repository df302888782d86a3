"""Pages read for the needed fields only give exactly the frames of the full read."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas import pruned
from runs_pandas.sandbox import Sandbox
from runs_pandas.sql import needed

pytestmark = pytest.mark.integration

ACR = "azure.container_registry.runs"
SCOPE = "subscriptionId = :s AND resourceGroupName = :g AND registryName = :r"


def both(session: Callable[[], rp.Session], sql: str, params: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The frame with pruned reads, the frame with full reads, and how many pages were pruned."""
    frames = []
    before = pruned.pages_read
    for prune in (True, False):
        needed.PRUNE = prune
        try:
            with session() as s:
                frames.append(rp.query(sql, params=params, session=s))
        finally:
            needed.PRUNE = True
        if prune:
            used = pruned.pages_read - before
    pd.testing.assert_frame_equal(frames[0], frames[1])  # values, names, dtypes and order
    return frames[0], frames[1], used


@pytest.fixture()
def acr(sandbox: Sandbox) -> tuple[Callable[[], rp.Session], dict[str, str]]:
    scope = sandbox.scopes()["azure"][0]
    params = {"s": scope["subscriptionId"], "g": scope["resourceGroupName"], "r": scope["registryName"]}
    return (lambda: rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False))), params


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT status, count(*) AS runs FROM {ACR} WHERE {SCOPE} GROUP BY status ORDER BY status",
        f"SELECT count(*) AS n FROM {ACR} WHERE {SCOPE}",
        f"SELECT runId, platform.os, systemData.createdAt FROM {ACR} WHERE {SCOPE} "
        "AND platform.os = 'Linux' AND agentConfiguration.cpu >= 2 ORDER BY createTime DESC, runId LIMIT 40",
        f"SELECT task, min(createTime) AS first, max(finishTime) AS last, avg(finishTime - startTime) AS mean, "
        f"sum(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END) AS failed FROM {ACR} WHERE {SCOPE} GROUP BY task ORDER BY task",
        f"SELECT name, id, isArchiveEnabled FROM {ACR} WHERE {SCOPE} ORDER BY name LIMIT 7",
        f"WITH t AS (SELECT task, status AS s FROM {ACR} WHERE {SCOPE}) SELECT s, count(*) AS n FROM t GROUP BY s ORDER BY s",
    ],
)
def test_acr_statements_read_pruned_and_give_the_same_frame(acr: tuple, sql: str) -> None:
    session, params = acr
    fast, _, used = both(session, sql, params)
    assert len(fast) > 0 and used > 0


def test_a_join_of_two_resources(sandbox: Sandbox) -> None:
    scope = sandbox.scopes()["azure"][0]
    dbx = sandbox.scopes()["databricks"][0]
    sql = (
        f"SELECT a.status, d.notebook_job_run_state.result_state AS result, count(*) AS n "
        f"FROM {ACR} a JOIN databricks_workspace.cleanrooms.task_runs d ON (a.createTime < d.start_time) = (a.status = 'Failed') "
        f"WHERE a.subscriptionId = :s AND a.resourceGroupName = :g AND a.registryName = :r "
        f"AND d.deployment_name = :d AND d.clean_room_name = :c GROUP BY ALL ORDER BY ALL"
    )
    params = {"s": scope["subscriptionId"], "g": scope["resourceGroupName"], "r": scope["registryName"],
              "d": dbx["deployment_name"], "c": dbx["clean_room_name"]}
    fast, _, used = both(lambda: rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)), sql, params)
    assert len(fast) > 0 and used > 0


@pytest.mark.parametrize(
    "sql",
    [
        # integer fields the API sends as decimal text are read as text, typed as Int64 after
        "SELECT collaborator_job_run_info.collaborator_job_id AS job, count(*) AS n, min(start_time) AS first "
        "FROM databricks_workspace.cleanrooms.task_runs WHERE deployment_name = :d AND clean_room_name = :c "
        "GROUP BY job ORDER BY job",
        "SELECT notebook_job_run_state.result_state AS s, count(*) AS n FROM databricks_workspace.cleanrooms.task_runs "
        "WHERE deployment_name = :d AND clean_room_name = :c GROUP BY s ORDER BY s",
        "SELECT status, count(*) AS n, min(createdAt) AS first, max(timeout) AS t FROM airplane.runs.runs "
        "GROUP BY status ORDER BY status",
        "SELECT count(*) AS n FROM airplane.runs.runs",  # no field and no scope column: the rows still count
    ],
)
def test_other_providers(sandbox: Sandbox, sql: str) -> None:
    dbx = sandbox.scopes()["databricks"][0]
    params = {"d": dbx["deployment_name"], "c": dbx["clean_room_name"]} if "databricks" in sql else {}
    fast, _, used = both(lambda: rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)), sql, params)
    assert len(fast) > 0 and used > 0
    if "collaborator_job_id" in sql:
        assert str(fast["job"].dtype) == "Int64"


@pytest.mark.parametrize(
    "sql",
    [f"SELECT * FROM {ACR} WHERE {SCOPE}", f"SELECT platform, status FROM {ACR} WHERE {SCOPE}",
     f"SELECT outputImages FROM {ACR} WHERE {SCOPE}"],
)
def test_statements_that_need_every_field_read_them_all(acr: tuple, sql: str) -> None:
    session, params = acr
    fast, _, used = both(session, sql, params)
    assert len(fast) > 0 and used == 0


def test_a_narrow_series_in_the_cache_never_answers_a_wider_statement(acr: tuple, sandbox: Sandbox) -> None:
    _, params = acr
    with rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, cache_ttl=60)) as s:
        narrow = rp.query(f"SELECT status FROM {ACR} WHERE {SCOPE}", params=params, session=s)
        wide = rp.query(f"SELECT * FROM {ACR} WHERE {SCOPE}", params=params, session=s)
    assert len(narrow) == len(wide) and wide["runId"].notna().all() and wide.shape[1] > 20


# ---- pages whose fields sit on both sides of the lifted object ----


def mock(pages: list[dict]) -> Callable[[], rp.Session]:
    def handler(request: httpx.Request) -> httpx.Response:
        page = pages[1] if "p2" in str(request.url) else pages[0]
        return httpx.Response(200, content=json.dumps(page).encode())

    return lambda: rp.Session(
        client=httpx.Client(transport=httpx.MockTransport(handler)), secrets={"azure": "AZ-SECRET"},
        endpoints={"azure": "https://mgmt.test"}, settings=rp.Settings(progress=False),
    )


def run(run_id: str, **extra: object) -> dict:
    return {"id": f"/x/{run_id}", "name": run_id, "type": "runs",
            "properties": {"runId": run_id, "createTime": "2024-05-01T09:00:00Z", **extra}}


MOCK = ("SELECT runId, name, status, createTime, agentConfiguration.cpu AS cpu FROM azure.container_registry.runs "
        "WHERE subscriptionId = 'sub' AND resourceGroupName = 'rg' AND registryName = 'alpha1' ORDER BY runId")


@pytest.mark.parametrize(
    ("pages", "all_pruned"),
    [
        # plain ARM rows: every page pruned
        ([{"value": [run("a", status="Failed")], "nextLink": "https://mgmt.test/p2"},
          {"value": [run("b", status="Succeeded", agentConfiguration={"cpu": 2})]}], True),
        # a name outside the lifted object on one page, inside it on the next
        ([{"value": [{**run("a"), "status": "Failed"}], "nextLink": "https://mgmt.test/p2"},
          {"value": [run("b", status="Succeeded")]}], True),
        # an explicit null inside, a value outside: the dict path's answer (inside wins)
        ([{"value": [{**run("a", status=None), "status": "Failed"}], "nextLink": "https://mgmt.test/p2"},
          {"value": [run("b", status="Succeeded")]}], False),
        # a row without the lifted object at all
        ([{"value": [{"id": "/x/c", "name": "c", "status": "Queued"}, run("a", status="Failed")]}], True),
        # values on both sides of one row; a needed field of mixed kinds on the next page
        ([{"value": [{**run("a", status="Failed"), "status": "Queued"}], "nextLink": "https://mgmt.test/p2"},
          {"value": [run("b", status=3, agentConfiguration={"cpu": "2"})]}], False),
        # an object outside on one row and inside on another
        ([{"value": [{**run("a"), "agentConfiguration": {"cpu": 1}}, run("b", agentConfiguration={"cpu": 2})]}], False),
        # a cpu count as text
        ([{"value": [run("a", agentConfiguration={"cpu": "4"})], "nextLink": "https://mgmt.test/p2"},
          {"value": [run("b", agentConfiguration={"cpu": 2})]}], True),
    ],
)
def test_lifted_pages_give_the_full_read_s_frame(pages: list[dict], all_pruned: bool) -> None:
    """`all_pruned`: every page is read pruned; otherwise a page the pruned read is unsure of
    takes the dict path (and the frame is still the full read's)."""
    _, _, used = both(mock(pages), MOCK)
    assert used == len(pages) if all_pruned else used < len(pages)
