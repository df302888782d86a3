"""The request budget: how many requests a plan needs, and the error when it is too many.

Real APIs are rate limited (ARM allows a subscription a few thousand reads an hour), so the
requests a query sends are its real cost; `Settings.max_requests` caps them per query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from runs_pandas.errors import RequestBudgetError
from runs_pandas.sql.plan import Call


def expected_pages(call: Call) -> int | None:
    """Pages the series takes, where the API lets it be known (a pushed LIMIT), else None."""
    method = call.method
    if method.paginator.type == "none":
        return 1
    limit = call.pushdown.limit
    if limit is None:
        return None
    size_param = method.paginator.size_param
    size = call.kwargs.get(size_param) if size_param else None
    if size is None and method.top_param and method.top_param in call.kwargs:
        return None if method.paginator.default_size is None else math.ceil(limit / method.paginator.default_size)
    size = size or method.paginator.default_size
    return math.ceil(limit / size) if size else None


def check_plan(calls: Mapping[str, Sequence[Call]], budget: int) -> None:
    """Refuse a plan that needs more requests than the budget, before any is sent."""
    flat = [c for cs in calls.values() for c in cs]
    planned = sum(expected_pages(c) or 1 for c in flat)
    if planned <= budget:
        return
    per_resource = sorted(((rid, len(cs)) for rid, cs in calls.items()), key=lambda x: -x[1])
    largest = ", ".join(f"{rid}: {n} series" for rid, n in per_resource[:3])
    raise RequestBudgetError(
        f"the query needs at least {planned} requests, over the budget of {budget} "
        f"(max_requests). Largest: {largest}. Narrow it (fewer IN values, a time filter, "
        f"LIMIT) or raise the budget: Settings(max_requests=...) or %config RunsSql.max_requests."
    )


def spent_message(sent: int, budget: int, series: Sequence[tuple[str, int]], rows: int) -> str:
    """What the error says when the fetch reached the budget: sent, largest series, what to do."""
    largest = ", ".join(f"{name}: {n} requests" for name, n in sorted(series, key=lambda x: -x[1])[:3])
    return (
        f"the query reached the request budget: {sent} requests sent, max_requests is {budget}. "
        f"Largest series: {largest}. Narrow the query (a WHERE on status or a time, fewer scopes, "
        f"LIMIT) or raise the budget: Settings(max_requests=...) or %config RunsSql.max_requests. "
        f"The {rows} row(s) fetched are kept in the error's .frame attribute."
    )
