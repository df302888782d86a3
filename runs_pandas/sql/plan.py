"""From the resources a query names to the request series that fetch them.

Per reference: the SELECT method whose required params are all pinned (the most specific
one wins, e.g. Airplane's getRun when `id` is given), and one call per combination of the
pinned values (fan-out).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from runs_pandas.catalog import Catalog, Method, Provider, Resource
from runs_pandas.errors import MissingParamError
from runs_pandas.sql.read import Reference


@dataclass(frozen=True)
class Call:
    """One request series: a method of a resource with its arguments."""

    provider: Provider
    resource: Resource
    method: Method
    args: tuple[tuple[str, Any], ...]
    columns: tuple[tuple[str, Any], ...] = ()  # every pinned value, sent or not: kept as columns

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)


def plan(references: list[Reference], catalog: Catalog) -> dict[str, list[Call]]:
    """Calls per resource id, each series once even when several references ask for it."""
    calls: dict[str, list[Call]] = {}
    for reference in references:
        resource = reference.resource
        method = choose_method(resource, reference.conditions)
        calls.setdefault(resource.id, [])  # an empty IN still gives an (empty) table
        pinned = dict(reference.conditions)
        names = list(pinned)
        for combination in itertools.product(*(pinned[n] for n in names)):
            values = tuple(zip(names, combination))
            call = Call(
                catalog.provider_of(resource),
                resource,
                method,
                tuple((n, v) for n, v in values if method.param(n) is not None),
                values,
            )
            bucket = calls.setdefault(resource.id, [])
            if call not in bucket:
                bucket.append(call)
    return calls


def choose_method(resource: Resource, conditions: dict[str, list[Any]]) -> Method:
    """The SELECT method whose required params are pinned, the most specific first."""
    candidates = resource.methods_for("select")
    given = set(conditions)
    usable = [m for m in candidates if all(p.name in given for p in m.required)]
    if usable:
        return max(usable, key=lambda m: len(m.required))
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
