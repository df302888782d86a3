"""The whole client path through the sandbox on a real loopback socket."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Fault, Sandbox

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[1] / "runs_pandas" / "sandbox" / "examples"
EXAMPLE_SCOPE = ("4385cf00-2d3a-425a-832f-f4285b1c9dce", "myResourceGroup", "myRegistry")


def acr_where(scope: dict) -> str:
    return (f"subscriptionId = '{scope['subscriptionId']}' AND resourceGroupName = "
            f"'{scope['resourceGroupName']}' AND registryName = '{scope['registryName']}'")


def test_official_list_example_comes_back_as_the_examples_row(session: rp.Session) -> None:
    body = json.loads((EXAMPLES / "RunsList.json").read_text())["responses"]["200"]["body"]
    run = body["value"][0]
    df = rp.query("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = :s AND "
                  "resourceGroupName = :g AND registryName = :r",
                  params=dict(zip("sgr", EXAMPLE_SCOPE)), session=session)
    assert len(df) == 1
    row = df.iloc[0]
    for key in ("id", "name", "type"):
        assert row[key] == run[key]
    for key, value in run["properties"].items():
        if isinstance(value, dict):
            for sub, subvalue in value.items():
                expected = pd.Timestamp(subvalue) if sub == "timestamp" else subvalue
                assert row[f"{key}.{sub}"] == expected, key
        elif key.endswith("Time"):
            assert row[key] == pd.Timestamp(value), key
        else:
            assert row[key] == value, key


def test_acr_columns_and_types(session: rp.Session, sandbox: Sandbox) -> None:
    scope = sandbox.scopes()["azure"][0]
    df = rp.query(f"SELECT * FROM azure.container_registry.runs WHERE {acr_where(scope)}", session=session)
    assert len(df) > 500
    # scope params, then the key columns (catalog `leading`), then the rest in catalog order
    assert list(df.columns[:5]) == ["subscriptionId", "resourceGroupName", "registryName", "runId", "status"]
    assert str(df["createTime"].dtype) == "datetime64[us, UTC]"
    assert str(df["agentConfiguration.cpu"].dtype) == "Int64"
    assert str(df["isArchiveEnabled"].dtype) == "boolean"
    assert df["outputImages"].map(lambda v: v is None or isinstance(v, list)).all()
    assert {"Succeeded", "Failed", "Canceled", "Running", "Queued"} <= set(df["status"])
    assert df["runId"].is_unique


def test_databricks_columns_and_types(session: rp.Session, sandbox: Sandbox) -> None:
    rooms = [s["clean_room_name"] for s in sandbox.scopes()["databricks"]]
    df = rp.query("SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE deployment_name = 'dbc-sandbox' "
                  "AND clean_room_name IN :rooms", params={"rooms": rooms}, session=session)
    assert set(df["clean_room_name"]) == set(rooms) and len(df) > 500
    assert str(df["start_time"].dtype) == "datetime64[us, UTC]"
    assert str(df["run_duration"].dtype).startswith("timedelta64")
    assert str(df["collaborator_job_run_info.collaborator_job_id"].dtype) == "Int64"
    assert "notebook_job_run_state.life_cycle_state" in df.columns


def test_airplane_columns_and_types(session: rp.Session) -> None:
    df = rp.query("SELECT * FROM airplane.runs.runs", session=session)
    assert len(df) > 1000 and df["id"].is_unique
    assert str(df["createdAt"].dtype) == "datetime64[us, UTC]"
    assert str(df["timeout"].dtype) == "Int64"
    assert any(c.startswith("paramValues.") for c in df.columns)
    assert {"NotStarted", "Queued", "Active", "Succeeded", "Failed", "Cancelled"} <= set(df["status"])


def test_pushdown_reaches_the_api(session: rp.Session, sandbox: Sandbox) -> None:
    task = sandbox.scopes()["airplane"][0]["taskID"]
    before = len(sandbox.requests)
    df = rp.query("SELECT DISTINCT taskID FROM airplane.runs.runs WHERE taskID = :t", params={"t": task}, session=session)
    assert list(df["taskID"]) == [task]
    assert all(f"taskID={task}" in path for _, path in sandbox.requests[before:])


def test_get_run_is_chosen_when_id_is_pinned(session: rp.Session, sandbox: Sandbox) -> None:
    run_id = rp.query("SELECT id FROM airplane.runs.runs LIMIT 1", session=session)["id"][0]
    before = len(sandbox.requests)
    df = rp.query("SELECT id, status FROM airplane.runs.runs WHERE id = :id", params={"id": run_id}, session=session)
    assert list(df["id"]) == [run_id]
    assert [p.split("?")[0] for _, p in sandbox.requests[before:]] == ["/airplane/v0/runs/get"]


def test_retries_through_429_and_cut_off_bodies(fresh_sandbox: Sandbox) -> None:
    session = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False))
    fresh_sandbox.inject(Fault(status=429, retry_after=0.1, path_contains="/runs/list", times=2))
    fresh_sandbox.inject(Fault(status=200, truncate=True, path_contains="/runs/list", times=1))
    df = rp.query("SELECT count(*) AS n FROM airplane.runs.runs", session=session)
    assert int(df["n"][0]) == 200


def test_persistent_failure_keeps_what_was_fetched(fresh_sandbox: Sandbox) -> None:
    session = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False, retries=1, retry_budget=2))
    scopes = fresh_sandbox.scopes()["azure"]
    good, bad = scopes[0], scopes[1]
    fresh_sandbox.inject(Fault(status=503, path_contains=f"/registries/{bad['registryName']}/", times=10))
    with pytest.raises(rp.IncompleteFetchError) as info:
        rp.query("SELECT registryName, runId FROM azure.container_registry.runs WHERE subscriptionId = :s "
                 "AND resourceGroupName = :g AND registryName IN (:a, :b)",
                 params={"s": good["subscriptionId"], "g": good["resourceGroupName"],
                         "a": good["registryName"], "b": bad["registryName"]}, session=session)
    frame = info.value.frame
    assert len(frame) > 0 and set(frame["registryName"]) == {good["registryName"]}
    assert bad["registryName"] in str(info.value)


def test_unknown_registry_is_an_api_error_in_the_providers_words(session: rp.Session, sandbox: Sandbox) -> None:
    scope = dict(sandbox.scopes()["azure"][0], registryName="nosuchregistry")
    with pytest.raises(rp.ApiError) as info:  # the only series failed: the error itself
        rp.query(f"SELECT * FROM azure.container_registry.runs WHERE {acr_where(scope)}", session=session)
    failure = info.value.failures[0]
    assert failure.status == 404 and failure.code and "sandbox-azure-token" not in str(info.value)


def test_wrong_credentials_are_an_auth_error(sandbox: Sandbox) -> None:
    session = rp.Session(sandbox=sandbox, secrets={"airplane": "tkn_wrong"}, settings=rp.Settings(progress=False))
    with pytest.raises(rp.AuthError) as info:  # not "partial data": the credential was refused
        rp.query("SELECT * FROM airplane.runs.runs", session=session)
    assert isinstance(info.value, rp.UnauthorizedError) and info.value.status == 401
    assert "secrets= given to the Session" in str(info.value)
    assert "tkn_wrong" not in str(info.value)


def test_missing_credentials_name_where_to_put_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRPLANE_API_KEY", raising=False)
    monkeypatch.delenv("RUNS_PANDAS_SANDBOX", raising=False)
    session = rp.Session(endpoints={"airplane": "http://127.0.0.1:9/v0"}, settings=rp.Settings(progress=False))
    with pytest.raises(rp.AuthError, match="AIRPLANE_API_KEY"):
        rp.query("SELECT * FROM airplane.runs.runs", session=session)


def test_every_sandbox_endpoint_is_used_by_a_sandbox_session(session: rp.Session, sandbox: Sandbox) -> None:
    scope = sandbox.scopes()["azure"][0]
    room = sandbox.scopes()["databricks"][0]
    for sql in (
        f"SELECT * FROM azure.container_registry.runs WHERE {acr_where(scope)}",
        "SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE deployment_name = "
        f"'{room['deployment_name']}' AND clean_room_name = '{room['clean_room_name']}'",
        "SELECT * FROM airplane.runs.runs",
    ):
        url = rp.query(sql, session=session, dry_run=True)["url"][0]
        assert url.startswith(sandbox.url), url


def test_env_var_turns_the_sandbox_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNS_PANDAS_SANDBOX", "1")
    session = rp.Session(settings=rp.Settings(progress=False))
    assert session.sandbox is not None
    assert int(rp.query("SELECT count(*) AS n FROM airplane.runs.runs", session=session)["n"][0]) > 0
