"""Long-running operations as ARM defines them, and where credentials may go (issue 9: 9, 6)."""

from __future__ import annotations

import httpx
import pytest

import runs_pandas as rp
from runs_pandas.actions import _poll_wait
from runs_pandas.catalog import catalog
from runs_pandas.http import build_request, redact
from runs_pandas.http.paging import link_target
from runs_pandas.sandbox import Sandbox

ACR = "azure.container_registry.runs"
SCOPE_ARGS = "@subscriptionId=:s, @resourceGroupName=:g, @registryName=:r"
ROOMS = "databricks_workspace.cleanrooms.task_runs"


def session(box: Sandbox, **settings: object) -> rp.Session:
    return rp.Session(sandbox=box, settings=rp.Settings(progress=False, **settings))


def scope_of(box: Sandbox) -> dict[str, str]:
    sc = box.scopes()["azure"][0]
    return {"s": sc["subscriptionId"], "g": sc["resourceGroupName"], "r": sc["registryName"]}


def runs(s: rp.Session, scope: dict[str, str]) -> object:
    return rp.query(f"SELECT runId, status, isArchiveEnabled FROM {ACR} WHERE subscriptionId = :s "
                    "AND resourceGroupName = :g AND registryName = :r", scope, s)


@pytest.mark.parametrize("variant", ["async_operation", "location"])
def test_an_awaited_update_answered_201_returns_the_updated_run(variant: str) -> None:
    with Sandbox(lro=variant, acr_runs=200, databricks_runs=0, airplane_runs=0) as box:
        s, scope = session(box), scope_of(box)
        table = runs(s, scope)
        run_id = table[table["isArchiveEnabled"] == False]["runId"].iloc[0]  # noqa: E712
        df = rp.query(f"/*+ AWAIT */ EXEC {ACR}.Runs_Update {SCOPE_ARGS}, @runId=:id, "
                      "@@json='{\"isArchiveEnabled\": true}'", {**scope, "id": run_id}, s)
        # the run itself, re-read when the operation ended: not the operation's status row
        assert df.loc[0, "runId"] == run_id and bool(df.loc[0, "isArchiveEnabled"]) is True
        assert "platform.os" in df.columns and df.attrs["runs_pandas"]["method"] == "Runs_Update"
        polls = [p for _, p in box.requests if "/operation" in p]
        assert len(polls) == 2  # in progress once, then done
        assert all(("operationResults" if variant == "location" else "operationStatuses") in p for p in polls)


def test_a_location_poll_ending_in_204_ends_the_await_at_once() -> None:
    with Sandbox(lro="location", acr_runs=200, databricks_runs=0, airplane_runs=0) as box:
        s, scope = session(box, await_budget=5.0), scope_of(box)
        table = runs(s, scope)
        run_id = table[table["status"].isin(["Running", "Queued", "Started"])]["runId"].iloc[0]
        df = rp.query(f"/*+ AWAIT */ EXEC {ACR}.Runs_Cancel {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
        assert df.loc[0, "http_status"] == 204  # 202, then 204: ended, not a timeout
        assert runs(s, scope).set_index("runId").loc[run_id, "status"] == "Canceled"


def test_the_await_budget_is_a_setting() -> None:
    with Sandbox(lro="async_operation", acr_runs=200, databricks_runs=0, airplane_runs=0) as box:
        s, scope = session(box, await_budget=0.05, poll_interval=1.0), scope_of(box)
        table = runs(s, scope)
        run_id = table[table["status"].isin(["Running", "Queued", "Started"])]["runId"].iloc[0]
        with pytest.raises(rp.ApiError, match="within 0.05 s.*await_budget"):
            rp.query(f"/*+ AWAIT */ EXEC {ACR}.Runs_Cancel {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
    with pytest.raises(ValueError):
        rp.Settings(await_budget=0)


@pytest.mark.parametrize("value", [None, "-1", "soon", "Wed, 21 Oct 2015 07:28:00", "nan", "inf"])
def test_an_unusable_retry_after_falls_back_to_the_backoff(value: str | None) -> None:
    waits = [_poll_wait(value, polls, 0.5) for polls in range(5)]
    assert all(0 < w <= 10 for w in waits) and waits[0] < waits[3]


def test_a_usable_retry_after_is_honoured_and_capped() -> None:
    assert _poll_wait("0", 3, 1.0) == 0 and _poll_wait("2.5", 0, 1.0) == 2.5 and _poll_wait("3600", 0, 1.0) == 10


def test_the_lro_protocol_is_catalog_data() -> None:
    update = catalog().resource(ACR).method("Runs_Update")
    assert update is not None and update.long_running is not None
    assert update.long_running.headers == ("Azure-AsyncOperation", "Location")
    assert update.long_running.reread == "Runs_Get" and 204 in update.long_running.done


def _room(value: str, endpoint: str | None = None) -> str:
    provider = catalog().provider("databricks_workspace")
    method = catalog().resource(ROOMS).methods_for("select")[0]
    return build_request(provider, ROOMS, method, {"clean_room_name": "r", "deployment_name": value}, endpoint).url


@pytest.mark.parametrize("value", [
    "http://h.example.com", "http://127.0.0.1:9", "ftp://h.example.com", "https://user:pw@h.example.com",
    "h.example.com/path", "https://h.example.com/api", "h.example.com#frag", "h.example.com?x=1",
    "user@h.example.com", "h.example.com:443@evil.example",
])
def test_deployment_name_refuses_schemes_userinfo_paths_and_fragments(value: str) -> None:
    with pytest.raises(rp.ParamError, match="deployment name.*https host"):
        _room(value)
    with pytest.raises(rp.ParamError):  # also when an endpoint override is set
        _room(value, "http://127.0.0.1:9999")


def test_deployment_name_accepts_a_name_or_an_https_host() -> None:
    assert _room("dbc-1234").startswith("https://dbc-1234.cloud.databricks.com/")
    assert _room("adb-1.2.azuredatabricks.net").startswith("https://adb-1.2.azuredatabricks.net/")
    assert _room("https://adb-1.2.azuredatabricks.net/").startswith("https://adb-1.2.azuredatabricks.net/")


@pytest.mark.parametrize("endpoint", ["http://mgmt.example.net", "http://10.0.0.5:8080", "ftp://127.0.0.1", "https://u:p@h.example"])
def test_credentials_go_only_over_https_or_to_loopback(endpoint: str) -> None:
    transport = httpx.MockTransport(lambda request: pytest.fail(f"sent to {request.url}"))
    s = rp.Session(sandbox=False, endpoints={"airplane": endpoint}, secrets={"airplane": "k"},
                   client=httpx.Client(transport=transport), settings=rp.Settings(progress=False))
    with pytest.raises(rp.ParamError, match="https") as info:
        rp.query("SELECT * FROM airplane.runs.runs", session=s)
    assert ":p@" not in str(info.value)


def test_loopback_http_endpoints_and_https_are_accepted() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"runs": []})

    for endpoint in ("http://127.0.0.1:1/v0", "http://localhost:1/v0", "https://airplane.example/v0"):
        s = rp.Session(sandbox=False, endpoints={"airplane": endpoint}, secrets={"airplane": "k"},
                       client=httpx.Client(transport=httpx.MockTransport(answer)), settings=rp.Settings(progress=False))
        rp.query("SELECT * FROM airplane.runs.runs", session=s)
    assert len(seen) == 3


def test_link_header_targets() -> None:
    header = '<https://h/x?page=2&a=1,2>; rel="next", <https://h/x?page=9>; rel="last"'
    assert link_target(header, "next") == "https://h/x?page=2&a=1,2"
    assert link_target(header, "last") == "https://h/x?page=9"
    assert link_target('<https://h/p1>; rel="prev first"', "next") is None
    assert link_target("", "next") is None


def test_secret_query_names_come_from_the_catalog() -> None:
    azure = catalog().provider("azure")
    url = "https://x.blob.example/log?sv=1&sig=SECRET&skoid=OID&page=2"
    shown = redact(url, azure.secret_query)
    assert "SECRET" not in shown and "OID" not in shown and "page=2" in shown
    assert "SECRET" in redact(url)  # without the catalog's names, `sig` is not a known secret


def test_header_params_and_catalog_headers_are_sent() -> None:
    got: list[httpx.Headers] = []

    def answer(request: httpx.Request) -> httpx.Response:
        got.append(request.headers)
        return httpx.Response(200, json={"runs": []})

    s = rp.Session(sandbox=False, endpoints={"airplane": "https://airplane.example/v0"}, secrets={"airplane": "k"},
                   client=httpx.Client(transport=httpx.MockTransport(answer)), settings=rp.Settings(progress=False))
    rp.query("SELECT * FROM airplane.runs.runs", session=s)
    assert got[0]["Accept"] == "application/json"  # from the catalog's provider headers


def test_a_200_with_an_operation_header_is_followed_too() -> None:
    """ARM: 200, 201 or 202 may carry Azure-AsyncOperation; the poll decides when it ends."""
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "PATCH":
            return httpx.Response(200, json={}, headers={"Azure-AsyncOperation": "https://mgmt.example/op/1"})
        if request.url.path == "/op/1":
            return httpx.Response(200, json={"status": "Succeeded"})
        return httpx.Response(200, json={"name": "r1", "properties": {"runId": "r1", "isArchiveEnabled": True}})

    s = rp.Session(sandbox=False, endpoints={"azure": "https://mgmt.example"}, secrets={"azure": "a-long-test-token"},
                   client=httpx.Client(transport=httpx.MockTransport(answer)), settings=rp.Settings(progress=False))
    df = rp.query(f"/*+ AWAIT */ EXEC {ACR}.Runs_Update @subscriptionId='s', @resourceGroupName='g', "
                  "@registryName='registry1', @runId='r1', @@json='{\"isArchiveEnabled\": true}'", session=s)
    assert calls[1] == "GET /op/1" and calls[2].endswith("/runs/r1")
    assert df.loc[0, "runId"] == "r1" and bool(df.loc[0, "isArchiveEnabled"]) is True
