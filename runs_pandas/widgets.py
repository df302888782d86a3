"""Parameter forms: ipywidgets for a resource's or method's params, or a cell's placeholders.

A form only gathers values and writes a statement of `:placeholders`; running it is one call
to `runs_pandas.engine.query()`, so a form can do nothing a query cannot, and no value is
ever pasted into SQL text.

    >>> runs_pandas.form("airplane.runs.runs")
    >>> runs_pandas.form("airplane.runs.runs.cancelRun")
"""

from __future__ import annotations

import html
import json
import keyword
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import ipywidgets as w
import pandas as pd
from sqlglot import exp
from traitlets import TraitError

from runs_pandas import engine, render
from runs_pandas.catalog import Method, Param, Resource, catalog
from runs_pandas.errors import IncompleteFetchError, RunsError, UnknownResourceError
from runs_pandas.session import Session, default_session
from runs_pandas.sql.read import placeholder_params

__all__ = ["FieldSpec", "Form", "forget", "form", "sql_form"]

BODY = "__body"  # the placeholder that carries an EXEC's @@json body
PLACEHOLDERS = ":placeholders"  # memory key shared by every SQL form, per placeholder name
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_STYLE = {"description_width": "170px"}
_WIDTH = "520px"

# Values last used, per form target (or PLACEHOLDERS), then per field name: a new form for
# the same target, or a placeholder of the same name, starts with them.
_MEMORY: dict[str, dict[str, Any]] = {}

Build = Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: its name, the param that types it, and its `:placeholder`."""

    name: str
    param: Param | None
    required: bool
    placeholder: str
    in_body: bool = False  # goes in the EXEC's @@json body (PATCH methods)


# ---------------------------------------------------------------------------- entry points


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


# ---------------------------------------------------------------------------- the form


class Form:
    """An ipywidgets form: fields, a Run button, a dry-run switch and an output area.

    `run()` (what the button does) checks required fields, then calls `query()` once; the
    DataFrame goes to `namespace[result_name]` and `.value`, an error's message to `.error`.
    """

    def __init__(
        self,
        title: str,
        specs: list[FieldSpec],
        build: Build,
        *,
        session: Session | None = None,
        result: str = "result",
        namespace: dict[str, Any] | None = None,
        memory: str = PLACEHOLDERS,
    ) -> None:
        self.session = session
        self.specs: dict[str, FieldSpec] = {s.name: s for s in specs}
        self.namespace: dict[str, Any] = namespace if namespace is not None else _user_namespace()
        self.value: pd.DataFrame | None = None
        self.error: str | None = None
        self._build = build
        self._memory = memory
        self.fields: dict[str, w.Widget] = {s.name: _widget(s) for s in specs}
        self.toggles: dict[str, w.Checkbox] = {
            s.name: _toggle(self.fields[s.name]) for s in specs if _needs_toggle(s)
        }
        self._prefill(_MEMORY.get(memory, {}))
        self.result_name = w.Text(
            value=result, description="store as", layout=w.Layout(width="220px")
        )
        self.result_name.style.description_width = "60px"
        self.dry_run = w.Checkbox(
            value=False,
            description="dry run",
            indent=False,
            layout=w.Layout(width="90px"),
            tooltip="show the requests that would be sent; send nothing",
        )
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.run_button.on_click(lambda _button: self.run())
        self.output = w.Output()
        controls = w.HBox([self.run_button, self.dry_run, self.result_name])
        self.box = w.VBox([w.HTML(title), *self._rows(), controls, self.output])

    # -- what a notebook shows

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        cast(Any, display)(self.box)  # IPython's display is untyped

    def __repr__(self) -> str:
        return f"Form({self.sql!r})"

    # -- values and statement

    def values(self) -> dict[str, Any]:
        """Current values as they are sent (date-times as RFC 3339 UTC); empty ones dropped."""
        return {name: _wire(value) for name, value in self._entered().items()}

    @property
    def sql(self) -> str:
        """The statement Run sends for the current values (placeholders only, no values)."""
        return self._build(self.values())[0]

    def run(self) -> pd.DataFrame | None:
        """Check the fields, run the statement, show and store the result (what Run does)."""
        self._clear()
        name = self.result_name.value.strip()
        if not (name.isidentifier() and not keyword.iskeyword(name)):
            self._fail(f"{name!r} is not a valid Python variable name; change 'store as'.")
            return None
        self._remember()
        values = self.values()
        missing = [s.name for s in self.specs.values() if s.required and s.name not in values]
        if missing:
            self._fail(
                f"Fill in the required field(s) marked *: {', '.join(missing)}. Nothing was run."
            )
            return None
        sql, params = self._build(values)
        self.run_button.disabled = True
        try:
            # in a kernel, progress bars and any unexpected traceback land in the output area
            with self.output:
                return self._query(sql, params, name)
        finally:
            self.run_button.disabled = False

    # -- internals

    def _query(self, sql: str, params: dict[str, Any], name: str) -> pd.DataFrame | None:
        session = self.session or default_session()
        dry_run = bool(self.dry_run.value)
        try:
            frame = engine.query(sql, params, session, dry_run=dry_run)
        except IncompleteFetchError as exc:
            self._fail(render.error_message(exc, kept=name))
            self._store(exc.frame, name, session)
            return exc.frame
        except RunsError as exc:
            self._fail(render.error_message(exc))
            return None
        if dry_run:
            self._say(f"dry run: {len(frame)} request(s) would be sent; nothing was sent.")
            self._show(frame, session, full_width=True)
            return frame
        self._store(frame, name, session)
        return frame

    def _store(self, frame: pd.DataFrame, name: str, session: Session) -> None:
        self.value = frame
        self.namespace[name] = frame
        self._say(f"{len(frame)} row(s) stored in `{name}`.")
        self._show(frame, session)

    def _entered(self) -> dict[str, Any]:
        """Widget values as entered (datetimes as datetimes), empty or unticked ones dropped."""
        found = {}
        for name, widget in self.fields.items():
            if name in self.toggles and not self.toggles[name].value:
                continue
            value = _read(widget)
            if value is not None:
                found[name] = value
        return found

    def _remember(self) -> None:
        memory = _MEMORY.setdefault(self._memory, {})
        entered = self._entered()
        for name in self.fields:
            if name in entered:
                memory[name] = entered[name]
            else:
                memory.pop(name, None)

    def _prefill(self, remembered: Mapping[str, Any]) -> None:
        for name, spec in self.specs.items():
            value = remembered.get(name, spec.param.default if spec.param is not None else None)
            if value is not None and _set(self.fields[name], value) and name in self.toggles:
                self.toggles[name].value = True

    def _rows(self) -> list[w.Widget]:
        return [
            w.HBox([widget, self.toggles[name]]) if name in self.toggles else widget
            for name, widget in self.fields.items()
        ]

    def _clear(self) -> None:
        self.error = None
        self.output.outputs = ()

    def _fail(self, message: str) -> None:
        self.error = message
        self.output.append_stderr(message + "\n")

    def _say(self, text: str) -> None:
        self.output.append_stdout(text + "\n")

    def _show(self, frame: pd.DataFrame, session: Session, *, full_width: bool = False) -> None:
        bundle = render.bundle(frame, session.settings.display_limit, full_width=full_width)
        self.output.outputs += ({"output_type": "display_data", "data": bundle, "metadata": {}},)


# ---------------------------------------------------------------------------- targets and fields


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
    """Required params of the main list method: the resource's first SELECT method."""
    methods = resource.methods_for("select")
    return {p.name for p in methods[0].required} if methods else set()


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


# ---------------------------------------------------------------------------- widgets


def _widget(spec: FieldSpec) -> w.Widget:
    """The widget that fits a field's param: text, integer, checkbox, date-time or choice."""
    param = spec.param
    label = spec.name + (" *" if spec.required else "")
    common: dict[str, Any] = {"description": label, "tooltip": _tooltip(spec), "style": _STYLE}
    if param is None:
        return w.Text(placeholder="text", layout=w.Layout(width=_WIDTH), **common)
    if param.enum:
        return _choice(param, spec.required, common)
    if param.type == "integer":
        return _integer(param, common)
    if param.type == "boolean":
        if spec.required:
            return w.Checkbox(value=False, indent=False, **common)
        return w.Dropdown(
            options=[("(unset)", None), ("true", True), ("false", False)], value=None, **common
        )
    if param.type == "datetime":
        common["description"] = label + " (UTC)"
        return w.NaiveDatetimePicker(value=None, **common)
    return w.Text(placeholder=_hint(param), layout=w.Layout(width=_WIDTH), **common)


def _choice(param: Param, required: bool, common: dict[str, Any]) -> w.Dropdown:
    options: list[tuple[str, str | None]] = [(v, v) for v in param.enum]
    if not required or param.default is None:
        options.insert(0, ("", None))
    return w.Dropdown(options=options, value=options[0][1], **common)


def _integer(param: Param, common: dict[str, Any]) -> w.Widget:
    if param.minimum is None and param.maximum is None:
        return w.IntText(value=0, **common)
    low = _INT_MIN if param.minimum is None else param.minimum
    high = _INT_MAX if param.maximum is None else param.maximum
    return w.BoundedIntText(value=min(max(0, low), high), min=low, max=high, **common)


def _needs_toggle(spec: FieldSpec) -> bool:
    """An optional integer needs a 'send' tick: an integer box cannot be empty."""
    return (
        spec.param is not None
        and spec.param.type == "integer"
        and not spec.param.enum
        and not spec.required
    )


def _toggle(widget: w.Widget) -> w.Checkbox:
    """A 'send' tick beside an integer box; editing the number ticks it."""
    tick = w.Checkbox(
        value=False,
        description="send",
        indent=False,
        layout=w.Layout(width="80px"),
        tooltip="untick to leave this parameter out",
    )
    widget.observe(lambda _change: setattr(tick, "value", True), names="value")
    return tick


def _tooltip(spec: FieldSpec) -> str:
    param = spec.param
    if param is None:
        return f":{spec.name} (text)"
    text = param.description or param.name
    if param.type == "datetime":
        text += " Entered in UTC."
    if param.default is not None:
        text += f" Default: {param.default}."
    return text


def _hint(param: Param) -> str:
    """Placeholder text of a string field: its length and pattern rules, else its description."""
    rules = []
    if param.min_length is not None or param.max_length is not None:
        rules.append(f"{param.min_length or 0}-{param.max_length or '...'} chars")
    if param.pattern:
        rules.append(param.pattern)
    text = ", ".join(rules) or param.description
    return text if len(text) <= 70 else text[:67] + "..."


def _read(widget: w.Widget) -> Any:
    """A widget's value, or None when it is empty."""
    value = widget.value
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _set(widget: w.Widget, value: Any) -> bool:
    """Prefill a widget; a remembered value of another type is skipped, not an error."""
    try:
        widget.value = value
    except (TraitError, TypeError, ValueError):
        return False
    return True


def _wire(value: Any) -> Any:
    """A value as it is bound: a date-time as RFC 3339 UTC (`2024-05-01T00:00:00Z`)."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
        return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value


# ---------------------------------------------------------------------------- display


def _user_namespace() -> dict[str, Any]:
    """IPython's user namespace when running in IPython, else a dict of the form's own."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}
