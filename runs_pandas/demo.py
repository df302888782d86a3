"""`runs-pandas demo`: a few real questions answered over the offline sandbox.

Each step prints the question, the SQL, and the answer, so the demo doubles as a tour.
"""

from __future__ import annotations

import textwrap
from typing import Any, TextIO

from runs_pandas.errors import RunsError
from runs_pandas.session import Session

STEPS: list[tuple[str, str]] = [
    (
        "Which ACR registries fail most, and how long do their builds take?",
        """
        SELECT registryName,
               count(*) AS total,
               count(*) FILTER (WHERE status IN ('Failed', 'Error', 'Timeout')) AS failed,
               round(100.0 * failed / total, 1) AS failed_pct,
               date_trunc('second', median(finishTime - startTime)) AS median_build,
               max(createTime) AS last_run
        FROM azure.container_registry.runs
        WHERE subscriptionId = :subscription AND resourceGroupName = :group
          AND registryName IN (:registry_a, :registry_b)
        GROUP BY registryName
        ORDER BY failed_pct DESC
        """,
    ),
    (
        "Failed ACR builds in the last 7 days, newest first",
        """
        SELECT registryName, runId, task, status, platform.os,
               date_trunc('second', finishTime - startTime) AS took, runErrorMessage
        FROM azure.container_registry.runs
        WHERE subscriptionId = :subscription AND resourceGroupName = :group
          AND registryName IN (:registry_a, :registry_b)
          AND status IN ('Failed', 'Error', 'Timeout')
          AND createTime > now() - INTERVAL 7 DAY
        ORDER BY createTime DESC
        LIMIT 8
        """,
    ),
    (
        "Slowest and flakiest clean-room notebooks (Databricks)",
        """
        SELECT clean_room_name, notebook_name,
               count(*) AS total,
               round(100.0 * count(*) FILTER (
                   WHERE notebook_job_run_state.result_state <> 'SUCCESS') / total, 1)
                   AS not_successful_pct,
               date_trunc('second', quantile_disc(run_duration, 0.5)) AS p50,
               date_trunc('second', quantile_disc(run_duration, 0.95)) AS p95
        FROM databricks_workspace.cleanrooms.task_runs
        WHERE deployment_name = :deployment AND clean_room_name IN (:room_a, :room_b)
          AND notebook_job_run_state.life_cycle_state = 'TERMINATED'
        GROUP BY ALL
        ORDER BY not_successful_pct DESC, p95 DESC
        """,
    ),
    (
        "Airplane run status per task",
        """
        PIVOT (SELECT taskID, status FROM airplane.runs.runs)
        ON status IN ('Succeeded', 'Failed', 'Cancelled', 'Active', 'Queued', 'NotStarted')
        USING count(*)
        ORDER BY "Failed" DESC
        """,
    ),
    (
        "What can be queried? (answered from the catalog, no request sent)",
        "SHOW METHODS IN airplane.runs.runs",
    ),
]


def demo_params(session: Session) -> dict[str, Any]:
    """Placeholder values taken from the sandbox's own scopes."""
    assert session.sandbox is not None
    scopes = session.sandbox.scopes()
    acr = [s for s in scopes["azure"] if s["resourceGroupName"] == scopes["azure"][0]["resourceGroupName"]]
    rooms = scopes["databricks"]
    return {
        "subscription": acr[0]["subscriptionId"],
        "group": acr[0]["resourceGroupName"],
        "registry_a": acr[0]["registryName"],
        "registry_b": acr[1]["registryName"] if len(acr) > 1 else acr[0]["registryName"],
        "deployment": rooms[0]["deployment_name"],
        "room_a": rooms[0]["clean_room_name"],
        "room_b": rooms[-1]["clean_room_name"],
    }


def run_demo(session: Session, out: TextIO) -> int:
    """Print each question, its SQL and its answer; 0 when every step worked."""
    import pandas as pd

    from runs_pandas.engine import query
    from runs_pandas.render import error_message, footer, table

    session.settings.progress = False
    params = demo_params(session)
    failures = 0
    print(f"runs_pandas demo: the offline sandbox at {session.sandbox.url if session.sandbox else '?'}\n", file=out)
    for number, (question, sql) in enumerate(STEPS, start=1):
        sql = textwrap.dedent(sql).strip()
        print(f"{number}. {question}\n", file=out)
        print(textwrap.indent(sql, "    "), "\n", file=out)
        try:
            used = {k: v for k, v in params.items() if f":{k}" in sql}
            frame = query(sql, used, session)
        except RunsError as exc:
            failures += 1
            print(f"   error: {error_message(exc)}\n", file=out)
            continue
        if frame.empty:
            failures += 1
        with pd.option_context("display.max_colwidth", 48):
            print(textwrap.indent(table(frame, "table", limit=12), "   "), file=out)
        print(f"\n   ({footer(frame, limit=12)})\n", file=out)
    return 1 if failures else 0
