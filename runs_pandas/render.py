"""One renderer for results and errors, used by the magic, the forms, the CLI and the demo.

A result of `query()` displays as its first rows and a footer (rows, requests, time, and
whether the display was cut); HTML for notebooks, text for the terminal. A `RunsError`
becomes one message a surface shows as it must (magic: `UsageError`, CLI: stderr and exit
code 1, form: a line in its output area).
"""

from __future__ import annotations

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
    parts = [f"{len(frame):,} rows"]
    if "requests" in info:
        parts.append(f"{info['requests']:,} requests")
    if "seconds" in info:
        parts.append(f"{info['seconds']:.2f} s")
    if len(frame) > shown:
        parts.append(f"showing the first {shown} (display truncated; the whole frame is kept)")
    return " · ".join(parts)


def frame_html(frame: pd.DataFrame, limit: int | None = None, *, full_width: bool = False) -> str | None:
    """HTML for a result: the first rows, then the footer; None for a frame not from query().

    `full_width` shows long cells whole (a dry run's URLs are what the user wants to read).
    """
    if result_info(frame) is None:
        return None
    shown = display_limit(frame, limit)
    width = None if full_width else pd.get_option("display.max_colwidth")
    with pd.option_context(
        "display.max_rows", shown + 1, "display.max_columns", 200, "display.max_colwidth", width
    ):
        table = frame.head(shown).to_html(max_rows=shown + 1, notebook=True, border=0)
    return str(table) + f'<p class="runs-pandas-footer"><small>{html.escape(footer(frame, limit))}</small></p>'


def frame_text(frame: pd.DataFrame, limit: int | None = None, *, full_width: bool = False) -> str:
    """Terminal text for a frame: the first rows and, for a result of query(), the footer."""
    width = None if full_width else pd.get_option("display.max_colwidth")
    if result_info(frame) is None:
        with pd.option_context("display.max_colwidth", width):
            return repr(frame)
    shown = display_limit(frame, limit)
    with pd.option_context(
        "display.max_rows", shown + 1, "display.max_columns", 30, "display.width", 160,
        "display.max_colwidth", width,
    ):
        text = frame.head(shown).to_string()
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
    shown = frame if limit is None else frame.head(limit)
    with pd.option_context("display.max_columns", 30, "display.width", 200, "display.max_colwidth", 60):
        text = str(shown.to_string(index=False)) if len(shown.columns) else "(no columns)"
    if limit is not None and len(frame) > limit:
        text += f"\n... {len(frame) - limit} more rows ({len(frame)} in all)"
    return text


def error_message(exc: RunsError, *, kept: str | None = None) -> str:
    """What a surface shows for a RunsError: its message, and where a partial result went."""
    message = str(exc)
    if isinstance(exc, IncompleteFetchError) and kept:
        message += f"\nThe partial result is kept in the variable {kept!r}."
    return message
