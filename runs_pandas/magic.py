"""`%%runsql` / `%runsql`: a thin adapter over `query()`. It parses its arguments, calls
`query()`, and displays; nothing more.

    %%runsql failed <<
    SELECT * FROM airplane.runs.runs WHERE status = 'Failed'

    df = %runsql SELECT status, count(*) FROM airplane.runs.runs GROUP BY 1

Settings live on the `RunsSql` configurable, generated from `Settings`: `%config RunsSql`
lists them; `%runsql --help` lists the options.
"""

from __future__ import annotations

import difflib
import re
from argparse import Namespace
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pandas as pd
from IPython.core import magic_arguments as _args
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class, needs_local_scope
from traitlets import Bool, observe

from runs_pandas import render
from runs_pandas.errors import IncompleteFetchError, RunsError
from runs_pandas.magic_settings import SettingsTraits, setting_names
from runs_pandas.saved import counted, planned, saved_queries
from runs_pandas.session import Session, default_session
from runs_pandas.sql.placeholders import placeholders

_F = TypeVar("_F", bound=Callable[..., Any])


def magic_arguments() -> Callable[[_F], _F]:
    """IPython's `magic_arguments` decorator, typed."""
    return cast("Callable[[_F], _F]", cast(Any, _args.magic_arguments)())


def argument(*names: str, **options: Any) -> Callable[[_F], _F]:
    """One option of the magic (IPython's `argument`, typed)."""
    return cast("Callable[[_F], _F]", cast(Any, _args.argument)(*names, **options))


PARTIAL = "_runsql_partial"
WATCHED = "_runsql_watched"  # where --watch keeps its last result when no 'name <<' is given


@magics_class
class RunsSql(Magics, SettingsTraits):
    """Run runs_pandas SQL in a cell; settings via `%config RunsSql.<name> = value`."""

    sandbox = Bool(False, help="Query the offline sandbox APIs instead of the clouds.").tag(config=True)

    def __init__(self, shell: InteractiveShell) -> None:
        # set before the traits load IPython's config (which notifies `_changed`)
        self._sandbox_session: Session | None = None
        self._chosen: set[str] = set()  # assigned directly: the traits' validation fills it
        super().__init__(shell)
        self._apply()

    @observe(*setting_names())
    def _changed(self, change: Any) -> None:
        self._apply()

    def _apply(self) -> None:
        """Copy the settings chosen through `%config` (or IPython's config files) into the
        sessions in use; the default session may have been replaced since. A setting nobody
        chose here is left as the session has it (`Session(settings=...)` is not undone)."""
        configured = self.config["RunsSql"] if "RunsSql" in self.config else {}
        chosen = self._chosen | {name for name in setting_names() if name in configured}
        for session in {id(s): s for s in (default_session(), self._sandbox_session) if s}.values():
            for name in chosen:
                setattr(session.settings, name, getattr(self, name))

    def session(self, sandbox: bool) -> Session:
        if not (sandbox or self.sandbox):
            return default_session()
        if self._sandbox_session is None:
            self._sandbox_session = Session(sandbox=True)
            self._apply()
        return self._sandbox_session

    @magic_arguments()
    @argument("name", nargs="*", help="cell magic only: 'name <<' keeps the result in a variable")
    @argument("-h", "--help", action="store_true", help="show this help and run nothing")
    @argument("--sandbox", action="store_true", help="query the offline sandbox APIs")
    @argument("--dry-run", "--dry_run", action="store_true", dest="dry_run",
              help="show the requests that would be sent; send nothing")
    @argument("--explain", action="store_true",
              help="show per request series what is pushed to the API and what DuckDB filters; send nothing")
    @argument("--form", action="store_true",
              help="show a form with a field per :placeholder instead of running")
    @argument("--source", choices=("live", "store", "sync"), default=None,
              help="answer a SELECT live, from the run store (no request), or sync then store; "
                   "default: %%config RunsSql.source")
    @argument("--sync", action="store_true",
              help="sync what the SELECT fetches into the run store; the result is the sync report")
    @argument("--limit", type=int, metavar="N", help="rows displayed (the whole frame is kept)")
    @argument("--no-display", action="store_true", dest="no_display",
              help="run but display nothing (the result is still returned)")
    @argument("--save", metavar="NAME", help="keep this SELECT as NAME: later queries read it as a table")
    @argument("--no-execute", action="store_true", dest="no_execute", help="with --save: save only, run nothing")
    @argument("--with", action="append", default=[], dest="with_", metavar="NAME",
              help="run the saved query NAME for this query (also done when FROM/JOIN names it)")
    @argument("--list-saved", action="store_true", dest="list_saved", help="list the saved queries")
    @argument("--watch", metavar="INTERVAL",
              help="rerun every INTERVAL (30s, 2m) updating one display, until no run is active")
    @argument("--watch-max", type=int, dest="watch_max", metavar="N", help="with --watch: stop after N runs")
    @argument("--timeline", action="store_true", help="also draw the runs' timeline (with --watch: updated)")
    @needs_local_scope
    @line_cell_magic
    def runsql(self, line: str, cell: str | None = None, local_ns: dict[str, Any] | None = None) -> Any:
        """Run SQL over provider runs; the result is a pandas DataFrame."""
        assert self.shell is not None, "the magic runs inside IPython"
        shell = self.shell
        self._apply()  # the default session may have been replaced since %config
        options, sql = parse_line(line, cell)
        if options.help:
            print(cast(Any, RunsSql.runsql).parser.format_help())
            return None
        if options.list_saved:
            return saved_queries().listing()
        if not sql.strip():
            raise UsageError("%runsql needs a SQL statement, e.g. %runsql SHOW PROVIDERS")
        if options.sync and (options.dry_run or options.explain):
            raise UsageError("--sync sends requests and --dry-run/--explain send none: use one of them")
        namespace = {**shell.user_ns, **(local_ns or {})}
        session = self.session(options.sandbox)
        if options.form:
            from runs_pandas.widgets import sql_form

            return sql_form(sql, session=session, result=options.name or "result", namespace=shell.user_ns)
        if options.save:
            try:
                saved_queries().save(options.save, sql)
            except RunsError as exc:
                raise UsageError(render.error_message(exc)) from None
            if options.no_execute:
                return None
        missing = [name for name in placeholders(sql) if name not in namespace]
        if missing:
            raise UsageError(
                f"no variable for placeholder(s) {', '.join(':' + m for m in missing)}: "
                f"define them in the notebook first"
            )
        params = {name: namespace[name] for name in placeholders(sql)}
        from runs_pandas.store.source import answer as query

        def run(text: str, values: dict[str, Any], tables: dict[str, Any]) -> pd.DataFrame:
            text = f"EXPLAIN {text}" if options.explain else text  # the saved queries' plans too
            return query(text, values, session, dry_run=options.dry_run, frames=tables, source=options.source)

        def once() -> pd.DataFrame:
            if options.sync:
                from runs_pandas.store import sync

                return sync(sql, params, session)
            frames = {k: v for k, v in namespace.items() if isinstance(v, pd.DataFrame) and not k.startswith("_")}
            saved = saved_queries().frames(sql, run, namespace, with_=options.with_, frames=frames)
            if options.dry_run or options.explain:  # what each saved query would send, too
                return planned(run(sql, params, {**frames, **saved}), saved)
            return counted(run(sql, params, {**frames, **saved}), saved)

        try:
            if options.watch:
                from runs_pandas.watch import watch

                frame = watch(once, session, options.watch, options.watch_max,
                              timeline=options.timeline, limit=options.limit)
                shell.user_ns[options.name or WATCHED] = frame
                return None
            frame = once()
        except IncompleteFetchError as exc:
            keep = options.name or PARTIAL
            shell.user_ns[keep] = exc.frame
            raise UsageError(render.error_message(exc, kept=keep)) from None
        except RunsError as exc:
            raise UsageError(render.error_message(exc)) from None
        if options.limit is not None:
            frame.attrs.setdefault("runs_pandas", {})["display_limit"] = options.limit
        if options.timeline and not options.no_display:
            from runs_pandas.watch import show_timeline

            show_timeline(frame)
        if options.name:
            shell.user_ns[options.name] = frame
            return None
        return None if options.no_display else frame


_OPTIONS = (
    "--sandbox, --dry-run, --explain, --form, --source S, --sync, --limit N, --no-display, --save NAME, --no-execute, "
    "--with NAME, --list-saved, --watch INTERVAL, --watch-max N, --timeline, --help"
)


def parse_line(line: str, cell: str | None) -> tuple[Namespace, str]:
    """Options of the magic's first line, and the SQL (the cell, or the rest of the line).

    `options.name` is the variable of `%%runsql name <<`, or None.
    """
    text = line if cell is not None else _option_prefix(line)
    try:
        options, unknown = cast(Any, _args.parse_argstring)(RunsSql.runsql, text, partial=True)
    except ValueError as exc:
        raise UsageError(f"cannot read the %runsql options: {exc}") from None
    if unknown:
        known = [o for o in cast(Any, RunsSql.runsql).parser._option_string_actions if o.startswith("--")]
        close = difflib.get_close_matches(unknown[0].split("=")[0], known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"unknown option {unknown[0]}{hint}; options are {_OPTIONS}")
    if options.limit is not None and options.limit < 1:
        raise UsageError("--limit takes a number of rows, e.g. --limit 20")
    if options.watch_max is not None and options.watch_max < 1:
        raise UsageError("--watch-max takes a number of runs, e.g. --watch-max 10")
    if options.no_execute and not options.save:
        raise UsageError("--no-execute goes with --save NAME (save the query without running it)")
    words: list[str] = options.name
    options.name = None
    if cell is not None:
        if len(words) == 2 and words[1] == "<<" and words[0].isidentifier():
            options.name = words[0]
        elif words:
            raise UsageError(
                f"cannot read {' '.join(words)!r} on the %%runsql line: write '%%runsql name <<' to "
                f"keep the result in a variable"
            )
        return options, cell
    return options, line[len(text):]


_VALUED = "limit|save|with|watch|watch-max|source"  # options that take a value
_LEADING_OPTIONS = re.compile(rf"\s*(?:(?:--(?:{_VALUED})\s+\S+|--?\S+)\s*)*")


def _option_prefix(line: str) -> str:
    """The leading `--option`s of a line magic (the SQL follows them)."""
    match = _LEADING_OPTIONS.match(line)
    return line[: match.end()] if match else ""


def _as_text(frame: pd.DataFrame, printer: Any, cycle: bool) -> None:
    """Plain-text display (terminal IPython) with the footer."""
    printer.text(render.frame_text(frame))


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the magics and the result display (HTML in Jupyter, text in a terminal)."""
    ipython.register_magics(RunsSql(ipython))
    if ipython.display_formatter is None:
        return
    html_formatter = ipython.display_formatter.formatters["text/html"]
    default_html = html_formatter.lookup_by_type(pd.DataFrame) if pd.DataFrame in html_formatter.type_printers else None

    def as_html(frame: pd.DataFrame) -> str | None:
        from runs_pandas import interactive

        rendered = interactive.frame_html(frame) if interactive.wanted() else None
        rendered = rendered or render.frame_html(frame)
        if rendered is not None:
            return rendered
        return str(default_html(frame)) if default_html else frame._repr_html_()

    html_formatter.for_type(pd.DataFrame, as_html)
    text_formatter = ipython.display_formatter.formatters["text/plain"]
    text_formatter.for_type(pd.DataFrame, _as_text)
