"""What a form is for: the resource or method a target names, its fields, and the statement
it writes (`SELECT ... WHERE p = :p`, `EXEC r.M @p=:p`); the main method is the planner's."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from runs_pandas.catalog import Method, Param, Resource, catalog
from runs_pandas.errors import RunsError, UnknownResourceError
from runs_pandas.sql.plan import choose_method
from runs_pandas.widgets.fields import FieldSpec
from runs_pandas.widgets.form import Build

BODY = "__body"  # the placeholder that carries an EXEC's @@json body


def _target(target: str) -> tuple[Resource, Method | None]:
    """The resource a target names, and its method when the target names one."""
    name = target.strip()
    known = catalog().resources
    if name.lower() in known:
        return known[name.lower()], None
    resource_id, _, method_name = name.rpartition(".")
    if resource_id.lower() not in known:
        catalog().resource(name)  # raises, naming the closest resource
    resource = known[resource_id.lower()]
    method = resource.method(method_name)
    if method is None:
        raise UnknownResourceError(
            f"{resource.id} has no method {method_name!r}; its methods are: "
            f"{', '.join(m.name for m in resource.methods)}"
        )
    return resource, method


def _select_params(resource: Resource) -> list[Param]:
    """The params of every SELECT method, each name once, the main method's required first."""
    methods = resource.methods_for("select")
    main = set(_main_required(resource))
    every: dict[str, Param] = {}
    for method in methods:
        for param in method.params:
            every.setdefault(param.name, param)
    return sorted(every.values(), key=lambda p: p.name not in main)


def _main_required(resource: Resource) -> set[str]:
    """Required params of the main method: the one the planner picks for the smallest query.

    That is `choose_method` given only a method's required params, trying the methods that
    need fewest first, so the form's starred fields are what a `SELECT` really needs.
    """
    for method in sorted(resource.methods_for("select"), key=lambda m: len(m.required)):
        try:
            chosen = choose_method(resource, {p.name: [None] for p in method.required})
        except RunsError:
            continue
        return {p.name for p in chosen.required}
    return set()


def _specs(params: list[Param], required: set[str], *, method: Method | None) -> list[FieldSpec]:
    names = _placeholder_names([p.name for p in params])
    in_body = method is not None and method.body == "json"
    ordered = sorted(params, key=lambda p: p.name not in required)
    return [
        FieldSpec(p.name, p, p.name in required, names[p.name], in_body and p.location == "body")
        for p in ordered
    ]


def _placeholder_names(names: list[str]) -> dict[str, str]:
    """A `:placeholder` name per param: `$top` -> `top`, `api-version` -> `api_version`."""
    found: dict[str, str] = {}
    for name in names:
        base = re.sub(r"\W+", "_", name).strip("_") or "param"
        base = f"p_{base}" if base[0].isdigit() else base
        candidate, n = base, 2
        while candidate in found.values() or candidate == BODY:
            candidate, n = f"{base}_{n}", n + 1
        found[name] = candidate
    return found


def _select_statement(resource_id: str, specs: list[FieldSpec]) -> Build:
    """`SELECT * FROM resource WHERE p = :p AND ...` over the fields that have a value."""

    def build(values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        given = [s for s in specs if s.name in values]
        where = " AND ".join(f"{_column(s.name)} = :{s.placeholder}" for s in given)
        sql = f"SELECT * FROM {resource_id}" + (f" WHERE {where}" if where else "")
        return sql, {s.placeholder: values[s.name] for s in given}

    return build


def _exec_statement(resource_id: str, method: Method, specs: list[FieldSpec]) -> Build:
    """`EXEC resource.Method @p=:p, ... [@@json=:__body]` over the fields that have a value."""

    def build(values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        args = [s for s in specs if s.name in values and not s.in_body]
        parts = [f"@{_exec_name(s.name)}=:{s.placeholder}" for s in args]
        params = {s.placeholder: values[s.name] for s in args}
        body = {s.name: values[s.name] for s in specs if s.name in values and s.in_body}
        if body:
            parts.append(f"@@json=:{BODY}")
            params[BODY] = json.dumps(body)
        return f"EXEC {resource_id}.{method.name} {', '.join(parts)}".rstrip(), params

    return build


def _column(name: str) -> str:
    """A column name as DuckDB reads it, double-quoted when needed (`"$top"`, `"limit"`)."""
    return exp.to_identifier(name).sql("duckdb")


def _exec_name(name: str) -> str:
    """An EXEC argument name: bare when it is an identifier, else `"api-version"`."""
    return name if name.isidentifier() else '"' + name.replace('"', '""') + '"'


def _title(name: str, description: str) -> str:
    text = f"<b>{html.escape(name)}</b>"
    return text + (f" &mdash; {html.escape(description)}" if description else "")
