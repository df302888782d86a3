"""regressions(): the planted slowdown is found at its time with its ratio; stable groups show none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from runs_pandas.analysis.regressions import change_points
from runs_pandas.errors import RunsError
from runs_pandas.sandbox import Sandbox
from runs_pandas.sandbox.acr_scopes import REGISTRIES


def _planted() -> tuple[str, float, float]:
    for registry in REGISTRIES:
        for task in registry.tasks:
            if task.slowdown_factor != 1.0:
                return f"{registry.name}/{task.name}", task.slowdown_days, task.slowdown_factor
    raise AssertionError("the sandbox plants no slowdown")


def test_finds_the_planted_slowdown(runs: dict[str, pd.DataFrame], sandbox: Sandbox) -> None:
    group, days, factor = _planted()
    found = runs["azure"].runs.regressions(direction="both")
    assert list(found["group"]) == [group]  # and nothing in any other group
    change = found.iloc[0]
    planted_at = pd.Timestamp(sandbox.now) - pd.Timedelta(days=days)
    assert abs(change["changed_at"] - planted_at) < pd.Timedelta(days=1)
    assert change["ratio"] == pytest.approx(factor, rel=0.10)
    assert change["after"] > change["before"]


def test_stable_providers_show_no_change(runs: dict[str, pd.DataFrame]) -> None:
    for name in ("databricks", "airplane"):
        assert runs[name].runs.regressions(direction="both").empty


def test_change_points_on_a_noisy_step() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.lognormal(5, 0.4, 200), rng.lognormal(5 + np.log(1.5), 0.4, 100)])
    x[::17] *= 6  # a long tail must not move the change
    (cut, p), = change_points(x)
    assert abs(cut - 200) <= 5 and p < 1e-6
    assert change_points(rng.lognormal(5, 0.4, 300)) == []


def test_bad_arguments_are_clear_errors(runs: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(RunsError, match="direction"):
        runs["azure"].runs.regressions(direction="up")
    with pytest.raises(RunsError, match="metric"):
        runs["azure"].runs.regressions(metric="nope")
