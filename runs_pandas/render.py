"""One renderer for results and errors, used by the magic, the forms, the CLI and the demo.

A result of `query()` displays as its first rows and a footer (rows, requests, time, and
whether the display was cut); HTML for notebooks, text for the terminal. Display only (the
frame's values are unchanged): times to the second in the local time zone, durations as
`4m16s`, blanks for missing values, and `$` kept from MathJax (`$filter` is not maths). A `RunsError`
becomes one message a surface shows as it must (magic: `UsageError`, CLI: stderr and exit
code 1, form: a line in its output area).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pandas as pd

from runs_pandas.errors import IncompleteFetchError, RunsError

#: exit codes of the CLI: 0 ok, 1 a runs_pandas error, 2 bad usage (argparse's own)
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def result_info(frame: pd.DataFrame) -> dict[str, Any] | None:
    """The query facts of a frame straight from query(); None for frames derived from it."""
    info = frame.attrs.get("runs_pandas")
    if not isinstance(info, dict) or tuple(info.get("shape", ())) != frame.shape:
        return None
    return info


def display_limit(frame: pd.DataFrame, default: int | None = None) -> int:
    """Rows shown: the frame's own limit (`--limit`), else `default`, else the session's."""
    info = frame.attrs.get("runs_pandas")
    limit = info.get("display_limit") if isinstance(info, dict) else None
    if limit:
        return int(limit)
    if default is not None:
        return default
    from runs_pandas.session import default_session

    return int(default_session().settings.display_limit)


def footer(frame: pd.DataFrame, limit: int | None = None) -> str:
    """`1,234 rows · 3 requests · 0.41 s · showing the first 50 (...)`."""
    info = frame.attrs.get("runs_pandas")
    info = info if isinstance(info, dict) else {}
    shown = display_limit(frame, limit)
    if info.get("dry_run"):
        parts = [f"dry run: {len(frame):,} request(s) would be sent; nothing was sent"]
    else:
        parts = [f"{len(frame):,} rows"]
    if "requests" in info and not info.get("dry_run"):
        parts.append(f"{info['requests']:,} requests")
    if "seconds" in info:
        parts.append(f"{info['seconds']:.2f} s")
    if any(_is_time(frame[c]) for c in frame.columns):
        parts.append(f"times in {_zone_name()}")
    if len(frame) > shown:
        parts.append(f"showing the first {shown} (display truncated; the whole frame is kept)")
    return " · ".join(parts)


def frame_html(frame: pd.DataFrame, limit: int | None = None, *, full_width: bool = False) -> str | None:
    """HTML for a result: the first rows, then the footer; None for a frame not from query().

    `full_width` shows long cells whole (a dry run's URLs are what the user wants to read).
    """
    info = result_info(frame)
    if info is None:
        return None
    shown = display_limit(frame, limit)
    width = None if full_width or _whole(info) else pd.get_option("display.max_colwidth")
    with pd.option_context(
        "display.max_rows", shown + 1, "display.max_columns", 200, "display.max_colwidth", width
    ):
        table = shown_values(frame.head(shown)).to_html(
            max_rows=shown + 1, notebook=True, border=0, na_rep=""
        )
    # MathJax (JupyterLab, VS Code) reads `$...$` in output text as maths: not in a table
    table = str(table).replace("$", "&#36;")
    note = html.escape(footer(frame, limit)).replace("$", "&#36;")
    return (
        f'<div class="runs-pandas-result tex2jax_ignore mathjax_ignore">{table}'
        f'<p class="runs-pandas-footer"><small>{note}</small></p></div>'
    )


def frame_text(frame: pd.DataFrame, limit: int | None = None, *, full_width: bool = False) -> str:
    """Terminal text for a frame: the first rows and, for a result of query(), the footer."""
    info = result_info(frame)
    width = None if full_width or (info is not None and _whole(info)) else pd.get_option("display.max_colwidth")
    if info is None:
        with pd.option_context("display.max_colwidth", width):
            return repr(frame)
    shown = display_limit(frame, limit)
    with pd.option_context(
        "display.max_rows", shown + 1, "display.max_columns", 30, "display.width", 160,
        "display.max_colwidth", width,
    ):
        text = shown_values(frame.head(shown)).to_string(na_rep="")
    return str(text) + "\n" + footer(frame, limit)


def bundle(frame: pd.DataFrame, limit: int, *, full_width: bool = False) -> dict[str, str]:
    """A display bundle (`text/plain` and `text/html`) for a form's output area."""
    markup = frame_html(frame, limit, full_width=full_width)
    if markup is None:
        width = None if full_width else pd.get_option("display.max_colwidth")
        with pd.option_context(
            "display.max_rows", limit, "display.min_rows", min(limit, 10), "display.max_colwidth", width
        ):
            markup = frame._repr_html_() or frame.to_html(max_rows=limit)
    return {"text/plain": frame_text(frame, limit, full_width=full_width), "text/html": markup}


def table(frame: pd.DataFrame, fmt: str = "table", limit: int | None = None) -> str:
    """A frame as the CLI prints it: a table, CSV or JSON (records, ISO dates)."""
    if fmt == "csv":
        return str(frame.to_csv(index=False)).rstrip("\n")
    if fmt == "json":
        return str(frame.to_json(orient="records", date_format="iso", date_unit="us") or "[]")
    shown = shown_values(frame if limit is None else frame.head(limit))
    with pd.option_context("display.max_columns", 30, "display.width", 200, "display.max_colwidth", 60):
        text = str(shown.to_string(index=False)) if len(shown.columns) else "(no columns)"
    if limit is not None and len(frame) > limit:
        text += f"\n... {len(frame) - limit} more rows ({len(frame)} in all)"
    return text


def shown_values(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` as displayed: times to the second in local time, durations as
    `4m16s`, missing values blank. Numbers stay numbers (pandas formats them)."""
    out = frame.copy()
    for index, name in enumerate(frame.columns):
        column = frame.iloc[:, index]
        if _is_time(column):
            local = column.dt.tz_convert(_zone()) if column.dt.tz is not None else column
            text = local.dt.strftime("%Y-%m-%d %H:%M:%S")
            out.isetitem(index, text.astype(object).where(column.notna(), ""))
        elif pd.api.types.is_timedelta64_dtype(column.dtype):
            out.isetitem(index, column.astype(object).map(duration_text))
        elif not pd.api.types.is_float_dtype(column.dtype):
            out.isetitem(index, column.astype(object).map(_cell))
    return out


def duration_text(value: Any) -> str:
    """`0 days 00:04:16` -> `4m16s`; `1h02m`, `3d4h`, `12s`, `0.4s`; blank when missing."""
    if value is None or (not isinstance(value, dt.timedelta) and pd.isna(value)):
        return ""
    seconds = pd.Timedelta(value).total_seconds()
    if pd.isna(seconds):
        return ""
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 10:
        return f"{sign}{seconds:.1f}s".replace(".0s", "s")
    whole = int(round(seconds))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m{secs:02d}s" if minutes else f"{sign}{secs}s"


def _cell(value: Any) -> Any:
    """A value as shown: missing (None, NaN, NaT, NA) as blank, anything else unchanged."""
    try:
        if value is None or (not isinstance(value, (list, dict, tuple)) and pd.isna(value)):
            return ""
    except (TypeError, ValueError):  # array-likes: shown as they are
        return value
    return value


def _is_time(column: pd.Series) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(column.dtype))


def _whole(info: dict[str, Any]) -> bool:
    """Catalog answers (SHOW, DESCRIBE) and dry runs show their cells whole (params, URLs)."""
    return bool(info.get("full_width") or info.get("dry_run"))


def _zone() -> dt.tzinfo:
    """The local time zone of the machine the notebook runs on."""
    zone = dt.datetime.now().astimezone().tzinfo
    return zone if zone is not None else dt.timezone.utc


def _zone_name() -> str:
    return dt.datetime.now(_zone()).tzname() or "UTC"


def error_message(exc: RunsError, *, kept: str | None = None) -> str:
    """What a surface shows for a RunsError: its message, and where a partial result went."""
    message = str(exc)
    if isinstance(exc, IncompleteFetchError) and kept:
        message += f"\nThe partial result is kept in the variable {kept!r}."
    return message
