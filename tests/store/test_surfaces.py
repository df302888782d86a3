"""Sync and the source choice through the surfaces: the magic, %config, the accessor, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import runs_pandas as rp
from runs_pandas import cli
from runs_pandas.sandbox import Sandbox

from .test_store import AIRPLANE, acr_scopes, acr_sql

pytestmark = pytest.mark.store

COUNT = "SELECT status, count(*) AS n FROM airplane.runs.runs GROUP BY status"


@pytest.fixture()
def ip(fresh_sandbox: Sandbox, tmp_path: Path) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    rp.set_default_session(rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False)))
    shell.run_line_magic("load_ext", "runs_pandas")
    shell.run_line_magic("config", f"RunsSql.store = {str(tmp_path / 'magic.duckdb')!r}")
    yield shell
    shell.run_line_magic("config", "RunsSql.source = 'live'")
    shell.run_line_magic("config", "RunsSql.store = ''")
    rp.set_default_session(None)
    shell.user_ns.clear()


def test_magic_syncs_and_answers_from_the_store(ip: InteractiveShell, fresh_sandbox: Sandbox) -> None:
    report = ip.run_line_magic("runsql", f"--sync {AIRPLANE}")
    assert list(report["resource"]) == ["airplane.runs.runs"] and report["new"].sum() > 0
    sent = len(fresh_sandbox.requests)
    stored = ip.run_cell_magic("runsql", "--source store", COUNT)
    assert len(fresh_sandbox.requests) == sent and stored.attrs["runs_pandas"]["source"] == "store"
    live = ip.run_line_magic("runsql", f"--source live {COUNT}")
    assert live.attrs["runs_pandas"]["source"] == "live" and len(fresh_sandbox.requests) > sent
    assert stored["n"].sum() == live["n"].sum()
    synced = ip.run_line_magic("runsql", f"--source sync {COUNT}")
    assert synced.attrs["runs_pandas"]["source"] == "sync" and synced["n"].sum() == live["n"].sum()
    with pytest.raises(UsageError, match="cache"):
        ip.run_line_magic("runsql", f"--source cache {COUNT}")


def test_config_source_sets_the_default_and_other_statements_still_run_live(
    ip: InteractiveShell, fresh_sandbox: Sandbox
) -> None:
    ip.run_line_magic("runsql", f"--sync {AIRPLANE}")
    ip.run_line_magic("config", "RunsSql.source = 'store'")
    sent = len(fresh_sandbox.requests)
    frame = ip.run_line_magic("runsql", COUNT)
    assert frame.attrs["runs_pandas"]["source"] == "store" and len(fresh_sandbox.requests) == sent
    assert frame.attrs["runs_pandas"]["stored_age_seconds"] >= 0
    assert "airplane" in set(ip.run_line_magic("runsql", "SHOW PROVIDERS").iloc[:, 0])
    ip.run_line_magic("config", "RunsSql.source = 'cache'")  # refused (logged): 'store' stays
    assert ip.run_line_magic("runsql", COUNT).attrs["runs_pandas"]["source"] == "store"


def test_accessor_syncs_a_frame_of_scopes(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    settings = rp.Settings(progress=False, store=str(tmp_path / "acc.duckdb"))
    with rp.Session(sandbox=fresh_sandbox, settings=settings) as s:
        scopes = pd.DataFrame(acr_scopes(fresh_sandbox))
        first = scopes.runs.sync("azure.container_registry.runs", session=s)
        assert len(first) == len(scopes) and first["since"].isna().all()
        again = scopes.runs.sync("azure.container_registry.runs", session=s)
        assert again["since"].notna().all() and again["new"].sum() == 0
        assert again["requests"].sum() < first["requests"].sum()
        stored = rp.query(acr_sql(fresh_sandbox), session=s, source="store")
        assert len(stored) == first["new"].sum()


def test_cli_syncs_and_answers_from_the_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RUNS_PANDAS_STORE", str(tmp_path / "cli.duckdb"))
    assert cli.main(["sync", AIRPLANE, "--sandbox", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report[0]["resource"] == "airplane.runs.runs" and report[0]["new"] > 0
    assert cli.main([COUNT, "--sandbox", "--source", "store", "--format", "json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert sum(row["n"] for row in stored) == report[0]["new"]
    monkeypatch.setenv("RUNS_PANDAS_STORE", str(tmp_path / "empty.duckdb"))
    assert cli.main([COUNT, "--source", "store"]) == 1
    assert "sync" in capsys.readouterr().err
