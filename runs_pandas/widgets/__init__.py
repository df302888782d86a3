"""Parameter forms: ipywidgets for a resource's or method's params, or a cell's placeholders.

A form only gathers values and writes a statement of `:placeholders`; running it is one call
to `runs_pandas.engine.query()`, so a form can do nothing a query cannot, and no value is
ever pasted into SQL text.

    >>> runs_pandas.form("airplane.runs.runs")
    >>> runs_pandas.form("airplane.runs.runs.cancelRun")
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from runs_pandas.catalog import catalog
from runs_pandas.session import Session
from runs_pandas.sql.read import placeholder_params
from runs_pandas.widgets.fields import FieldSpec
from runs_pandas.widgets.fields import _wire as _wire  # what a value is sent as (tests use it)
from runs_pandas.widgets.form import _MEMORY, PLACEHOLDERS, Form
from runs_pandas.widgets.targets import (
    _exec_statement,
    _main_required,
    _select_params,
    _select_statement,
    _specs,
    _target,
    _title,
)

__all__ = ["FieldSpec", "Form", "forget", "form", "sql_form"]


def form(
    target: str,
    *,
    session: Session | None = None,
    result: str = "result",
    namespace: dict[str, Any] | None = None,
) -> Form:
    """A form for a resource's SELECT params or for one method's params, with a Run button.

    `target` is a resource id (`databricks_workspace.cleanrooms.task_runs`) or a method
    (`azure.container_registry.runs.Runs_Cancel`).
    """
    resource, method = _target(target)
    if method is None:
        specs = _specs(_select_params(resource), _main_required(resource), method=None)
        build = _select_statement(resource.id, specs)
        title = _title(resource.id, resource.description)
        key = resource.id
    else:
        specs = _specs(list(method.params), {p.name for p in method.required}, method=method)
        is_exec = "exec" in method.access
        build = (
            _exec_statement(resource.id, method, specs)
            if is_exec
            else _select_statement(resource.id, specs)
        )
        title = _title(f"{resource.id}.{method.name}", method.description)
        key = f"{resource.id}.{method.name}".lower()
    return Form(
        title, specs, build, session=session, result=result, namespace=namespace, memory=key
    )


def sql_form(
    sql: str,
    *,
    session: Session | None = None,
    result: str = "result",
    namespace: dict[str, Any] | None = None,
) -> Form:
    """A form with one field per `:name` placeholder of `sql` (what `%%runsql --form` shows).

    A placeholder bound to a method param gets that param's widget; any other is a text field.
    """
    specs = [
        FieldSpec(name, param, required=True, placeholder=name)
        for name, param in placeholder_params(sql, catalog()).items()
    ]

    def build(values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return sql, {s.placeholder: values[s.name] for s in specs if s.name in values}

    title = f"<pre style='margin:0'>{html.escape(sql.strip())}</pre>"
    return Form(
        title,
        specs,
        build,
        session=session,
        result=result,
        namespace=namespace,
        memory=PLACEHOLDERS,
    )


def forget() -> None:
    """Forget every remembered form value (they are kept for the rest of the session)."""
    _MEMORY.clear()
