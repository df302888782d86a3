"""Bad input is a RunsError before any request: examples pinned, then hypothesis over SQL text,
placeholder values, EXEC args and scope frames (only a RunsError or a result comes out)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
from collections.abc import Iterator

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runs_pandas as rp
from runs_pandas.errors import ParamError, QueryError

# random locally (to find new cases), the same examples on every CI run (no flaky CI)
FUZZ = settings(
    max_examples=60, deadline=None, derandomize=bool(os.environ.get("CI")), database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
GET_RUN = "SELECT * FROM airplane.runs.runs WHERE id = :v"
CANCEL = "EXEC airplane.runs.runs.cancelRun @runID = :v"


class Recorder:
    """A mock API that answers every request with an empty page and records what was sent."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if request.url.path.endswith("/runs/get"):
            return httpx.Response(200, json={"id": request.url.params.get("id"), "status": "Succeeded"})
        return httpx.Response(200, json={"value": [], "runs": []})

    def session(self) -> rp.Session:
        return rp.Session(
            client=httpx.Client(transport=httpx.MockTransport(self)),
            secrets={"azure": "AZ", "airplane": "AIR", "databricks_workspace": "DBX"},
            endpoints={"azure": "https://az.test", "airplane": "https://air.test/v0", "databricks_workspace": "https://dbx.test"},
            settings=rp.Settings(progress=False, retries=0),
        )


@pytest.fixture()
def api() -> Iterator[Recorder]:
    yield Recorder()


# -- pinned examples ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "value", [math.nan, float("inf"), pd.NA, pd.NaT, {"a": 1}, b"ab", np.float64("nan"), object(), [[1]]],
    ids=["nan", "inf", "NA", "NaT", "dict", "bytes", "np-nan", "object", "nested-list"],
)
def test_values_with_no_sql_or_request_form_are_a_param_error_before_any_request(api: Recorder, value: object) -> None:
    for sql in (GET_RUN, CANCEL):
        with pytest.raises(ParamError, match=r":v.*give a string, a number") as info:
            rp.query(sql, params={"v": value}, session=api.session())
        assert "placeholder :v" in str(info.value) or "@runID" in str(info.value)
    assert api.sent == []


def test_none_is_null_in_sql_but_never_sent(api: Recorder) -> None:
    frame = rp.query("SELECT count(*) AS n FROM airplane.runs.runs WHERE id = :v", params={"v": None}, session=api.session())
    assert frame["n"].tolist() == [0]
    assert all("id=" not in str(r.url) for r in api.sent)  # not pushed down as "None"
    api.sent.clear()
    with pytest.raises(ParamError, match="@runID is bound to None"):
        rp.query(CANCEL, params={"v": None}, session=api.session())
    assert api.sent == []


def test_an_over_long_value_is_refused(api: Recorder) -> None:
    with pytest.raises(ParamError, match="70000 characters long; at most 4096"):
        rp.query(GET_RUN, params={"v": "x" * 70_000}, session=api.session())
    with pytest.raises(ParamError, match="characters long"):
        rp.query(f"EXEC airplane.runs.runs.getRun @id = '{'y' * 70_000}'", session=api.session())
    assert api.sent == []


@pytest.mark.parametrize("depth", [60, 400, 3000])
def test_deep_nesting_is_a_query_error_or_an_answer(api: Recorder, depth: int) -> None:
    sql = "SELECT " + "(" * depth + "1" + ")" * depth + " AS x FROM airplane.runs.runs"
    try:
        rp.query(sql, session=api.session())
    except QueryError as exc:
        assert "nest" in str(exc) or "depth" in str(exc)


def test_repeated_output_names_are_kept_as_duckdb_names_them(session: rp.Session) -> None:
    frame = rp.query(
        "SELECT a.status, b.status FROM airplane.runs.runs a JOIN airplane.runs.runs b ON a.id = b.id LIMIT 3",
        session=session,
    )
    assert list(frame.columns) == ["status", "status_1"] and len(frame) == 3


def test_odd_frames_get_a_clear_error(api: Recorder) -> None:
    repeated = pd.DataFrame([["sub", "rg", "alpha1", "beta22"]],
                            columns=["subscriptionId", "resourceGroupName", "registryName", "registryName"])
    with pytest.raises(ParamError, match="more than one column named 'registryName'"):
        repeated.runs.fetch("azure.container_registry.runs", session=api.session())
    runs = pd.DataFrame([["run_1", "Failed", "run_2"]], columns=["id", "status", "id"])
    with pytest.raises(ParamError, match="more than one column named 'id'"):
        runs.runs.exec("cancelRun", resource="airplane.runs.runs", session=api.session())
    nested = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("c", "d")]))
    with pytest.raises(ParamError, match="MultiIndex"):
        nested.runs.fetch("azure.container_registry.runs", session=api.session())
    assert api.sent == []


# -- properties ---------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.binary(max_size=8), st.datetimes(timezones=st.just(dt.UTC)),
    st.dates(), st.decimals(allow_nan=True), st.just(pd.NA), st.just(pd.NaT),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3))
SENDABLE = (str, int, float, bool, dt.date, decimal.Decimal)


@FUZZ
@given(value=values)
def test_any_placeholder_value_is_a_result_or_a_runs_error(api: Recorder, value: object) -> None:
    api.sent.clear()
    try:
        frame = rp.query(GET_RUN, params={"v": value}, session=api.session())
    except rp.RunsError:
        return
    assert isinstance(frame, pd.DataFrame)
    texts = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    for request in api.sent:  # nothing went out as a Python repr (text the user gave is sent as is)
        sent = request.url.params.get("id")
        reprs = [bad for bad in ("b'", "{'", "<NA>", "NaT", "None") if not any(bad in t for t in texts)]
        assert sent is None or not any(bad in sent for bad in reprs)


@FUZZ
@given(value=values)
def test_any_exec_arg_is_a_result_or_a_runs_error_and_sends_only_plain_values(api: Recorder, value: object) -> None:
    api.sent.clear()
    try:
        rp.query(CANCEL, params={"v": value}, session=api.session())
    except rp.RunsError:
        return
    for request in api.sent:
        sent = json.loads(request.content)["runID"]
        assert isinstance(sent, SENDABLE) and sent is not None


WORDS = ["SELECT", "*", "FROM", "airplane.runs.runs", "azure.container_registry.runs", "WHERE", "id", "=",
         "'x'", ":v", "(", ")", "IN", ",", "EXEC", "@runID", "@@json", "'{}'", "JOIN", "ON", "GROUP BY", "status",
         "LIMIT", "1", "--", "/*+ AWAIT */", ";", "SHOW", "DESCRIBE", "\"", "'", "databricks_workspace.cleanrooms.task_runs",
         "airplane.runs.runs.cancelRun", "NULL", "registryName", "count(*)", "WITH", "AS", "t"]


@FUZZ
@given(words=st.lists(st.sampled_from(WORDS), max_size=14), noise=st.text(max_size=6))
def test_any_sql_text_is_a_result_or_a_runs_error(api: Recorder, words: list[str], noise: str) -> None:
    sql = " ".join(words) + noise
    try:
        rp.query(sql, params={"v": "run_1"}, session=api.session())
    except rp.RunsError:
        pass


columns = st.sampled_from(["subscriptionId", "resourceGroupName", "registryName", "runId", "status", "junk", "$top"])


@FUZZ
@given(names=st.lists(columns, min_size=1, max_size=5), cells=st.lists(values, min_size=1, max_size=10))
def test_any_scope_frame_is_a_result_or_a_runs_error(api: Recorder, names: list[str], cells: list[object]) -> None:
    rows = [[cells[(r + c) % len(cells)] for c in range(len(names))] for r in range(2)]
    frame = pd.DataFrame(rows, columns=names)
    for call in (
        lambda: frame.runs.fetch("azure.container_registry.runs", session=api.session()),
        lambda: frame.runs.exec("Runs_Cancel", resource="azure.container_registry.runs", session=api.session(), dry_run=True),
    ):
        try:
            result = call()
        except rp.RunsError:
            continue
        assert isinstance(result, pd.DataFrame)


def test_a_none_path_param_is_a_missing_param_not_a_key_error(api: Recorder) -> None:
    sql = ("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = :x "
           "AND resourceGroupName = 'rg' AND registryName = 'alpha1'")
    with pytest.raises(rp.MissingParamError, match="needs subscriptionId"):
        rp.query(sql, params={"x": None}, session=api.session())
    assert api.sent == []
