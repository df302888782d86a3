"""What a result looks like: key columns first, readable times and durations, blanks for
missing values, `$` not read as maths, catalog cells whole, and the footer everywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas import render
from runs_pandas.catalog import catalog
from runs_pandas.sandbox import Sandbox


def _stamped(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["runs_pandas"] = {"sql": "x", "requests": 1, "seconds": 0.1, "shape": frame.shape}
    return frame


def test_times_durations_and_missing_values_display_plainly() -> None:
    frame = _stamped(pd.DataFrame({
        "createdAt": pd.to_datetime(["2026-12-01 23:59:19.169190+00:00", None], utc=True),
        "run_duration": pd.to_timedelta([timedelta(minutes=4, seconds=16), None]),
        "note": ["x", None],
        "count": pd.array([1, None], dtype="Int64"),
        "share": [0.5, float("nan")],
    }))
    before = frame.copy()
    markup = render.frame_html(frame)
    text = render.frame_text(frame)
    assert markup is not None
    for shown in (markup, text):
        assert "4m16s" in shown and "0 days" not in shown
        assert "+00:00" not in shown and ".169190" not in shown
        assert re.search(r"2026-12-0[12] \d\d:\d\d:19", shown)
        for missing in ("NaN", "NaT", "None", "&lt;NA&gt;", "<NA>"):
            assert missing not in shown, missing
    assert "times in " in render.footer(frame)
    pd.testing.assert_frame_equal(frame, before)  # display only: values unchanged


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=4, seconds=16), "4m16s"),
        (timedelta(seconds=42), "42s"),
        (timedelta(seconds=0.4), "0.4s"),
        (timedelta(hours=1, minutes=2, seconds=5), "1h02m"),
        (timedelta(days=3, hours=4), "3d4h"),
        (None, ""),
    ],
)
def test_durations_read_like_a_person_writes_them(delta: timedelta | None, text: str) -> None:
    assert render.duration_text(delta) == text


def test_show_methods_keeps_dollar_signs_out_of_mathjax_and_required_whole(session: rp.Session) -> None:
    frame = rp.query("SHOW METHODS IN azure.container_registry.runs", session=session)
    markup = render.frame_html(frame)
    assert markup is not None
    assert "$" not in markup  # JupyterLab's MathJax would typeset `$filter, $top` as maths
    assert "&#36;filter" in markup and "mathjax_ignore" in markup and "tex2jax_ignore" in markup
    required = frame.set_index("method").loc["Runs_Get", "required"]
    assert required.endswith("runId") and len(required) > 50
    assert required in markup and "..." not in markup
    assert required in render.frame_text(frame)


@pytest.mark.parametrize(
    ("resource_id", "first"),
    [
        ("airplane.runs.runs", ["taskID", "id", "status", "createdAt", "activeAt"]),
        ("azure.container_registry.runs", ["runId", "status", "createTime", "startTime", "finishTime"]),
        ("databricks_workspace.cleanrooms.task_runs",
         ["notebook_name",
          "notebook_job_run_state.life_cycle_state", "notebook_job_run_state.result_state", "start_time",
          "run_duration"]),
    ],
)
def test_select_star_puts_scope_and_key_columns_first(
    resource_id: str, first: list[str], session: rp.Session, sandbox: Sandbox
) -> None:
    provider = resource_id.split(".")[0]
    scopes = sandbox.scopes()["databricks" if provider.startswith("databricks") else provider]
    where = " AND ".join(f"{k} = :{k}" for k in scopes[0]) if provider != "airplane" else "true"
    params = dict(scopes[0]) if provider != "airplane" else {}
    frame = rp.query(f"SELECT * FROM {resource_id} WHERE {where} LIMIT 3", params, session)
    columns = list(frame.columns)
    first = list(params) + first  # the scope params come first, then the key columns
    assert columns[: len(first)] == first
    resource = catalog().resource(resource_id)
    assert resource.leading  # the order is catalog data
    lead = {n.split(".")[0] for n in resource.leading}
    rest = [c.split(".")[0] for c in columns[len(first):] if c.split(".")[0] not in lead]
    fields = [f.name for f in resource.fields if f.name in rest]
    assert [c for c in dict.fromkeys(rest) if c in fields] == fields  # then catalog order


def test_dry_runs_and_forms_show_the_footer(session: rp.Session) -> None:
    dry = rp.query("SELECT * FROM airplane.runs.runs", session=session, dry_run=True)
    markup = render.frame_html(dry)
    assert markup is not None and "runs-pandas-footer" in markup
    assert "dry run: 1 request(s) would be sent; nothing was sent" in markup
    assert "dry run" in render.frame_text(dry)
    form = rp.form("airplane.runs.runs", session=session, namespace={})
    form.dry_run.value = True
    form.run()
    shown = [o["data"]["text/html"] for o in form.output.outputs if o.get("output_type") == "display_data"]
    assert shown and "runs-pandas-footer" in shown[-1]


def test_a_single_cancel_answered_with_an_empty_body_gives_an_outcome_row(fresh_sandbox: Sandbox) -> None:
    session = rp.Session(sandbox=fresh_sandbox, settings=rp.Settings(progress=False))
    runs = rp.query("SELECT id, status FROM airplane.runs.runs", session=session)
    live = runs[runs["status"].isin(["Active", "Queued", "NotStarted"])]["id"].iloc[0]
    one = rp.query("EXEC airplane.runs.runs.cancelRun @runID=:id", {"id": live}, session)
    many = rp.query("EXEC airplane.runs.runs.cancelRun @runID=:ids", {"ids": [live]}, session)
    assert one.shape[0] == 1 and one.loc[0, "runID"] == live
    assert one.loc[0, "outcome"] == "ok" and one.loc[0, "http_status"] == 200
    assert {"runID", "outcome", "http_status", "error"} <= set(one.columns) & set(many.columns)
    assert render.frame_html(one) is not None
