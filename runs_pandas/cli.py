"""`runs-pandas`: the same `query()` from a shell, and a demo over the sandbox.

    runs-pandas "SELECT status, count(*) FROM airplane.runs.runs GROUP BY 1" --sandbox
    runs-pandas "EXEC airplane.runs.runs.cancelRun @runID=:id" -p id=run123 --sandbox --dry-run
    runs-pandas sync "SELECT * FROM airplane.runs.runs" --sandbox     # into the run store
    runs-pandas "SELECT status, count(*) FROM airplane.runs.runs GROUP BY 1" --source store
    runs-pandas demo
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from runs_pandas import render
from runs_pandas.errors import IncompleteFetchError, RunsError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 a runs_pandas error, 2 bad usage)."""
    args = _parser().parse_args(argv)
    from runs_pandas.session import Session

    if args.sql == ["demo"]:
        from runs_pandas.demo import run_demo

        return run_demo(Session(sandbox=True), out=sys.stdout)
    syncing = args.sql[0] == "sync" and len(args.sql) > 1
    sql = " ".join(args.sql[1:] if syncing else args.sql)
    if sql.strip() == "-":
        sql = sys.stdin.read()
    params = dict(_param(p) for p in args.param)
    if args.explain:
        sql = f"EXPLAIN {sql}"
    session = Session(sandbox=True) if args.sandbox else Session()
    session.settings.progress = sys.stderr.isatty()
    from runs_pandas.store.source import answer as query

    try:
        if syncing:
            from runs_pandas.store import sync

            frame = sync(sql, params, session)
        else:
            frame = query(sql, params, session, dry_run=args.dry_run, source=args.source)
    except IncompleteFetchError as exc:
        print(f"runs-pandas: {render.error_message(exc)}", file=sys.stderr)
        print(render.table(exc.frame, args.format, args.limit))
        return render.EXIT_ERROR
    except RunsError as exc:
        print(f"runs-pandas: {render.error_message(exc)}", file=sys.stderr)
        return render.EXIT_ERROR
    finally:
        session.close()
    print(render.table(frame, args.format, args.limit))
    return render.EXIT_OK


def _param(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"runs-pandas: --param takes name=value, got {text!r}")
    if "," in value:
        return name, [v for v in value.split(",") if v]
    return name, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runs-pandas",
        description="Query ACR Tasks, Databricks clean-room and Airplane runs with SQL.",
        epilog="'runs-pandas demo' runs a few queries over the offline sandbox.",
    )
    parser.add_argument(
        "sql", nargs="+",
        help="a SQL statement, '-' to read it from stdin, 'sync SELECT ...' to sync it into the run store, or 'demo'",
    )
    parser.add_argument("--sandbox", action="store_true", help="use the offline sandbox APIs")
    parser.add_argument(
        "--source", choices=("live", "store", "sync"), default=None,
        help="answer a SELECT live (default), from the run store (no request), or sync then store",
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--limit", type=int, default=None, help="rows shown in table format")
    parser.add_argument("--dry-run", action="store_true", help="show the requests, send nothing")
    parser.add_argument(
        "--explain", action="store_true", help="show what is pushed to the API and what DuckDB filters; send nothing"
    )
    parser.add_argument(
        "-p", "--param", action="append", default=[], metavar="NAME=VALUE",
        help="value for a :name placeholder (comma-separated for a list)",
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
