"""EXEC through the sandbox: each method works, its effect shows in a later SELECT."""

from __future__ import annotations

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

pytestmark = pytest.mark.integration

ACR = "azure.container_registry.runs"
SCOPE_ARGS = "@subscriptionId=:s, @resourceGroupName=:g, @registryName=:r"


@pytest.fixture()
def s(fresh_sandbox: Sandbox) -> rp.Session:
    return rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False))


@pytest.fixture()
def scope(fresh_sandbox: Sandbox) -> dict:
    sc = fresh_sandbox.scopes()["azure"][0]
    return {"s": sc["subscriptionId"], "g": sc["resourceGroupName"], "r": sc["registryName"]}


def acr_runs(s: rp.Session, scope: dict) -> pd.DataFrame:
    return rp.query(f"SELECT * FROM {ACR} WHERE subscriptionId = :s AND resourceGroupName = :g "
                    "AND registryName = :r ORDER BY createTime DESC", scope, s)


def test_runs_get_returns_the_run_typed_like_a_select(s: rp.Session, scope: dict) -> None:
    run_id = acr_runs(s, scope)["runId"][5]
    df = rp.query(f"EXEC {ACR}.Runs_Get {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
    assert len(df) == 1 and df["runId"][0] == run_id
    assert str(df["createTime"].dtype) == "datetime64[us, UTC]" and "platform.os" in df.columns


def test_runs_cancel_is_202_then_visible_and_a_second_cancel_is_refused(s: rp.Session, scope: dict) -> None:
    runs = acr_runs(s, scope)
    run_id = runs[runs["status"].isin(["Running", "Queued", "Started"])]["runId"].iloc[0]
    df = rp.query(f"EXEC {ACR}.Runs_Cancel {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
    assert df.loc[0, "http_status"] == 202 and df.loc[0, "method"] == "Runs_Cancel"
    after = acr_runs(s, scope).set_index("runId").loc[run_id]
    assert after["status"] == "Canceled" and pd.notna(after["finishTime"])
    with pytest.raises(rp.ApiError) as info:
        rp.query(f"EXEC {ACR}.Runs_Cancel {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
    assert info.value.status == 409


def test_await_hint_follows_the_operation_to_its_end(s: rp.Session, scope: dict) -> None:
    runs = acr_runs(s, scope)
    run_id = runs[runs["status"].isin(["Running", "Queued", "Started"])]["runId"].iloc[-1]
    df = rp.query(f"/*+ AWAIT */ EXEC {ACR}.Runs_Cancel {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
    assert df.loc[0, "status"] == "Succeeded"


def test_runs_update_changes_is_archive_enabled(s: rp.Session, scope: dict) -> None:
    runs = acr_runs(s, scope)
    run_id = runs[runs["isArchiveEnabled"] == False]["runId"].iloc[0]  # noqa: E712
    df = rp.query(f"EXEC {ACR}.Runs_Update {SCOPE_ARGS}, @runId=:id, @@json='{{\"isArchiveEnabled\": true}}'",
                  {**scope, "id": run_id}, s)
    assert bool(df.loc[0, "isArchiveEnabled"]) is True
    assert bool(acr_runs(s, scope).set_index("runId").loc[run_id, "isArchiveEnabled"]) is True


def test_log_link(s: rp.Session, scope: dict) -> None:
    run_id = acr_runs(s, scope)["runId"][0]
    df = rp.query(f"EXEC {ACR}.Runs_GetLogSasUrl {SCOPE_ARGS}, @runId=:id", {**scope, "id": run_id}, s)
    link = df.loc[0, "logLink"]
    # the sandbox's log blobs are on a loopback origin of their own, as blob storage is
    # another host than ARM in the cloud
    assert link.startswith("http://127.0.0.1:") and run_id in link and "sig=" in link
    assert not link.startswith(s.sandbox.url)


def test_airplane_get_outputs_and_cancel(s: rp.Session) -> None:
    runs = rp.query("SELECT id, status FROM airplane.runs.runs", session=s)
    done = runs[runs["status"] == "Succeeded"]["id"].iloc[0]
    outputs = rp.query("EXEC airplane.runs.runs.getOutputs @id=:id", {"id": done}, s)
    assert len(outputs) == 1 and any(c.startswith("output") for c in outputs.columns)
    live = runs[runs["status"].isin(["Active", "Queued", "NotStarted"])]["id"].iloc[0]
    rp.query("EXEC airplane.runs.runs.cancelRun @runID=:id", {"id": live}, s)
    got = rp.query("EXEC airplane.runs.runs.getRun @id=:id", {"id": live}, s)
    assert got.loc[0, "status"] == "Cancelled" and pd.notna(got.loc[0, "cancelledAt"])
    later = rp.query("SELECT status FROM airplane.runs.runs WHERE id = :id", {"id": live}, s)
    assert list(later["status"]) == ["Cancelled"]


def test_fan_out_cancel_reports_every_outcome(s: rp.Session, fresh_sandbox: Sandbox) -> None:
    runs = rp.query("SELECT id, status FROM airplane.runs.runs", session=s)
    live = list(runs[runs["status"].isin(["Active", "Queued", "NotStarted"])]["id"])
    finished = list(runs[runs["status"] == "Succeeded"]["id"][:2])
    ids = live + finished
    before = len(fresh_sandbox.requests)
    df = rp.query("EXEC airplane.runs.runs.cancelRun @runID=:ids", {"ids": ids}, s)
    assert len(fresh_sandbox.requests) - before == len(ids)
    assert list(df["runID"]) == ids
    assert list(df["outcome"]) == ["ok"] * len(live) + ["failed"] * 2
    assert df["error"].iloc[-1] and df["http_status"].iloc[-1] == 400


def test_bad_exec_input_is_refused_before_any_request(s: rp.Session, fresh_sandbox: Sandbox, scope: dict) -> None:
    before = len(fresh_sandbox.requests)
    with pytest.raises(rp.MissingParamError, match="runId"):
        rp.query(f"EXEC {ACR}.Runs_Get {SCOPE_ARGS}", scope, s)
    with pytest.raises(rp.ParamError, match="did you mean @runId"):
        rp.query(f"EXEC {ACR}.Runs_Get {SCOPE_ARGS}, @runid2=:id", {**scope, "id": "x"}, s)
    with pytest.raises(rp.ParamError, match="not valid JSON"):
        rp.query(f"EXEC {ACR}.Runs_Update {SCOPE_ARGS}, @runId='x', @@json='{{nope'", scope, s)
    with pytest.raises(rp.ParamError, match="JSON object"):
        rp.query(f"EXEC {ACR}.Runs_Update {SCOPE_ARGS}, @runId='x', @@json='[1]'", scope, s)
    with pytest.raises(rp.QueryError, match="Runs_Cancel"):
        rp.query(f"EXEC {ACR}.Runs_Cancle {SCOPE_ARGS}, @runId='x'", scope, s)
    with pytest.raises(rp.ParamError, match="runId"):
        rp.query(f"EXEC {ACR}.Runs_Get {SCOPE_ARGS}, @runId='../../x'", scope, s)
    with pytest.raises(rp.ParamError, match="same length"):
        rp.query("EXEC airplane.runs.runs.cancelRun @runID=:a", {"a": ["x"]}, s) if False else \
            rp.query(f"EXEC {ACR}.Runs_Cancel @subscriptionId=:s, @resourceGroupName=:g, @registryName=:rs, @runId=:ids",
                     {**scope, "rs": [scope["r"]] * 2, "ids": ["a", "b", "c"]}, s)
    assert len(fresh_sandbox.requests) == before


def test_dry_run_sends_nothing_and_shows_no_secret(s: rp.Session, fresh_sandbox: Sandbox, scope: dict) -> None:
    before = len(fresh_sandbox.requests)
    df = rp.query(f"EXEC {ACR}.Runs_Update {SCOPE_ARGS}, @runId='ca1', @@json='{{\"isArchiveEnabled\": true}}'",
                  scope, s, dry_run=True)
    assert len(fresh_sandbox.requests) == before
    assert df.loc[0, "verb"] == "PATCH" and '"isArchiveEnabled": true' in df.loc[0, "body"]
    assert "sandbox-azure-token" not in df.to_string()
