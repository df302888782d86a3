"""Frames of every sandbox provider's runs (default data), fetched once for the analysis tests."""

from __future__ import annotations

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

ACR = "azure.container_registry.runs"
DATABRICKS = "databricks_workspace.cleanrooms.task_runs"
AIRPLANE = "airplane.runs.runs"


@pytest.fixture(scope="module")
def runs(sandbox: Sandbox) -> dict[str, pd.DataFrame]:
    """All generated runs of each provider (the swagger example scope left out)."""
    with rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)) as session:
        scopes = sandbox.scopes()
        return {
            "azure": pd.DataFrame(scopes["azure"][:-1]).runs.fetch(ACR, session=session),
            "databricks": pd.DataFrame(scopes["databricks"]).runs.fetch(DATABRICKS, session=session),
            "airplane": pd.DataFrame(scopes["airplane"]).runs.fetch(AIRPLANE, session=session),
        }
