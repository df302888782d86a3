"""The form: fields, a Run button, a dry-run switch and an output area over one `query()`."""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from typing import Any, cast

import ipywidgets as w
import pandas as pd

from runs_pandas import engine, render
from runs_pandas.errors import IncompleteFetchError, RunsError
from runs_pandas.progress import shown_in
from runs_pandas.session import Session, default_session
from runs_pandas.widgets.fields import (
    FieldSpec,
    _needs_toggle,
    _read,
    _set,
    _toggle,
    _widget,
    _wire,
)

PLACEHOLDERS = ":placeholders"  # memory key shared by every SQL form, per placeholder name

# Values last used, per form target (or PLACEHOLDERS), then per field name: a new form for
# the same target, or a placeholder of the same name, starts with them.
_MEMORY: dict[str, dict[str, Any]] = {}

Build = Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]]


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
        # the form's own progress line: shown while Run fetches, hidden (never closed) after,
        # so no output ever points at a widget model that is gone
        self.progress = w.HTML(value="", layout=w.Layout(display="none"))
        self.progress.add_class("runs-pandas-progress-widget")
        controls = w.HBox([self.run_button, self.dry_run, self.result_name])
        self.box = w.VBox([w.HTML(title), *self._rows(), controls, self.progress, self.output])

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
            # progress goes to the form's own widget; any unexpected traceback to the output area
            with shown_in(_WidgetView(self.progress)), self.output:
                return self._query(sql, params, name)
        finally:
            self.run_button.disabled = False
            self.progress.value = ""
            self.progress.layout.display = "none"

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
            # a catalog default fills the box but leaves its 'send' tick off: the request
            # sends the default anyway, so the query's SQL need not name it
            if value is not None and _set(self.fields[name], value) and name in self.toggles:
                self.toggles[name].value = name in remembered

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


class _WidgetView:
    """Draws a fetch's progress in the form's progress widget (a `progress.View`)."""

    def __init__(self, widget: w.HTML) -> None:
        self.widget = widget

    def show(self, text: str, markup: str) -> None:
        self.widget.value = markup
        self.widget.layout.display = None

    def hide(self) -> None:
        self.widget.value = ""
        self.widget.layout.display = "none"


def _user_namespace() -> dict[str, Any]:
    """IPython's user namespace when running in IPython, else a dict of the form's own."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}
