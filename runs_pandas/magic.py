"""`%%runsql` / `%runsql`: a thin adapter over `query()`. It parses its arguments, calls
`query()`, and displays; nothing more.

    %%runsql failed <<
    SELECT * FROM airplane.runs.runs WHERE status = 'Failed'

    df = %runsql SELECT status, count(*) FROM airplane.runs.runs GROUP BY 1

Settings live on the `RunsSql` configurable: `%config RunsSql` lists them.
"""

from __future__ import annotations

import html
import re
import shlex
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope
from traitlets import Bool, Float, Int, observe

from runs_pandas.errors import IncompleteFetchError, RunsError
from runs_pandas.session import Session, default_session
from runs_pandas.sql.read import placeholders

PARTIAL = "_runsql_partial"


@magics_class
class RunsSql(Magics):
    """Run runs_pandas SQL in a cell; settings via `%config RunsSql.<name> = value`."""

    display_limit = Int(50, help="Rows displayed for a result (the whole frame is kept).").tag(config=True)
    concurrency = Int(32, help="Requests in flight at once.").tag(config=True)
    timeout = Float(30.0, help="Seconds to wait for one response.").tag(config=True)
    retries = Int(4, help="Extra tries for 429, 502-504 and dropped connections.").tag(config=True)
    cache_ttl = Float(0.0, help="Seconds a fetched page series is reused (0 = off).").tag(config=True)
    progress = Bool(True, help="Show a progress bar on long fetches.").tag(config=True)
    sandbox = Bool(False, help="Query the offline sandbox APIs instead of the clouds.").tag(config=True)

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self._sandbox_session: Session | None = None
        self._apply()

    @observe("display_limit", "concurrency", "timeout", "retries", "cache_ttl", "progress")
    def _changed(self, change: Any) -> None:
        self._apply()

    def _apply(self) -> None:
        for session in {id(s): s for s in (default_session(), self._sandbox_session) if s}.values():
            settings = session.settings
            settings.display_limit = self.display_limit
            settings.concurrency = self.concurrency
            settings.timeout = self.timeout
            settings.retries = self.retries
            settings.cache_ttl = self.cache_ttl
            settings.progress = self.progress

    def session(self, sandbox: bool) -> Session:
        if not (sandbox or self.sandbox):
            return default_session()
        if self._sandbox_session is None:
            self._sandbox_session = Session(sandbox=True)
            self._apply()
        return self._sandbox_session

    @needs_local_scope
    @line_cell_magic
    def runsql(self, line: str, cell: str | None = None, local_ns: dict[str, Any] | None = None) -> Any:
        """Run SQL over provider runs; the result is a pandas DataFrame.

        %%runsql [name <<] [--sandbox] [--dry-run] [--form] [--limit N] [--no-display]
        """
        assert self.shell is not None, "the magic runs inside IPython"
        shell = self.shell
        self._apply()  # the default session may have been replaced since %config
        options, sql = parse_line(line, cell)
        if not sql.strip():
            raise UsageError("%runsql needs a SQL statement, e.g. %runsql SHOW PROVIDERS")
        namespace = {**shell.user_ns, **(local_ns or {})}
        session = self.session(options["sandbox"])
        if options["form"]:
            from runs_pandas.widgets import sql_form

            target = options["name"] or "result"
            return sql_form(sql, session=session, result=target, namespace=shell.user_ns)
        params = {name: namespace[name] for name in placeholders(sql) if name in namespace}
        missing = [name for name in placeholders(sql) if name not in namespace]
        if missing:
            raise UsageError(
                f"no variable for placeholder(s) {', '.join(':' + m for m in missing)}: "
                f"define them in the notebook first"
            )
        from runs_pandas.engine import query

        try:
            frames = {k: v for k, v in namespace.items() if isinstance(v, pd.DataFrame) and not k.startswith("_")}
            frame = query(sql, params, session, dry_run=options["dry_run"], frames=frames)
        except IncompleteFetchError as exc:
            keep = options["name"] or PARTIAL
            shell.user_ns[keep] = exc.frame
            raise UsageError(f"{exc}\nThe partial result is kept in the variable {keep!r}.") from None
        except RunsError as exc:
            raise UsageError(str(exc)) from None
        if options["limit"] is not None:
            frame.attrs.setdefault("runs_pandas", {})["display_limit"] = options["limit"]
        if options["name"]:
            shell.user_ns[options["name"]] = frame
            return None
        if options["no_display"]:
            return None
        return frame


def parse_line(line: str, cell: str | None) -> tuple[dict[str, Any], str]:
    """Options of the magic's first line, and the SQL (the cell, or the rest of the line)."""
    options: dict[str, Any] = {
        "name": None, "sandbox": False, "dry_run": False, "form": False,
        "limit": None, "no_display": False,
    }
    try:
        words = shlex.split(line, posix=True) if cell is not None else shlex.split(_option_prefix(line))
    except ValueError as exc:
        raise UsageError(f"cannot read the %runsql options: {exc}") from None
    rest: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--sandbox":
            options["sandbox"] = True
        elif word in ("--dry-run", "--dry_run"):
            options["dry_run"] = True
        elif word == "--form":
            options["form"] = True
        elif word == "--no-display":
            options["no_display"] = True
        elif word == "--limit":
            index += 1
            if index >= len(words) or not words[index].isdigit():
                raise UsageError("--limit takes a number of rows, e.g. --limit 20")
            options["limit"] = int(words[index])
        elif word.startswith("--"):
            raise UsageError(
                f"unknown option {word}; options are --sandbox, --dry-run, --form, --limit N, --no-display"
            )
        else:
            rest.append(word)
        index += 1
    if cell is not None:
        if len(rest) == 2 and rest[1] == "<<" and rest[0].isidentifier():
            options["name"] = rest[0]
        elif rest:
            raise UsageError(
                f"cannot read {' '.join(rest)!r} on the %%runsql line: write '%%runsql name <<' to "
                f"keep the result in a variable"
            )
        return options, cell
    return options, line[len(_option_prefix(line)):]


_LEADING_OPTIONS = re.compile(r"\s*(?:(?:--limit\s+\S+|--\S+)\s*)*")


def _option_prefix(line: str) -> str:
    """The leading `--option`s of a line magic (the SQL follows them)."""
    match = _LEADING_OPTIONS.match(line)
    return line[: match.end()] if match else ""


def _result_info(frame: pd.DataFrame) -> dict[str, Any] | None:
    """The query facts of a frame straight from query(); None for frames derived from it."""
    info = frame.attrs.get("runs_pandas")
    if not isinstance(info, dict) or tuple(info.get("shape", ())) != frame.shape:
        return None
    return info


def frame_html(frame: pd.DataFrame) -> str | None:
    """HTML for a result: the first rows, then rows / requests / time, and whether cut."""
    info = _result_info(frame)
    if info is None:
        return None
    limit = int(info.get("display_limit") or default_session().settings.display_limit)
    shown = frame.head(limit)
    with pd.option_context("display.max_rows", limit + 1, "display.max_columns", 200):
        table = shown.to_html(max_rows=limit + 1, notebook=True, border=0)
    return table + f'<p class="runs-pandas-footer"><small>{html.escape(footer(frame))}</small></p>'


def frame_text(frame: pd.DataFrame, printer: Any, cycle: bool) -> None:
    """Plain-text display (terminal IPython) with the same footer."""
    info = _result_info(frame)
    if info is None:
        printer.text(repr(frame))
        return
    limit = int(info.get("display_limit") or default_session().settings.display_limit)
    with pd.option_context("display.max_rows", limit + 1, "display.max_columns", 30, "display.width", 160):
        printer.text(frame.head(limit).to_string())
    printer.text("\n" + footer(frame))


def footer(frame: pd.DataFrame) -> str:
    info = frame.attrs.get("runs_pandas", {})
    limit = int(info.get("display_limit") or default_session().settings.display_limit)
    parts = [f"{len(frame):,} rows"]
    if "requests" in info:
        parts.append(f"{info['requests']:,} requests")
    if "seconds" in info:
        parts.append(f"{info['seconds']:.2f} s")
    if len(frame) > limit:
        parts.append(f"showing the first {limit} (display truncated; the whole frame is kept)")
    return " · ".join(parts)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics and the result display (HTML in Jupyter, text in a terminal)."""
    ipython.register_magics(RunsSql(ipython))
    from runs_pandas.completion import install

    install(ipython)
    if ipython.display_formatter is None:
        return
    html_formatter = ipython.display_formatter.formatters["text/html"]
    default_html = html_formatter.lookup_by_type(pd.DataFrame) if pd.DataFrame in html_formatter.type_printers else None

    def as_html(frame: pd.DataFrame) -> str | None:
        rendered = frame_html(frame)
        if rendered is not None:
            return rendered
        return default_html(frame) if default_html else frame._repr_html_()

    html_formatter.for_type(pd.DataFrame, as_html)
    text_formatter = ipython.display_formatter.formatters["text/plain"]
    text_formatter.for_type(pd.DataFrame, frame_text)
