"""Requests and time of representative queries with pushdown on and off (issue 11, item 8).

    python benchmarks/pushdown.py            # prints a markdown table for docs/performance.md

The sandbox runs in this process on loopback with a 20 ms delay per page, so the time is
mostly the round trips a real API would cost; the request counts are exact.
"""

from __future__ import annotations

import statistics
import time

import runs_pandas as rp
import runs_pandas.sql.plan as plan_module
from runs_pandas.sandbox import Sandbox
from runs_pandas.sandbox.acr_scopes import REGISTRIES
from runs_pandas.sandbox.airplane_tasks import TASKS

REPEATS = 3


def acr_where() -> str:
    """The sandbox registries of the first resource group, pinned as a user would."""
    first = REGISTRIES[0].scope()
    names = [r.scope()["registryName"] for r in REGISTRIES if r.scope()["resourceGroupName"] == first["resourceGroupName"]
             and r.scope()["subscriptionId"] == first["subscriptionId"]]
    return (f"subscriptionId = '{first['subscriptionId']}' AND resourceGroupName = '{first['resourceGroupName']}' "
            f"AND registryName IN ({', '.join(repr(n) for n in names)})")


def queries() -> dict[str, str]:
    acr = f"FROM azure.container_registry.runs WHERE {acr_where()}"
    return {
        "ACR: failed runs of the last day": f"SELECT runId, status, createTime {acr} AND status = 'Failed' "
        "AND createTime > now() - INTERVAL 1 DAY",
        "ACR: the latest 10 runs": f"SELECT runId, createTime {acr} ORDER BY createTime DESC LIMIT 10",
        "Airplane: the latest 10 runs": "SELECT id, createdAt FROM airplane.runs.runs ORDER BY createdAt DESC LIMIT 10",
        "Airplane: one task's runs this week": "SELECT id, status FROM airplane.runs.runs "
        f"WHERE taskSlug = '{TASKS[0].slug}' AND createdAt >= now() - INTERVAL 7 DAY",
    }


def measure(session: rp.Session, sql: str, pushdown: bool) -> tuple[int, float, int]:
    """(requests, median seconds, rows) of `sql` with pushdown on or off."""
    plan_module.PUSHDOWN = pushdown
    times, frame = [], None
    try:
        for _ in range(REPEATS):
            started = time.perf_counter()
            frame = rp.query(sql, session=session)
            times.append(time.perf_counter() - started)
    finally:
        plan_module.PUSHDOWN = True
    assert frame is not None
    return int(frame.attrs["runs_pandas"]["requests"]), statistics.median(times), len(frame)


def main() -> None:
    sandbox = Sandbox(latency=0.02).start()
    session = rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False))
    try:
        rp.query(queries()["ACR: the latest 10 runs"], session=session)  # warm the sandbox's data
        print("| query | rows | requests off | requests on | time off (s) | time on (s) | speed-up |")
        print("|---|---|---|---|---|---|---|")
        for name, sql in queries().items():
            off, t_off, rows_off = measure(session, sql, False)
            on, t_on, rows_on = measure(session, sql, True)
            assert rows_on == rows_off, name
            print(f"| {name} | {rows_on} | {off} | {on} | {t_off:.3f} | {t_on:.3f} | {t_off / t_on:.1f}x |")
    finally:
        session.close()
        sandbox.stop()


if __name__ == "__main__":
    main()
