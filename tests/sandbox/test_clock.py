"""The sandbox clock: moving time forward finishes runs and brings new ones, deterministically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

ANCHOR = datetime(2026, 11, 2, 9, tzinfo=UTC)
ACTIVE = {"Queued", "Started", "Running", "Active", "NotStarted"}


def frames(sb: Sandbox) -> dict[str, pd.DataFrame]:
    scope = sb.scopes()["azure"][0]
    rooms = ", ".join(f"'{s['clean_room_name']}'" for s in sb.scopes()["databricks"])
    with rp.Session(sandbox=sb, settings=rp.Settings(progress=False)) as s:
        return {
            "acr": rp.query("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = :s AND "
                            "resourceGroupName = :g AND registryName = :r", {"s": scope["subscriptionId"],
                            "g": scope["resourceGroupName"], "r": scope["registryName"]}, s),
            "airplane": rp.query("SELECT * FROM airplane.runs.runs", session=s),
            "databricks": rp.query("SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE "
                                   f"deployment_name = 'dbc-sandbox' AND clean_room_name IN ({rooms})", session=s),
        }


def test_advancing_finishes_runs_and_brings_new_ones_deterministically() -> None:
    a = Sandbox(acr_runs=800, databricks_runs=1000, airplane_runs=400, now=ANCHOR).start()
    b = Sandbox(acr_runs=800, databricks_runs=1000, airplane_runs=400, now=ANCHOR).start()
    try:
        before = frames(a)
        assert a.advance(hours=3) == ANCHOR + timedelta(hours=3) == a.now
        b.advance(hours=1)
        b.advance(hours=2)  # the same time reached in two steps
        after, other = frames(a), frames(b)
    finally:
        a.stop()
        b.stop()
    acr, airplane = after["acr"], after["airplane"]
    assert len(acr) > len(before["acr"]) and len(airplane) > len(before["airplane"])
    new = acr[acr["createTime"] > ANCHOR]
    assert (new["createTime"] <= ANCHOR + timedelta(hours=3)).all() and (new["status"] != "").all()
    was_running = before["acr"].loc[before["acr"]["status"].isin(ACTIVE), "runId"]
    assert len(was_running) and not acr[acr["runId"].isin(was_running)]["status"].isin(ACTIVE).any()
    assert (acr.loc[acr["runId"].isin(was_running), "finishTime"] <= ANCHOR + timedelta(hours=3)).all()
    was_active = before["airplane"].loc[before["airplane"]["status"].isin(ACTIVE), "id"]
    assert not airplane[airplane["id"].isin(was_active)]["status"].isin(ACTIVE).any()
    life = "notebook_job_run_state.life_cycle_state"
    started = before["databricks"].loc[before["databricks"][life].isin(["RUNNING", "PENDING", "QUEUED"]), "start_time"]
    assert len(started) and (after["databricks"].loc[after["databricks"]["start_time"].isin(started), life] == "TERMINATED").all()
    assert len(after["databricks"]) > len(before["databricks"])
    # where a run ends does not depend on how the clock got there; new runs depend on the steps
    finished = acr[acr["runId"].isin(was_running)].set_index("runId")
    assert finished["finishTime"].equals(other["acr"].set_index("runId").loc[finished.index, "finishTime"])


def test_the_same_moves_give_the_same_data() -> None:
    runs = []
    for _ in range(2):
        sb = Sandbox(acr_runs=400, databricks_runs=100, airplane_runs=200, now=ANCHOR).start()
        try:
            sb.advance(minutes=90)
            runs.append(frames(sb))
        finally:
            sb.stop()
    for name in runs[0]:
        pd.testing.assert_frame_equal(runs[0][name], runs[1][name])


def test_the_clock_only_moves_forward() -> None:
    sb = Sandbox(acr_runs=10, databricks_runs=10, airplane_runs=10, now=ANCHOR)
    with pytest.raises(ValueError, match="only moves forward"):
        sb.advance(minutes=-1)
    assert sb.advance() == ANCHOR


def test_with_retention_the_apis_forget_old_runs_as_the_clock_moves() -> None:
    sb = Sandbox(acr_runs=400, databricks_runs=200, airplane_runs=200, now=ANCHOR, retention_days=29).start()
    try:
        before = frames(sb)
        sb.advance(days=1)
        after = frames(sb)
    finally:
        sb.stop()
    cutoff = ANCHOR + timedelta(days=1) - timedelta(days=29)
    assert (before["airplane"]["createdAt"] < cutoff).any()
    assert (after["airplane"]["createdAt"] >= cutoff).all() and (after["acr"]["createTime"] >= cutoff).all()
    assert (after["databricks"]["start_time"] >= cutoff).all()
    assert len(after["acr"]) < len(before["acr"]) + (after["acr"]["createTime"] > ANCHOR).sum()
