"""The fields of a form: one ipywidget per param, typed by the catalog, and its value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w
from traitlets import TraitError

from runs_pandas.catalog import Param

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_STYLE = {"description_width": "170px"}
_WIDTH = "520px"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form: its name, the param that types it, and its `:placeholder`."""

    name: str
    param: Param | None
    required: bool
    placeholder: str
    in_body: bool = False  # goes in the EXEC's @@json body (PATCH methods)


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
