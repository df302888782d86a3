"""The benchmark's markdown: the targets with met / not met, the tables, and docs/performance.md."""

from __future__ import annotations

import re
import sys

from harness import ROOT, Report, log, machine

READING = "## What the numbers say"  # written by hand from a run, kept by --write
KEPT = ("## Incremental sync", "## Spark", "## Pushdown: requests saved")  # other scripts' sections
PLACEHOLDER = "## Incremental sync\n\nThe store's incremental sync (`rp.sync`) is measured here by the store's own benchmark.\n"

HEAD = """# Performance

Measured by `benchmarks/run.py` (how to run it: `benchmarks/README.md` in the repository);
`python benchmarks/run.py --write` rewrites this page down to the Spark section. **The
ratios are the result**, not the absolute times. Every page comes from a page server in
another process that holds each response as bytes prepared up front and does nothing per
request but write them, so the server costs nearly nothing and the client's work is what
is measured. The pages are the sandbox's own (`runs_pandas.sandbox`), so the shapes are the
real ones. Contenders of one benchmark are interleaved round by round after one untimed
warm-up round; medians are shown with the spread (min-max) of the rounds, because this
machine is small and shared (the load average is given below).

"Fair bare fetch" is what a performance-minded user writes: one `httpx.Client`, follow the
next link, `orjson.loads` each body, collect the rows, with the garbage collector disabled.
"""

METHOD = """## What is measured

- **ACR 100k**: 100,000 runs in 1,000 pages of 100, one scope (the page server's virtual
  registry `allruns`: the sandbox's four registries in one series). Ours: `rp.query("SELECT *
  ... WHERE subscriptionId = .. AND resourceGroupName = .. AND registryName = ..")`,
  `SELECT status, count(*) ... GROUP BY status`, and `pd.DataFrame([scope]).runs.fetch(...)`,
  one session reused as in a notebook. Hand-written: the fair bare fetch; httpx page bytes
  (the next link found in the bytes) + one `pyarrow.json.read_json` of all pages, the rows
  flattened and `to_pandas()`; the bare fetch + `pandas.json_normalize(rows)` + `to_datetime`
  on the catalog's date-time fields.
- **Databricks 20k / Airplane 20k**: the same contenders over every clean room
  (`clean_room_name IN (...)`, pages of 100) and over all Airplane runs (pages of 50); the
  official `databricks-sdk` (`clean_room_task_runs.list` + `as_dict` + `json_normalize`)
  where installed. Scopes are fetched one thread per scope by the hand-written code, as ours
  does.
- **Per row**: ours' `SELECT *` median over the rows.
- **Scale**: ACR runs over virtual registries of 20 pages (2,000 runs) each: 10k over 5,
  100k over 50, 1M over 500 scopes. Each fetch runs in a fresh process; ours is
  `df.runs.fetch` (default: 32 requests in flight; `max_requests` raised from 2,000, which
  stops a 1M fetch), bare is the fair bare fetch with 32
  threads. Peak RSS is the child's high-water mark (`VmHWM`); the frame's real size is pandas' deep memory
  count plus, for object columns, every list and dict a cell holds (each object once).
- **Fixed cost**: `SELECT *` of the official example registry (1 run, one page), warm,
  against the same page by `httpx.get` + `orjson.loads`.
- **Cold**: a fresh `python -c` imports runs_pandas, then four times makes a `Session` and
  runs that query; the first minus the median of the other three.
- **Import**: a fresh `python -c`: `import pandas`, then `import runs_pandas`, each timed.
"""


def targets_table(report: Report) -> list[str]:
    lines = ["| target | measured | wanted | result | note |", "|---|---:|---:|---|---|"]
    for t in report.targets:
        limit = f"{t.limit:g}x" if t.unit == "x" else f"{t.limit:g} {t.unit}"
        lines.append(f"| {t.what} | {t.shown(t.value)} | {t.op} {limit} | {'met' if t.met else '**not met**'} | {t.note} |")
    return lines


def markdown(report: Report) -> str:
    out = ["## Targets", "", *targets_table(report), ""]
    for name, lines in report.tables.items():
        out += [f"### {name}", "", *lines, ""]
    out += ["### Facts seen in this run", "", *(f"- {fact}" for fact in report.facts), ""]
    return "\n".join(out)


def _sections(text: str) -> dict[str, str]:
    """The `## ` sections of a page, by heading line."""
    found: dict[str, str] = {}
    parts = re.split(r"(?m)^(?=## )", text)
    for part in parts:
        heading = part.split("\n", 1)[0].strip()
        if heading.startswith("## "):
            found[heading] = part.rstrip() + "\n"
    return found


def write_doc(report: Report) -> None:
    """Rewrite docs/performance.md; the hand-written reading and other scripts' sections stay."""
    path = ROOT / "docs" / "performance.md"
    old = _sections(path.read_text(encoding="utf-8")) if path.exists() else {}
    lines = [HEAD, old.get(READING, ""), "## Results\n", markdown(report)]
    lines += ["## Machine\n", *(f"- {line}" for line in machine())]
    lines += [f"- Command: `python benchmarks/run.py {' '.join(sys.argv[1:])}`", "", METHOD]
    for heading in KEPT:
        lines.append(old.get(heading) or (PLACEHOLDER if heading == "## Incremental sync" else ""))
    path.write_text("\n".join(line for line in lines if line is not None).rstrip() + "\n", encoding="utf-8")
    log(f"wrote {path}")
