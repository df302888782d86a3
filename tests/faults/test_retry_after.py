"""Retry-After as servers write it: delay-seconds, HTTP-dates, and values that cannot be used."""

from __future__ import annotations

import email.utils

import pytest

from runs_pandas.http.retry import Budget, Transient, retry_after

NOW = 1_700_000_000.0


def test_seconds_and_dates() -> None:
    assert retry_after("3") == 3.0 and retry_after(" 0.5 ") == 0.5
    assert retry_after(email.utils.formatdate(NOW + 90, usegmt=True), now=NOW) == pytest.approx(90, abs=1)
    assert retry_after(email.utils.formatdate(NOW - 90, usegmt=True), now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-1", "nan", "inf", "Mon, 99 Foo 2020", "Mon, 01 Jan 2001 00:00:00"])
def test_unusable_values_are_none(value: str | None) -> None:
    assert retry_after(value) is None


def test_the_budget_bounds_the_waiting() -> None:
    budget = Budget(retries=10, seconds=1.0, backoff_base=0.4, backoff_cap=30)
    waits = []
    while not isinstance(wait := budget.wait_for(Transient("503", 503, None)), str):
        waits.append(wait)
    assert sum(waits) <= 1.0 + 1e-9 and "retry budget" in wait
    asked = Budget(retries=10, seconds=0.5).wait_for(Transient("429", 429, 3.0))
    assert isinstance(asked, str) and "asked to wait 3.0 s" in asked
