"""logs(): log text for runs of all three providers; the log host never gets ARM credentials."""

from __future__ import annotations

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.errors import RunsError
from runs_pandas.sandbox import Sandbox


@pytest.fixture()
def session(sandbox: Sandbox) -> rp.Session:
    return rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False, concurrency=4))


def test_acr_logs_follow_the_sas_link_without_credentials(
    runs: dict[str, pd.DataFrame], sandbox: Sandbox, session: rp.Session
) -> None:
    frame = runs["azure"]
    failed = frame[frame["status"] == "Failed"].head(5)
    seen = len(sandbox.log_requests)
    out = failed.runs.logs(session=session)
    assert list(out.index) == list(failed.index)
    assert (out["source"] == "log").all() and out["fetch_error"].isna().all()
    for (_, row), message in zip(out.iterrows(), failed["runErrorMessage"]):
        assert f"Run ID: {row['run_id']} failed" in row["text"]
        assert row["error"] == message
    received = sandbox.log_requests[seen:]
    assert len(received) == 5
    token = sandbox.tokens["azure"]
    for target, headers in received:
        assert "authorization" not in headers
        assert all(token not in value for value in headers.values())
        assert target.startswith("/runlogs/")
    assert "sig=" not in out.to_string()  # the SAS never reaches the result


def test_airplane_outputs_and_databricks_state(
    runs: dict[str, pd.DataFrame], session: rp.Session
) -> None:
    airplane = runs["airplane"]
    failed = airplane[airplane["status"] == "Failed"].head(3)
    out = failed.runs.logs(session=session)
    assert (out["source"] == "output").all()
    assert out["text"].str.startswith("error: ").all()
    assert out["error"].notna().all()
    room = runs["databricks"].head(3).runs.logs(session=session)
    assert (room["source"] == "state").all()
    assert room["text"].str.contains("life_cycle_state: ").all()


def test_tail_and_grep(runs: dict[str, pd.DataFrame], session: rp.Session) -> None:
    frame = runs["azure"][runs["azure"]["status"] == "Succeeded"].head(2)
    last = frame.runs.logs(tail=1, session=session)
    assert (last["lines"] == 1).all() and last["text"].str.contains("was successful").all()
    steps = frame.runs.logs(grep=r"Step ID: \w+ marked", session=session)
    assert (steps["lines"] >= 1).all()
    assert all(all("marked" in line for line in t.splitlines()) for t in steps["text"])
    with pytest.raises(RunsError, match="grep"):
        frame.runs.logs(grep="(", session=session)
    with pytest.raises(RunsError, match="tail"):
        frame.runs.logs(tail=-1, session=session)


def test_a_run_whose_log_cannot_be_read_keeps_its_row(
    runs: dict[str, pd.DataFrame], session: rp.Session
) -> None:
    airplane = runs["airplane"]
    queued = airplane[airplane["status"].isin(["Queued", "NotStarted"])].head(1)
    out = queued.runs.logs(session=session)
    assert len(out) == 1 and out["fetch_error"].iloc[0] and out["text"].isna().all()


def test_airplane_failures_use_the_error_output(
    runs: dict[str, pd.DataFrame], session: rp.Session
) -> None:
    from runs_pandas.sandbox.airplane_data import ERROR_TEMPLATES

    airplane = runs["airplane"]
    failed = airplane[airplane["status"] == "Failed"]
    table = failed.runs.failures(logs=failed.runs.logs(session=session))
    assert len(table) == len(ERROR_TEMPLATES)
    assert table["count"].sum() == len(failed)
