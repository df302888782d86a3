"""The sandbox fakes, exercised over real loopback HTTP with httpx."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from runs_pandas.sandbox import Fault, Sandbox, shared

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACR_RUNS, DATABRICKS_RUNS, AIRPLANE_RUNS = 1200, 400, 500
API = {"api-version": "2019-06-01-preview"}
SPEC_EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "specs" / "azure" / "examples"
ARM_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$")
AIRPLANE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$")


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A read-only sandbox shared by the tests that do not change state."""
    with Sandbox(
        now=NOW, acr_runs=ACR_RUNS, databricks_runs=DATABRICKS_RUNS, airplane_runs=AIRPLANE_RUNS
    ) as running:
        yield running


@pytest.fixture()
def fresh() -> Iterator[Sandbox]:
    """A small sandbox of its own, for tests that cancel, update or inject faults."""
    with Sandbox(now=NOW, acr_runs=300, databricks_runs=100, airplane_runs=120) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


def azure_headers(box: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {box.tokens['azure']}"}


def databricks_headers(box: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {box.tokens['databricks_workspace']}"}


def airplane_headers(box: Sandbox) -> dict[str, str]:
    return {"X-Airplane-API-Key": box.tokens["airplane"]}


def runs_url(box: Sandbox, scope: dict[str, str]) -> str:
    return (
        f"{box.endpoints['azure']}/subscriptions/{scope['subscriptionId']}/resourceGroups/"
        f"{scope['resourceGroupName']}/providers/Microsoft.ContainerRegistry/registries/"
        f"{scope['registryName']}/runs"
    )


def generated_scopes(box: Sandbox) -> list[dict[str, str]]:
    return [s for s in box.scopes()["azure"] if s["registryName"] != "myRegistry"]


def acr_all(
    box: Sandbox, http: httpx.Client, scope: dict[str, str], params: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Every run of a registry by following nextLink; also the number of pages."""
    body = (
        http.get(runs_url(box, scope), params={**API, **(params or {})}, headers=azure_headers(box))
        .raise_for_status()
        .json()
    )
    runs, pages = list(body["value"]), 1
    while body.get("nextLink"):
        body = http.get(body["nextLink"], headers=azure_headers(box)).raise_for_status().json()
        runs += body["value"]
        pages += 1
    return runs, pages


def databricks_all(
    box: Sandbox, http: httpx.Client, room: str, params: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    url = f"{box.endpoints['databricks_workspace']}/api/2.0/clean-rooms/{room}/runs"
    runs: list[dict[str, Any]] = []
    token = None
    while True:
        query = {**(params or {}), **({"page_token": token} if token else {})}
        body = (
            http.get(url, params=query, headers=databricks_headers(box)).raise_for_status().json()
        )
        runs += body.get("runs", [])
        token = body.get("next_page_token")
        if not token:
            return runs


def airplane_all(box: Sandbox, http: httpx.Client, **params: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    page = 0
    while True:
        body = (
            http.get(
                f"{box.endpoints['airplane']}/runs/list",
                params={**params, "page": page},
                headers=airplane_headers(box),
            )
            .raise_for_status()
            .json()
        )
        runs += body["runs"]
        if len(body["runs"]) < int(params.get("limit", 50)):
            return runs
        page += 1


def all_acr_runs(box: Sandbox, http: httpx.Client) -> list[dict[str, Any]]:
    return [run for scope in generated_scopes(box) for run in acr_all(box, http, scope)[0]]


# -- authentication and validation -----------------------------------------------------------


def test_each_provider_refuses_requests_without_credentials(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    scope = sandbox.scopes()["azure"][0]
    azure = client.get(runs_url(sandbox, scope), params=API)
    assert azure.status_code == 401
    assert azure.json()["error"]["code"] == "AuthenticationFailed"
    # the swagger's ErrorResponseBody: code and message strings, details an array, no nulls
    error = azure.json()["error"]
    assert set(error) <= {"code", "message", "target", "details"} and {"code", "message"} <= set(error)
    assert None not in error.values() and isinstance(error["details"], list)
    wrong = client.get(runs_url(sandbox, scope), params=API, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401

    room = sandbox.scopes()["databricks"][0]["clean_room_name"]
    databricks = client.get(f"{sandbox.endpoints['databricks_workspace']}/api/2.0/clean-rooms/{room}/runs")
    assert databricks.status_code == 401
    assert databricks.json()["error_code"] == "UNAUTHENTICATED"

    airplane = client.get(
        f"{sandbox.endpoints['airplane']}/runs/list", headers={"X-Airplane-API-Key": "tkn_wrong"}
    )
    assert airplane.status_code == 401
    assert isinstance(airplane.json()["error"], str)


def test_missing_or_invalid_parameters_get_provider_shaped_errors(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    scope = sandbox.scopes()["azure"][0]
    url, headers = runs_url(sandbox, scope), azure_headers(sandbox)

    def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    assert code(client.get(url, headers=headers)) == (400, "MissingApiVersionParameter")
    assert code(client.get(url, params={"api-version": "2099-01-01"}, headers=headers)) == (
        400,
        "InvalidApiVersionParameter",
    )
    unknown_subscription = url.replace(
        scope["subscriptionId"], "0" * 8 + "-0000-0000-0000-" + "0" * 12
    )
    assert code(client.get(unknown_subscription, params=API, headers=headers)) == (
        404,
        "SubscriptionNotFound",
    )
    assert code(
        client.get(url.replace("rg-build-prod", "rg-nope"), params=API, headers=headers)
    ) == (404, "ResourceGroupNotFound")
    assert code(
        client.get(url.replace("contosobuilds", "contosonope"), params=API, headers=headers)
    ) == (404, "ResourceNotFound")
    assert (
        client.get(url.replace("contosobuilds", "ab-c"), params=API, headers=headers).status_code
        == 400
    )
    assert code(client.get(f"{url}/zzzz", params=API, headers=headers)) == (404, "ResourceNotFound")
    assert code(client.get(url, params={**API, "$top": "many"}, headers=headers))[0] == 400

    databricks = f"{sandbox.endpoints['databricks_workspace']}/api/2.0/clean-rooms"
    bad_token = client.get(
        f"{databricks}/retail_insights/runs",
        params={"page_token": "bogus"},
        headers=databricks_headers(sandbox),
    )
    assert (bad_token.status_code, bad_token.json()["error_code"]) == (
        400,
        "INVALID_PARAMETER_VALUE",
    )
    missing = client.get(f"{databricks}/nope/runs", headers=databricks_headers(sandbox))
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")

    airplane = sandbox.endpoints["airplane"]
    for params in ({"limit": "51"}, {"limit": "-1"}, {"page": "x"}, {"since": "yesterday"}):
        response = client.get(
            f"{airplane}/runs/list", params=params, headers=airplane_headers(sandbox)
        )
        assert response.status_code == 400 and "error" in response.json()
    assert client.get(f"{airplane}/runs/get", headers=airplane_headers(sandbox)).status_code == 400
    assert (
        client.get(
            f"{airplane}/runs/get",
            params={"id": "run20200101zzzzzzz"},
            headers=airplane_headers(sandbox),
        ).status_code
        == 404
    )


# -- paging and data ------------------------------------------------------------------------


def test_acr_paging_walks_every_page(sandbox: Sandbox, client: httpx.Client) -> None:
    total, ids = 0, set()
    for scope in generated_scopes(sandbox):
        runs, pages = acr_all(sandbox, client, scope)
        assert pages == -(-len(runs) // 100)
        created = [run["properties"]["createTime"] for run in runs]
        assert created == sorted(created, reverse=True)  # newest first
        total += len(runs)
        ids |= {run["id"] for run in runs}
    assert total == ACR_RUNS == len(ids)


def test_acr_next_link_is_absolute_and_keeps_the_query(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    scope = sandbox.scopes()["azure"][0]
    body = client.get(
        runs_url(sandbox, scope),
        params={**API, "$filter": "status ne 'Queued'"},
        headers=azure_headers(sandbox),
    ).json()
    link = body["nextLink"]
    assert link.startswith(sandbox.url + "/azure/subscriptions/")
    assert "api-version=2019-06-01-preview" in link and "$filter=" in link and "$skipToken=" in link


def test_databricks_and_airplane_paging(sandbox: Sandbox, client: httpx.Client) -> None:
    rooms = [s["clean_room_name"] for s in sandbox.scopes()["databricks"]]
    runs = [run for room in rooms for run in databricks_all(sandbox, client, room)]
    assert len(runs) == DATABRICKS_RUNS
    keys = {(r["notebook_name"], r["start_time"], r["notebook_etag"]) for r in runs}
    assert len(keys) == DATABRICKS_RUNS
    one = databricks_all(sandbox, client, rooms[1], {"notebook_name": "attribution_multi_touch"})
    assert one and {r["notebook_name"] for r in one} == {"attribution_multi_touch"}

    planes = airplane_all(sandbox, client)
    assert len(planes) == AIRPLANE_RUNS == len({r["id"] for r in planes})
    small = airplane_all(sandbox, client, limit="7")
    assert [r["id"] for r in small] == [r["id"] for r in planes]
    task = sandbox.scopes()["airplane"][0]
    by_slug = airplane_all(sandbox, client, taskSlug=task["taskSlug"])
    assert by_slug and {r["taskID"] for r in by_slug} == {task["taskID"]}


def test_every_status_value_appears(sandbox: Sandbox, client: httpx.Client) -> None:
    acr = all_acr_runs(sandbox, client)
    assert {r["properties"]["status"] for r in acr} == {
        "Queued",
        "Started",
        "Running",
        "Succeeded",
        "Failed",
        "Canceled",
        "Error",
        "Timeout",
    }
    assert {r["properties"]["runType"] for r in acr} == {
        "QuickBuild",
        "QuickRun",
        "AutoBuild",
        "AutoRun",
    }

    rooms = [s["clean_room_name"] for s in sandbox.scopes()["databricks"]]
    states = [
        r["notebook_job_run_state"] for room in rooms for r in databricks_all(sandbox, client, room)
    ]
    assert {s["life_cycle_state"] for s in states} == {
        "RUN_LIFE_CYCLE_STATE_UNSPECIFIED",
        "PENDING",
        "QUEUED",
        "RUNNING",
        "TERMINATING",
        "TERMINATED",
        "SKIPPED",
        "INTERNAL_ERROR",
        "BLOCKED",
        "WAITING_FOR_RETRY",
    }
    assert {s["result_state"] for s in states if "result_state" in s} == {
        "RUN_RESULT_STATE_UNSPECIFIED",
        "SUCCESS",
        "SUCCESS_WITH_FAILURES",
        "FAILED",
        "TIMEDOUT",
        "CANCELED",
        "DISABLED",
        "EVICTED",
        "EXCLUDED",
        "MAXIMUM_CONCURRENT_RUNS_REACHED",
        "UPSTREAM_CANCELED",
        "UPSTREAM_EVICTED",
        "UPSTREAM_FAILED",
    }
    assert all(
        "result_state" not in s
        for s in states
        if s["life_cycle_state"] not in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
    )

    assert {r["status"] for r in airplane_all(sandbox, client)} == {
        "NotStarted",
        "Queued",
        "Active",
        "Succeeded",
        "Failed",
        "Cancelled",
    }


def test_payloads_use_each_providers_formats(sandbox: Sandbox, client: httpx.Client) -> None:
    acr = all_acr_runs(sandbox, client)
    for run in acr:
        props = run["properties"]
        assert run["type"] == "Microsoft.ContainerRegistry/registries/runs"
        assert run["name"] == props["runId"] and run["id"].endswith("/runs/" + props["runId"])
        assert ARM_TIME.match(props["createTime"]) and ARM_TIME.match(props["lastUpdatedTime"])
        assert ("finishTime" in props) == (props["status"] not in ("Queued", "Started", "Running"))
        assert set(run["systemData"]) == {
            "createdBy",
            "createdByType",
            "createdAt",
            "lastModifiedBy",
            "lastModifiedByType",
            "lastModifiedAt",
        }

    rooms = [s["clean_room_name"] for s in sandbox.scopes()["databricks"]]
    runs = [r for room in rooms for r in databricks_all(sandbox, client, room)]
    assert any(isinstance(r.get("run_duration"), str) for r in runs)
    assert any(isinstance(r.get("run_duration"), int) for r in runs)
    infos = [r["collaborator_job_run_info"] for r in runs]
    assert any(set(info) == {"collaborator_workspace_id"} for info in infos)
    assert all(
        isinstance(value, str)
        for info in infos
        for key, value in info.items()
        if key != "collaborator_alias"
    )

    for run in airplane_all(sandbox, client):
        for key in ("createdAt", "activeAt", "succeededAt", "failedAt", "cancelledAt"):
            assert run[key] is None or AIRPLANE_TIME.match(run[key]), run[key]
        assert re.match(r"^run\d{8}z[0-9a-z]+$", run["id"])


# -- the official ACR examples ------------------------------------------------------------


def test_acr_example_scope_serves_the_swagger_examples_verbatim(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    folder = SPEC_EXAMPLES

    def expected(name: str) -> Any:
        return json.loads((folder / name).read_text())["responses"]["200"]["body"]

    scope = sandbox.scopes()["azure"][-1]
    assert scope["registryName"] == "myRegistry"
    url, headers = runs_url(sandbox, scope), azure_headers(sandbox)
    run_url = f"{url}/0accec26-d6de-4757-8e74-d080f38eaaab"
    assert client.get(url, params={**API, "$top": "10"}, headers=headers).json() == expected(
        "RunsList.json"
    )
    assert client.get(run_url, params=API, headers=headers).json() == expected("RunsGet.json")
    updated = client.patch(run_url, params=API, headers=headers, json={"isArchiveEnabled": True})
    assert updated.json() == expected("RunsUpdate.json")
    links = client.post(f"{run_url}/listLogSasUrl", params=API, headers=headers)
    assert links.json() == expected("RunsGetLogSasUrl.json")
    cancel = client.post(f"{run_url}/cancel", params=API, headers=headers)
    assert (cancel.status_code, cancel.content) == (200, b"")


# -- $filter and $top -----------------------------------------------------------------------


def test_acr_filter_and_top(sandbox: Sandbox, client: httpx.Client) -> None:
    scope = sandbox.scopes()["azure"][0]
    everything, _ = acr_all(sandbox, client, scope)
    failed, _ = acr_all(sandbox, client, scope, {"$filter": "status eq 'Failed'"})
    assert failed and failed == [r for r in everything if r["properties"]["status"] == "Failed"]

    cutoff = everything[len(everything) // 2]["properties"]["createTime"]
    expression = (
        f"(status eq 'Succeeded' or status eq 'Failed') and createTime ge {cutoff[:19]}Z"
        " and contains(taskName, 'web')"
    )
    picked, _ = acr_all(sandbox, client, scope, {"$filter": expression})
    assert picked and all(
        r["properties"]["status"] in ("Succeeded", "Failed")
        and "web" in r["properties"]["task"]
        and r["properties"]["createTime"] >= cutoff[:19]
        for r in picked
    )
    quoted, _ = acr_all(
        sandbox, client, scope, {"$filter": expression.replace(f"{cutoff[:19]}Z", f"'{cutoff}'")}
    )
    assert 0 < len(quoted) <= len(picked)

    assert acr_all(sandbox, client, scope, {"$filter": ""})[0] == everything
    top7, pages = acr_all(sandbox, client, scope, {"$top": "7"})
    assert (top7, pages) == (everything[:7], 1)
    top150, pages = acr_all(sandbox, client, scope, {"$top": "150"})
    assert (top150, pages) == (everything[:150], 2)

    bad = client.get(
        runs_url(sandbox, scope),
        params={**API, "$filter": "status eq Failed"},
        headers=azure_headers(sandbox),
    )
    assert bad.status_code == 400
    assert (
        bad.json()["error"]["code"] == "InvalidFilter"
        and "position" in bad.json()["error"]["message"]
    )
    unknown = client.get(
        runs_url(sandbox, scope),
        params={**API, "$filter": "colour eq 'red'"},
        headers=azure_headers(sandbox),
    )
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["message"]


# -- state changes --------------------------------------------------------------------------


def test_acr_cancel_then_refuse_a_second_cancel(fresh: Sandbox, client: httpx.Client) -> None:
    scope = fresh.scopes()["azure"][0]
    running = acr_all(fresh, client, scope, {"$filter": "status eq 'Running'"})[0][0]
    run_url = f"{runs_url(fresh, scope)}/{running['name']}"
    response = client.post(f"{run_url}/cancel", params=API, headers=azure_headers(fresh))
    assert (response.status_code, response.content) == (202, b"")
    operation = client.get(response.headers["Azure-AsyncOperation"], headers=azure_headers(fresh))
    assert operation.json()["status"] == "Succeeded"
    assert client.get(response.headers["Location"], headers=azure_headers(fresh)).status_code == 200

    after = client.get(run_url, params=API, headers=azure_headers(fresh)).json()["properties"]
    assert after["status"] == "Canceled" and ARM_TIME.match(after["finishTime"])
    assert after["lastUpdatedTime"] == after["finishTime"]
    listed = {r["name"]: r for r in acr_all(fresh, client, scope)[0]}
    assert listed[running["name"]]["properties"]["status"] == "Canceled"
    again = client.post(f"{run_url}/cancel", params=API, headers=azure_headers(fresh))
    assert again.status_code == 409 and again.json()["error"]["code"] == "RunNotCancelable"


def test_acr_update_persists(fresh: Sandbox, client: httpx.Client) -> None:
    scope = fresh.scopes()["azure"][1]
    run = acr_all(fresh, client, scope, {"$filter": "isArchiveEnabled eq false", "$top": "1"})[0][0]
    run_url = f"{runs_url(fresh, scope)}/{run['name']}"
    patched = client.patch(
        run_url, params=API, headers=azure_headers(fresh), json={"isArchiveEnabled": True}
    )
    assert patched.status_code == 200 and patched.json()["properties"]["isArchiveEnabled"] is True
    got = client.get(run_url, params=API, headers=azure_headers(fresh)).json()
    assert got["properties"]["isArchiveEnabled"] is True
    archived = acr_all(fresh, client, scope, {"$filter": "isArchiveEnabled eq true"})[0]
    assert run["name"] in {r["name"] for r in archived}
    bad = client.patch(run_url, params=API, headers=azure_headers(fresh), content=b"[1, 2]")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidRequestContent"
    links = client.post(f"{run_url}/listLogSasUrl", params=API, headers=azure_headers(fresh))
    assert "sig=REDACTED-SANDBOX" in links.json()["logLink"] and links.json()["logArtifactLink"]


def test_airplane_cancel_and_outputs(fresh: Sandbox, client: httpx.Client) -> None:
    base, headers = fresh.endpoints["airplane"], airplane_headers(fresh)
    runs = airplane_all(fresh, client)
    active = next(r for r in runs if r["status"] == "Active")
    finished = next(r for r in runs if r["status"] == "Succeeded")
    outputs = client.get(f"{base}/runs/getOutputs", params={"id": finished["id"]}, headers=headers)
    assert outputs.status_code == 200
    assert all(isinstance(v, str) for v in outputs.json()["output"].values())
    early = client.get(f"{base}/runs/getOutputs", params={"id": active["id"]}, headers=headers)
    assert early.status_code == 400 and "not finished" in early.json()["error"]

    cancel = client.post(f"{base}/runs/cancel", json={"runID": active["id"]}, headers=headers)
    assert (cancel.status_code, cancel.json()) == (200, {})
    after = client.get(f"{base}/runs/get", params={"id": active["id"]}, headers=headers).json()
    assert after["status"] == "Cancelled" and AIRPLANE_TIME.match(after["cancelledAt"])
    assert after["cancelledBy"]
    again = client.post(f"{base}/runs/cancel", json={"runID": active["id"]}, headers=headers)
    assert again.status_code == 400 and "already finished" in again.json()["error"]
    assert client.post(f"{base}/runs/cancel", json={}, headers=headers).status_code == 400


# -- faults ---------------------------------------------------------------------------------


def test_throttle_fault_is_served_once_then_normal(fresh: Sandbox, client: httpx.Client) -> None:
    url = f"{fresh.endpoints['airplane']}/runs/list"
    fresh.inject(Fault(status=429, path_contains="/airplane/", retry_after=2))
    throttled = client.get(url, headers=airplane_headers(fresh))
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert isinstance(throttled.json()["error"], str)
    assert client.get(url, headers=airplane_headers(fresh)).status_code == 200

    fresh.inject(Fault(status=503, path_contains="/databricks/", times=2))
    room_url = f"{fresh.endpoints['databricks_workspace']}/api/2.0/clean-rooms/retail_insights/runs"
    first = client.get(room_url, headers=databricks_headers(fresh))
    second = client.get(room_url, headers=databricks_headers(fresh))
    assert [first.status_code, second.status_code] == [503, 503]
    assert first.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert client.get(room_url, headers=databricks_headers(fresh)).status_code == 200

    fresh.inject(Fault(status=500, path_contains="nowhere"))
    scope = fresh.scopes()["azure"][0]
    assert (
        client.get(runs_url(fresh, scope), params=API, headers=azure_headers(fresh)).status_code
        == 200
    )
    fresh.clear_faults()
    assert ("GET", "/airplane/v0/runs/list") in fresh.requests


def test_truncated_body_is_detectable(fresh: Sandbox, client: httpx.Client) -> None:
    url = f"{fresh.endpoints['airplane']}/runs/list"
    fresh.inject(Fault(status=200, truncate=True))
    with pytest.raises((httpx.RemoteProtocolError, json.JSONDecodeError)):
        client.get(url, headers=airplane_headers(fresh)).json()
    assert len(client.get(url, headers=airplane_headers(fresh)).json()["runs"]) == 50


def test_slow_fault_and_latency(fresh: Sandbox, client: httpx.Client) -> None:
    url = f"{fresh.endpoints['airplane']}/runs/list"
    fresh.inject(Fault(status=200, delay=0.2))
    slow = client.get(url, headers=airplane_headers(fresh))
    assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 0.2
    fresh.latency = 0.1
    assert client.get(url, headers=airplane_headers(fresh)).elapsed.total_seconds() >= 0.1
    fresh.latency = 0.0


# -- lifecycle and determinism --------------------------------------------------------------


def test_stop_frees_the_port_and_is_idempotent() -> None:
    box = Sandbox(now=NOW, acr_runs=10, databricks_runs=10, airplane_runs=10)
    assert box.start() is box.start()
    port = int(box.url.rsplit(":", 1)[1])
    with httpx.Client() as keep_alive:  # an open keep-alive connection must not block stop()
        keep_alive.get(f"{box.endpoints['airplane']}/runs/list", headers=airplane_headers(box))
        box.stop()
        box.stop()
    assert not box.running
    with pytest.raises(RuntimeError):
        _ = box.url
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    with socket.socket() as listener:  # as a new server would: SO_REUSEADDR, bind, listen
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()


def test_same_seed_and_now_serve_identical_first_pages(client: httpx.Client) -> None:
    def first_pages(box: Sandbox) -> list[Any]:
        scope = box.scopes()["azure"][2]
        azure = client.get(runs_url(box, scope), params=API, headers=azure_headers(box)).json()
        azure.pop("nextLink", None)
        databricks = client.get(
            f"{box.endpoints['databricks_workspace']}/api/2.0/clean-rooms/ad_measurement/runs",
            headers=databricks_headers(box),
        ).json()
        airplane = client.get(
            f"{box.endpoints['airplane']}/runs/list", headers=airplane_headers(box)
        ).json()
        return [azure, databricks, airplane]

    options: dict[str, Any] = {
        "now": NOW,
        "acr_runs": 400,
        "databricks_runs": 200,
        "airplane_runs": 100,
    }
    with (
        Sandbox(seed=11, **options) as one,
        Sandbox(seed=11, **options) as two,
        Sandbox(seed=12, **options) as other,
    ):
        assert one.url != two.url
        assert first_pages(one) == first_pages(two)
        assert first_pages(one) != first_pages(other)


def test_shared_sandbox_is_one_running_instance() -> None:
    box = shared()
    assert box is shared() and box.running
    # keyed by the catalog's provider names, so a Session needs no glue
    assert set(box.endpoints) == set(box.tokens) == {"azure", "databricks_workspace", "airplane"}


def test_command_line_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runs_pandas.sandbox",
            "--port",
            "0",
            "--acr-runs",
            "200",
            "--databricks-runs",
            "50",
            "--airplane-runs",
            "50",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        assert info["tokens"]["airplane"] == "tkn_sandbox"
        response = httpx.get(
            f"{info['endpoints']['airplane']}/runs/list",
            headers={"X-Airplane-API-Key": info["tokens"]["airplane"]},
        )
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
