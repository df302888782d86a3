"""Sessions: settings, cache, endpoints, and secrets that never show."""

from __future__ import annotations

import io

import pydantic
import pytest

import runs_pandas as rp
from runs_pandas.http import Request
from runs_pandas.progress import LineView, Progress
from runs_pandas.sandbox import Sandbox


def test_secrets_do_not_show_in_reprs() -> None:
    session = rp.Session(secrets={"airplane": "tkn_TOPSECRET"})
    assert "TOPSECRET" not in repr(session) and "TOPSECRET" not in repr(session.credentials)


def test_settings_are_validated_with_a_clear_message() -> None:
    with pytest.raises(pydantic.ValidationError, match="concurrency"):
        rp.Settings(concurrency=0)
    settings = rp.Settings()
    with pytest.raises(pydantic.ValidationError):
        settings.timeout = -1


def test_endpoint_env_vars_replace_base_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNS_PANDAS_AIRPLANE_ENDPOINT", "http://127.0.0.1:1/v0")
    monkeypatch.delenv("RUNS_PANDAS_SANDBOX", raising=False)
    df = rp.query("SELECT * FROM airplane.runs.runs", session=rp.Session(), dry_run=True)
    assert df.loc[0, "url"] == "http://127.0.0.1:1/v0/runs/list?limit=50"  # the page size is always sent


def test_cache_reuses_pages_until_an_action_changes_something(fresh_sandbox: Sandbox) -> None:
    session = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False, cache_ttl=60))
    rp.query("SELECT count(*) FROM airplane.runs.runs", session=session)
    sent = len(fresh_sandbox.requests)
    again = rp.query("SELECT count(*) AS n FROM airplane.runs.runs", session=session)
    assert len(fresh_sandbox.requests) == sent and int(again["n"][0]) == 200
    run_id = rp.query("SELECT id FROM airplane.runs.runs WHERE status = 'Active' LIMIT 1", session=session)["id"][0]
    rp.query("EXEC airplane.runs.runs.cancelRun @runID=:id", {"id": run_id}, session)
    after = rp.query("SELECT status FROM airplane.runs.runs WHERE id = :id", {"id": run_id}, session)
    assert list(after["status"]) == ["Cancelled"]


def test_progress_counts_pages_and_rows_per_resource() -> None:
    stream = io.StringIO()
    progress = Progress(enabled=True, total_series=1, delay=0, view=LineView(stream))
    request = Request("airplane.runs.runs", "listRuns", "GET", "http://x")
    progress(request, 50)
    progress._drawn = 0.0  # draw again at once (redraws are spaced out)
    progress(request, 7)
    progress.close()
    assert progress.pages == {"airplane.runs.runs": 2} and progress.rows == {"airplane.runs.runs": 57}
    assert "57 rows" in stream.getvalue()
