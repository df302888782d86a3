"""Servers that misbehave as real ones and proxies do: what runs_pandas makes of each.

Each server is scripted on loopback and stops by itself; each test says what a user sees.
"""

from __future__ import annotations

import email.utils
import json
import time

import pytest
from servers import SECRETS, Answer, Seen, serving, session_for

import runs_pandas as rp
from runs_pandas.errors import NotFoundError, PageError

ACR = (
    "SELECT runId FROM azure.container_registry.runs WHERE subscriptionId = 'sub' "
    "AND resourceGroupName = 'rg' AND registryName = 'alpha1'"
)
DBX = (
    "SELECT run_id FROM databricks_workspace.cleanrooms.task_runs "
    "WHERE clean_room_name = 'room' AND deployment_name = 'dep'"
)
AIR = "SELECT id FROM airplane.runs.runs WHERE \"limit\" = 2"


def acr_run(run_id: str) -> dict:
    return {"id": f"/r/{run_id}", "name": run_id, "properties": {"runId": run_id, "status": "Succeeded"}}


def acr_page(*ids: str, next_link: str | None = None) -> dict:
    page: dict = {"value": [acr_run(i) for i in ids]}
    if next_link:
        page["nextLink"] = next_link
    return page


# -- pages that are not what the catalog says -------------------------------------------------

BAD_BODIES = [b"null", b"[]", b"5", b'"text"', b'{"value": [1, 2, 3]}', b'{"value": [null]}',
              b'{"value": "x"}', b'{"value": [{"id": "a"}, "b"]}', b"true"]


@pytest.mark.parametrize("body", BAD_BODIES, ids=[b.decode() for b in BAD_BODIES])
def test_a_bad_second_page_is_an_error_naming_the_request_and_keeps_the_first(body: bytes) -> None:
    def script(seen: Seen, index: int) -> Answer:
        if "page2" in seen.path:
            return Answer(200, body)
        return Answer(200, acr_page("r1", "r2", next_link=f"{server.url}{seen.path}/page2"))

    with serving(script) as server, pytest.raises(rp.ApiError) as info:
        rp.query(ACR, session=session_for(server.url))
    failure = info.value.failures[0]
    assert isinstance(failure, PageError)
    text = str(failure)
    assert "azure" in text and "Runs_List" in text and "/page2" in text and "expected" in text
    assert sorted(info.value.frame["runId"]) == ["r1", "r2"]  # the earlier page is kept


@pytest.mark.parametrize("body", [b"null", b"[]", b"5", b'"x"'])
def test_a_bad_body_for_one_object_is_an_error_not_a_row(body: bytes) -> None:
    with serving(lambda seen, i: Answer(200, body)) as server:
        with pytest.raises(rp.RunsError, match="expected the body to be one JSON object"):
            rp.query("SELECT * FROM airplane.runs.runs WHERE id = 'run1'", session=session_for(server.url))


# -- paging that cannot loop or repeat ----------------------------------------------------------

def test_a_next_link_to_itself_stops_with_the_rows_once() -> None:
    def script(seen: Seen, index: int) -> Answer:
        return Answer(200, acr_page("r1", "r2", next_link=f"{server.url}{seen.path}?api-version=2019-06-01-preview"))

    with serving(script) as server, pytest.raises(rp.ApiError) as info:
        rp.query(ACR, session=session_for(server.url))
    assert list(info.value.frame["runId"]) == ["r1", "r2"]
    assert isinstance(info.value.failures[0], PageError) and "repeats" in str(info.value.failures[0])
    assert len(server.seen) == 1


def test_a_repeated_page_token_stops_the_series() -> None:
    def script(seen: Seen, index: int) -> Answer:
        run = {"run_id": f"run{index}", "notebook_name": "nb"}
        return Answer(200, {"runs": [run], "next_page_token": "same" if index else "first"})

    with serving(script) as server, pytest.raises(rp.ApiError) as info:
        rp.query(DBX, session=session_for(server.url))
    assert list(info.value.frame["run_id"]) == ["run0", "run1", "run2"]
    assert "repeats" in str(info.value) and "clean-rooms/room/runs" in str(info.value)
    assert [s.query.get("page_token") for s in server.seen] == [None, ["first"], ["same"]]  # never twice


def test_a_server_that_ignores_the_page_param_gives_each_row_once() -> None:
    rows = [{"id": "run_a", "status": "Succeeded"}, {"id": "run_b", "status": "Failed"}]
    with serving(lambda seen, i: Answer(200, {"runs": rows})) as server:
        with pytest.raises(rp.ApiError) as info:
            rp.query(AIR, session=session_for(server.url))
    assert list(info.value.frame["id"]) == ["run_a", "run_b"]
    assert "already seen" in str(info.value.failures[0]) and "runs/list" in str(info.value.failures[0])
    assert len(server.seen) == 2  # not 100,000 pages


def test_the_page_cap_ends_a_runaway_series_and_keeps_its_rows() -> None:
    def script(seen: Seen, index: int) -> Answer:
        return Answer(200, acr_page(f"r{index}", next_link=f"{server.url}{seen.path}?api-version=x&skip={index + 1}"))

    with serving(script) as server, pytest.raises(rp.ApiError) as info:
        rp.query(ACR, session=session_for(server.url, max_pages=5))
    assert len(info.value.frame) == 5 and len(server.seen) == 5
    assert "page cap (5 pages, setting max_pages)" in str(info.value)


def test_a_malformed_next_link_is_an_api_error() -> None:
    def script(seen: Seen, index: int) -> Answer:
        return Answer(200, acr_page("r1", next_link="http://[::1"))

    with serving(script) as server, pytest.raises(rp.ApiError) as info:
        rp.query(ACR, session=session_for(server.url))
    assert list(info.value.frame["runId"]) == ["r1"] and "next link" in str(info.value)


# -- redirects and statuses ---------------------------------------------------------------------

def test_a_redirect_to_another_origin_is_an_error_naming_it() -> None:
    with serving(lambda s, i: Answer(302, {}, {"Location": "https://elsewhere.test/steal?sig=abc"})) as server:
        with pytest.raises(rp.ApiError) as info:
            rp.query(ACR, session=session_for(server.url))
    text = str(info.value)
    assert "https://elsewhere.test/steal" in text and "another origin" in text and "sig=abc" not in text
    assert len(server.seen) == 1


def test_a_redirect_within_the_origin_is_followed_with_credentials() -> None:
    def script(seen: Seen, index: int) -> Answer:
        if "moved" in seen.path:
            return Answer(200, acr_page("r1"))
        return Answer(307, {}, {"Location": f"/moved{seen.path}?api-version=x"})

    with serving(script) as server:
        frame = rp.query(ACR, session=session_for(server.url))
    assert list(frame["runId"]) == ["r1"]
    assert server.seen[1].headers.get("Authorization") == f"Bearer {SECRETS['azure']}"


CANCEL = "EXEC airplane.runs.runs.cancelRun @runID = 'run_1'"


@pytest.mark.parametrize("status", [302, 307, 204, 201])
def test_a_cancel_is_ok_only_on_its_documented_status(status: int) -> None:
    headers = {"Location": "https://other.test/x"} if status in (302, 307) else {}
    with serving(lambda s, i: Answer(status, {} if status != 204 else None, headers)) as server:
        with pytest.raises(rp.ApiError) as info:
            rp.query(CANCEL, session=session_for(server.url))
    assert str(status) in str(info.value)


def test_a_cancel_answered_200_is_ok() -> None:
    with serving(lambda s, i: Answer(200, {})) as server:
        frame = rp.query(CANCEL, session=session_for(server.url))
    assert frame.attrs["runs_pandas"]["requests"] == 1
    assert json.loads(server.seen[0].body) == {"runID": "run_1"}


# -- bounds that hold ---------------------------------------------------------------------------

def throttled_then_ok(retry_after: str):
    def script(seen: Seen, index: int) -> Answer:
        if index == 0:
            return Answer(429, {"error": "slow down"}, {"Retry-After": retry_after})
        return Answer(200, acr_page("r1"))
    return script


def test_retry_after_beyond_the_budget_gives_up_at_once() -> None:
    with serving(throttled_then_ok("3")) as server, pytest.raises(rp.ApiError) as info:
        rp.query(ACR, session=session_for(server.url, retry_budget=0.5))
    assert "asked to wait 3.0 s" in str(info.value) and "retry_budget" in str(info.value)
    assert len(server.seen) == 1  # did not sit out 3 s and try again


def test_retry_after_as_an_http_date_is_honoured() -> None:
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    with serving(throttled_then_ok(date)) as server, pytest.raises(rp.ApiError) as info:
        rp.query(ACR, session=session_for(server.url, retry_budget=5))
    assert "asked to wait 2" in str(info.value) or "asked to wait 3" in str(info.value)  # ~30 s, read as a date
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    with serving(throttled_then_ok(past)) as server:
        frame = rp.query(ACR, session=session_for(server.url))
    assert list(frame["runId"]) == ["r1"] and len(server.seen) == 2


@pytest.mark.parametrize("value", ["soon", "-1", "", "Mon, 99 Foo 2020"])
def test_unusable_retry_after_falls_back_to_the_backoff(value: str) -> None:
    with serving(throttled_then_ok(value)) as server:
        frame = rp.query(ACR, session=session_for(server.url))
    assert list(frame["runId"]) == ["r1"] and len(server.seen) == 2


def test_the_timeout_bounds_a_trickled_body() -> None:
    page = acr_page(*[f"r{i}" for i in range(20)])
    with serving(lambda s, i: Answer(200, page, chunks=40, gap=0.08)) as server:
        with pytest.raises(rp.ApiError) as info:
            rp.query(ACR, session=session_for(server.url, timeout=0.4, retries=0))
    assert "longer than the timeout (0.4 s)" in str(info.value)


# -- the right error class ----------------------------------------------------------------------

def test_401_on_one_of_three_scopes_is_an_auth_error_with_the_other_rows() -> None:
    def script(seen: Seen, index: int) -> Answer:
        if "/registries/bravo2/" in seen.path:
            return Answer(401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}})
        return Answer(200, acr_page(seen.path.split("/registries/")[1].split("/")[0] + "-run"))

    sql = ACR.replace("registryName = 'alpha1'", "registryName IN ('alpha1', 'bravo2', 'charlie3')")
    with serving(script) as server, pytest.raises(rp.AuthError) as info:
        rp.query(sql, session=session_for(server.url))
    assert isinstance(info.value, rp.UnauthorizedError) and info.value.status == 401
    assert "secrets= given to the Session" in str(info.value) and "azure" in str(info.value)
    assert sorted(info.value.frame["runId"]) == ["alpha1-run", "charlie3-run"]


def test_403_on_every_request_is_an_auth_error_naming_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRPLANE_API_KEY", "tkn_from_env")
    with serving(lambda s, i: Answer(403, {"error": "forbidden"})) as server:
        session = rp.Session(endpoints={"airplane": server.url}, settings=rp.Settings(progress=False))
        with pytest.raises(rp.AuthError, match="environment variable AIRPLANE_API_KEY"):
            rp.query(AIR, session=session)


def test_404_for_one_run_is_not_found_not_partial_data(session: rp.Session) -> None:
    with pytest.raises(NotFoundError, match="not found") as info:
        rp.query("SELECT * FROM airplane.runs.runs WHERE id = 'nosuchrun'", session=session)
    assert not isinstance(info.value, rp.IncompleteFetchError) and info.value.status == 404


@pytest.mark.parametrize("value", ["soon", "-1", "Mon, 01 Jan 2001 00:00:00 GMT"])
def test_await_reads_any_retry_after_without_crashing(value: str) -> None:
    def script(seen: Seen, index: int) -> Answer:
        if seen.path.startswith("/operations/"):
            return Answer(200, {"status": "Succeeded"})
        return Answer(202, None, {"Azure-AsyncOperation": f"{server.url}/operations/op1", "Retry-After": value})

    sql = (
        "/*+ AWAIT */ EXEC azure.container_registry.runs.Runs_Cancel @subscriptionId = 'sub', "
        "@resourceGroupName = 'rg', @registryName = 'alpha1', @runId = 'ca1'"
    )
    with serving(script) as server:
        frame = rp.query(sql, session=session_for(server.url))
    assert frame["status"].tolist() == ["Succeeded"] and len(server.seen) == 2
