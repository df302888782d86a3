"""runs-pandas from a shell: the same query(), three formats, the demo."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from runs_pandas import cli

pytestmark = pytest.mark.integration


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_csv_and_json_formats(capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT status, count(*) AS n FROM airplane.runs.runs GROUP BY status ORDER BY status"
    code, table, _ = run(capsys, sql, "--sandbox")
    assert code == 0 and "Succeeded" in table and "status" in table
    code, csv, _ = run(capsys, sql, "--sandbox", "--format", "csv")
    assert csv.splitlines()[0] == "status,n"
    code, text, _ = run(capsys, sql, "--sandbox", "--format", "json")
    rows = json.loads(text)
    assert {r["status"] for r in rows} >= {"Succeeded", "Failed"}


def test_exec_and_its_effect_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    _, text, _ = run(capsys, "SELECT id FROM airplane.runs.runs WHERE status = 'Active' LIMIT 1", "--sandbox", "--format", "json")
    run_id = json.loads(text)[0]["id"]
    code, out, _ = run(capsys, "EXEC airplane.runs.runs.cancelRun @runID=:id", "-p", f"id={run_id}", "--sandbox")
    assert code == 0
    _, text, _ = run(capsys, "SELECT status FROM airplane.runs.runs WHERE id = :id", "-p", f"id={run_id}", "--sandbox", "--format", "json")
    assert json.loads(text) == [{"status": "Cancelled"}]


def test_dry_run_prints_the_requests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "EXEC airplane.runs.runs.cancelRun @runID='run1'", "--sandbox", "--dry-run", "--format", "csv")
    assert code == 0 and "POST" in out and "/runs/cancel" in out and "tkn_sandbox" not in out


def test_errors_go_to_stderr_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "SELECT * FROM azure.container_registry.runs", "--sandbox")
    assert code == 1 and out == "" and "subscriptionId" in err and "Traceback" not in err


def test_sql_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("SHOW PROVIDERS"))
    code, out, _ = run(capsys, "-", "--format", "csv")
    assert code == 0 and "airplane" in out


def test_demo_prints_tables_for_all_three_providers() -> None:
    result = subprocess.run([sys.executable, "-m", "runs_pandas.cli", "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for needle in ("contosobuilds", "attribution_multi_touch", "tsk", "error:"):
        if needle == "error:":
            assert needle not in out
        else:
            assert needle in out


def test_explain_prints_the_pushed_filter_and_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "SELECT id FROM airplane.runs.runs WHERE createdAt > TIMESTAMP '2026-01-01' AND status = 'Failed'",
        "--sandbox", "--explain", "--format", "csv",
    )
    assert code == 0 and "since=2026-01-01T00" in out and "status = 'Failed'" in out
