"""From the resources a query names to the request series that fetch them.

Per reference: the SELECT method whose required params are all pinned (the most specific
one wins, e.g. a get-one method when `id` is given), and one call per combination of the
pinned values (fan-out). `df.runs.fetch` plans the same way, one call per given scope.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runs_pandas.analysis.cells import missing
from runs_pandas.catalog import Catalog, Method, Provider, Resource
from runs_pandas.errors import MissingParamError, ParamError
from runs_pandas.http import Request, build_request
from runs_pandas.sql.pushdown import Pushed, push
from runs_pandas.sql.read import Reference

if TYPE_CHECKING:
    from runs_pandas.session import Session

PUSHDOWN = True  # field filters and LIMIT into the API (tests switch it off to compare)


@dataclass(frozen=True)
class Call:
    """One request series: a method of a resource with its arguments."""

    provider: Provider
    resource: Resource
    method: Method
    args: tuple[tuple[str, Any], ...]
    pushdown: Pushed = field(default_factory=Pushed, compare=False)  # filters and limit asked of the API

    @property
    def kwargs(self) -> dict[str, Any]:
        """The args sent: the pinned params, then what pushdown adds ($filter, since, $top)."""
        return dict(self.args) | dict(self.pushdown.args)


def plan(references: list[Reference], catalog: Catalog) -> dict[str, list[Call]]:
    """Calls per resource id, each series once even when several references ask for it."""
    calls: dict[str, list[Call]] = {}
    for reference in references:
        resource = reference.resource
        method = choose_method(resource, reference.conditions)
        bucket = calls.setdefault(resource.id, [])  # an empty IN still gives an (empty) table
        pinned = {n: v for n, v in reference.conditions.items() if method.param(n) is not None}
        names = list(pinned)
        pushed = (
            push(reference.table, resource, method, reference.values, pinned=set(pinned), alone=reference.alone)
            if PUSHDOWN
            else Pushed()
        )
        for combination in itertools.product(*(pinned[n] for n in names)):
            call = Call(
                catalog.provider_of(resource), resource, method, tuple(zip(names, combination)), pushed
            )
            if call not in bucket:
                bucket.append(call)
    return calls


def plan_scopes(
    resource: Resource, scopes: Sequence[Mapping[str, Any]], catalog: Catalog
) -> list[Call]:
    """One call per scope (a row of param values): a fan-out whose scopes are given.

    Each scope pins its values as `WHERE name = value AND ...` would (missing values are
    not pinned); the method is chosen per scope; a scope repeated is fetched once.
    """
    calls: list[Call] = []
    provider = catalog.provider_of(resource)
    for scope in scopes:
        values = {k: v for k, v in scope.items() if not missing(v)}
        method = choose_method(resource, {k: [v] for k, v in values.items()})
        pinned = tuple((k, v) for k, v in values.items() if method.param(k) is not None)
        call = Call(provider, resource, method, pinned)
        if call not in calls:
            calls.append(call)
    return calls


def choose_method(resource: Resource, conditions: dict[str, list[Any]]) -> Method:
    """The SELECT method for the pinned params: the most specific one that honours them all.

    A method honours a pinned param by sending it, or by leaving it to DuckDB when it is a
    field of the rows. One that would silently ignore a pin is never chosen.
    """
    candidates = resource.methods_for("select")
    given = set(conditions)
    fields = {f.name for f in resource.fields}
    usable = [m for m in candidates if all(p.name in given for p in m.required)]
    if usable:
        complete = [
            m for m in usable if all(m.param(n) is not None or n in fields for n in given)
        ]
        if complete:
            return max(complete, key=lambda m: len(m.required))
        takes = "; ".join(
            f"{m.name} takes {', '.join(n for n in sorted(given) if m.param(n)) or 'none of them'}"
            for m in usable
        )
        raise ParamError(
            f"{resource.id}: no method takes all of {', '.join(sorted(given))} ({takes}). "
            f"Query them separately, or filter on a column after fetching (e.g. in a CTE)."
        )
    closest = min(candidates, key=lambda m: len([p for p in m.required if p.name not in given]))
    missing = [p.name for p in closest.required if p.name not in given]
    example = " AND ".join(f"{name} = '...'" for name in missing)
    raise MissingParamError(
        resource.id,
        closest.name,
        missing,
        sorted(given),
        hint=f" Pin them in the WHERE clause, e.g. WHERE {example}.",
    )


def first_request(session: Session, call: Call) -> Request:
    """The first request of a call's series, checked (bad values fail before sending)."""
    return build_request(
        call.provider, call.resource.id, call.method, call.kwargs, session.endpoint(call.provider),
        scope_default=lambda: session.credentials.default_scope(call.provider),
    )
