"""failures(): the planted messages with varying ids fall into exactly the planted signatures."""

from __future__ import annotations

import re

import pandas as pd

from runs_pandas.analysis.masks import mask
from runs_pandas.sandbox.acr_generate import ERROR_TEMPLATES, FAILURE_TEMPLATES


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{\w+\}", template)
    return re.compile(".+?".join(re.escape(p) for p in parts) + "$")


def test_acr_failures_group_into_the_planted_signatures(runs: dict[str, pd.DataFrame]) -> None:
    frame = runs["azure"]
    templates = [*FAILURE_TEMPLATES, *ERROR_TEMPLATES, "run exceeded the timeout of {n} seconds"]
    patterns = [_pattern(t) for t in templates]
    failed = frame.runs.normalize().query("status == 'failed'")
    planted = failed["error"].map(lambda m: next(i for i, p in enumerate(patterns) if p.match(m)))
    expected = planted.value_counts()
    table = frame.runs.failures()
    assert len(table) == len(expected) == len(templates)
    for row in table.itertuples():
        index = next(i for i, p in enumerate(patterns) if p.match(row.example))
        assert row.count == expected[index]
    assert table["count"].sum() == len(failed)
    assert table["count"].is_monotonic_decreasing
    top = table.iloc[0]
    assert top.first_seen <= top.last_seen and len(top.groups) > 1


def test_databricks_failures_are_grouped_by_state(runs: dict[str, pd.DataFrame]) -> None:
    table = runs["databricks"].runs.failures()
    assert "TERMINATED/FAILED" in set(table["signature"])
    assert table["count"].sum() == (runs["databricks"].runs.normalize()["status"] == "failed").sum()


def test_masking_rules() -> None:
    assert mask("dial tcp 10.2.3.4:5432: connect: connection refused") == (
        "dial tcp <ip>: connect: connection refused"
    )
    assert mask("open /var/airplane/ab12cd/credentials.json: denied at 2026-11-20T10:00:00Z") == (
        "open <path>: denied at <time>"
    )
    assert mask('Post "https://hooks.example.com/v1/jobs/123": deadline') == 'Post "<url>": deadline'
    assert mask("job 6f1c2e7a-93b4-4d2e-8a51-0c7d9e3b4f12 took 12 s") == "job <uuid> took <n> s"
    assert mask("build 42 of run ca1b2c", extra=[(r"build \d+", "build <b>")]) == (
        "build <b> of run <id>"
    )
