"""EXPLAIN: per request series, what is asked of the API and what is left to DuckDB.

`EXPLAIN SELECT ...` returns this frame instead of fetching: the full first URL (no secret
is ever in a URL), the params and filter pushed into it, the row limit, the conjuncts only
DuckDB answers, and the expected number of pages where the API lets it be known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from runs_pandas.catalog import catalog
from runs_pandas.sql.budget import expected_pages
from runs_pandas.sql.plan import first_request, plan
from runs_pandas.sql.read import Statement

if TYPE_CHECKING:
    from runs_pandas.session import Session


def explain(statement: Statement, session: Session) -> pd.DataFrame:
    """One row per request series the SELECT would send; nothing is sent."""
    calls = plan(statement.references, catalog())
    rows = []
    for resource_id, series in calls.items():
        for call in series:
            request = first_request(session, call)
            filter_param = call.method.filter_param
            sent = call.kwargs
            rows.append(
                {
                    "resource": resource_id,
                    "method": call.method.name,
                    "url": request.url,
                    "params": {k: v for k, v in sent.items() if k != filter_param and k != call.method.top_param},
                    "filter": sent.get(filter_param) if filter_param else None,
                    "limit": call.pushdown.limit,
                    "pushed": " AND ".join(call.pushdown.pushed) or None,
                    "residual": " AND ".join(call.pushdown.residual) or None,
                    "expected_pages": expected_pages(call),
                }
            )
    frame = pd.DataFrame(rows, columns=[
        "resource", "method", "url", "params", "filter", "limit", "pushed", "residual", "expected_pages"
    ])
    frame["expected_pages"] = frame["expected_pages"].astype("Int64")
    frame["limit"] = frame["limit"].astype("Int64")
    return frame
