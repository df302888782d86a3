"""A local Spark (`local[2]`) whose executors reach the sandbox on loopback.

The executors get the sandbox's endpoints and tokens from their environment, as a cluster
gives them credentials (the tokens are not secrets, but are handled as if they were: never
put in the plan). The environment is set before the JVM starts, which passes it on to its
Python workers; the workers use this interpreter and import this checkout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spark_sandbox() -> Iterator[Sandbox]:
    sb = Sandbox().start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def spark(spark_sandbox: Sandbox) -> Iterator[Any]:
    import runs_pandas.spark as rps

    environment = rps.sandbox_environment(spark_sandbox.endpoints, spark_sandbox.tokens)
    saved = {k: os.environ.get(k) for k in [*environment, "PYSPARK_PYTHON", "PYTHONPATH", "SPARK_LOCAL_IP"]}
    os.environ.update(environment)
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # driver and executors talk on loopback only
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    from pyspark.sql import SparkSession

    session_ = (
        SparkSession.builder.master("local[2]")
        .appName("runs_pandas-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    yield session_
    session_.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture()
def driver_session(spark_sandbox: Sandbox) -> Iterator[rp.Session]:
    with rp.Session(sandbox=spark_sandbox, settings=rp.Settings(progress=False)) as s:
        yield s
