"""Property: pushdown never changes a result, and never sends more requests.

Hypothesis writes WHERE clauses over the fields ACR's `$filter` and Airplane's `since`
answer (and some they do not): comparisons, IN, BETWEEN, NULLs, time expressions with
now(), intervals and time zones, joined by AND / OR / NOT. Each runs against the sandbox
with pushdown on and off; the rows must be the same.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runs_pandas as rp
from tests.sql.test_pushdown import ACR, both, requests

STATUSES = ["Queued", "Running", "Succeeded", "Failed", "Canceled", "Error", "Timeout"]
RUN_TYPES = ["QuickBuild", "QuickRun", "AutoBuild", "AutoRun"]
NOW = datetime.now(UTC)


def _time(column: str) -> st.SearchStrategy[str]:
    ops = st.sampled_from([">", ">=", "<", "<=", "="])
    relative = st.builds(lambda n, unit: f"now() - INTERVAL {n} {unit}", st.integers(0, 40), st.sampled_from(["HOUR", "DAY"]))
    zoned = st.builds(
        lambda days, hours: "TIMESTAMPTZ '"
        + (NOW - timedelta(days=days)).astimezone(timezone(timedelta(hours=hours))).isoformat()
        + "'",
        st.integers(0, 40),
        st.integers(-8, 8),
    )
    naive = st.builds(lambda days: f"TIMESTAMP '{(NOW - timedelta(days=days)):%Y-%m-%d %H:%M:%S}'", st.integers(0, 40))
    return st.builds(lambda op, value: f"{column} {op} {value}", ops, st.one_of(relative, zoned, naive))


def _text(column: str, values: list[str]) -> st.SearchStrategy[str]:
    value = st.sampled_from(values)
    return st.one_of(
        st.builds(lambda v: f"{column} = '{v}'", value),
        st.builds(lambda v: f"{column} != '{v}'", value),
        st.builds(lambda vs: f"{column} IN ({', '.join(repr(v) for v in vs)})", st.lists(value, min_size=1, max_size=3)),
        st.just(f"{column} IS NULL"),
        st.just(f"{column} = NULL"),
    )


ATOMS = st.one_of(_text("status", STATUSES), _text("runType", RUN_TYPES), _time("createTime"), _time("finishTime"),
                  st.just("lower(status) = 'failed'"))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"({a} AND {b})", children, children),
        st.builds(lambda a, b: f"({a} OR {b})", children, children),
        st.builds(lambda a: f"NOT ({a})", children),
    )


WHERE = st.recursive(ATOMS, _combine, max_leaves=4)


@settings(max_examples=12, deadline=None, derandomize=bool(os.environ.get("CI")), database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(WHERE, min_size=1, max_size=3), tail=st.sampled_from(["", "ORDER BY createTime DESC LIMIT 7"]))
def test_acr_pushdown_never_changes_a_result(session: rp.Session, parts: list[str], tail: str) -> None:
    sql = f"SELECT runId, status, createTime, finishTime {ACR} AND {' AND '.join(parts)} {tail}"
    pushed, plain = both(sql, session)
    key = ["runId"]
    assert sorted(pushed[key[0]]) == sorted(plain[key[0]]), sql
    assert requests(pushed) <= requests(plain), sql


AIRPLANE_ATOMS = st.one_of(
    _time("createdAt"), _time("failedAt"), _time("succeededAt"),
    _text("status", ["Queued", "Active", "Succeeded", "Failed", "Cancelled"]),
)


@settings(max_examples=8, deadline=None, derandomize=bool(os.environ.get("CI")), database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.recursive(AIRPLANE_ATOMS, _combine, max_leaves=3), min_size=1, max_size=3),
       tail=st.sampled_from(["", "ORDER BY createdAt DESC LIMIT 3"]))
def test_airplane_pushdown_never_changes_a_result(session: rp.Session, parts: list[str], tail: str) -> None:
    sql = f"SELECT id, createdAt FROM airplane.runs.runs WHERE {' AND '.join(parts)} {tail}"
    pushed, plain = both(sql, session)
    assert sorted(pushed["id"]) == sorted(plain["id"]), sql
    assert requests(pushed) <= requests(plain), sql


def test_the_common_queries_send_fewer_requests(session: rp.Session) -> None:
    for sql in (
        f"SELECT runId {ACR} AND status = 'Failed' AND createTime > now() - INTERVAL 1 DAY",
        "SELECT id FROM airplane.runs.runs WHERE createdAt >= now() - INTERVAL 7 DAY",
    ):
        pushed, plain = both(sql, session)
        assert requests(pushed) < requests(plain), sql


pytestmark = pytest.mark.property
