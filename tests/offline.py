"""The environment for subprocesses of the tests (kernels, JupyterLab): sandbox only.

Every variable that could point runs_pandas at a real API is dropped, the sandbox is
switched on, and proxies are removed so nothing inherited routes traffic elsewhere.
"""

from __future__ import annotations

import os

REAL = (
    "RUNS_PANDAS_AZURE_TOKEN",
    "RUNS_PANDAS_AZURE_ENDPOINT",
    "RUNS_PANDAS_DATABRICKS_ENDPOINT",
    "RUNS_PANDAS_AIRPLANE_ENDPOINT",
    "DATABRICKS_TOKEN",
    "DATABRICKS_HOST",
    "DATABRICKS_CONFIG_PROFILE",
    "DATABRICKS_CONFIG_FILE",
    "DATABRICKS_CLIENT_ID",
    "DATABRICKS_CLIENT_SECRET",
    "RUNS_PANDAS_CONNECTIONS",
    "AIRPLANE_API_KEY",
    "AIRPLANE_TEAM_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
)


def offline_environ(*drop: str) -> dict[str, str]:
    """os.environ without real credentials, endpoints or proxies, with the sandbox on."""
    gone = set(REAL) | set(drop)
    env = {k: v for k, v in os.environ.items() if k not in gone and not k.lower().endswith("_proxy")}
    env["RUNS_PANDAS_SANDBOX"] = "1"
    return env
