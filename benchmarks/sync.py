#!/usr/bin/env python
"""The second sync of 100,000 stored ACR runs with 1 % new or changed, against a full live refetch.

    python benchmarks/sync.py                  # prints the table
    python benchmarks/sync.py --write          # ... and writes it into docs/performance.md
    python benchmarks/sync.py --runs 20000 --latency 0.02 --repeats 3

The sandbox serves 100,000 ACR runs over 4 registries from a subprocess (so its CPU does not
share this process's GIL), with a delay per page standing in for the API's round trip. A
first sync fills a store; the sandbox's clock then moves 7.2 hours (1 % of the 30 days of
history: about 1 % of the runs are new, and the runs in progress finish). Each repeat
copies the filled store and times, interleaved, (a) the second sync, incremental, and (b) a
full live refetch of the same scopes (`df.runs.fetch`), the median reported. A third sync
right after the second shows what "syncing twice in a row" costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import runs_pandas as rp  # noqa: E402
from runs_pandas.engine import fetch_frame  # noqa: E402
from runs_pandas.store import sync_scopes  # noqa: E402

ACR = "azure.container_registry.runs"
NOW = "2026-11-23T00:00:00+00:00"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- sync-benchmark:start -->", "<!-- sync-benchmark:end -->"

# The sandbox in a subprocess that takes commands on stdin: "advance MINUTES", "quit".
SERVER = """
import json, sys
from datetime import datetime
from runs_pandas.sandbox import Sandbox
sb = Sandbox(acr_runs=int(sys.argv[1]), databricks_runs=0, airplane_runs=0, latency=float(sys.argv[2]),
             now=datetime.fromisoformat(sys.argv[3])).start()
sb._acr.warm()
print(json.dumps({"endpoints": sb.endpoints, "tokens": sb.tokens, "scopes": sb.scopes()["azure"][:-1]}), flush=True)
for line in sys.stdin:
    word, *rest = line.split()
    if word == "advance":
        print(sb.advance(minutes=float(rest[0])).isoformat(), flush=True)
    elif word == "quit":
        break
sb.stop()
"""


class Server:
    def __init__(self, runs: int, latency: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(runs), str(latency), NOW], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.process.stdout is not None
        self.info = json.loads(self.process.stdout.readline())

    def advance(self, minutes: float) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"advance {minutes}\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        self.process.wait(timeout=30)

    def session(self, store: Path) -> rp.Session:
        return rp.Session(endpoints=self.info["endpoints"], secrets=self.info["tokens"],
                          settings=rp.Settings(progress=False, store=str(store)))


def measure(runs: int, latency: float, repeats: int) -> dict[str, Any]:
    server = Server(runs, latency)
    scopes = server.info["scopes"]
    work = Path(tempfile.mkdtemp())
    try:
        base = work / "base.duckdb"
        with server.session(base) as s:
            started = time.perf_counter()
            first = sync_scopes(ACR, scopes, s)
            first_seconds = time.perf_counter() - started
        server.advance(0.01 * 30 * 24 * 60)  # 1 % of the history's 30 days
        second_times: list[float] = []
        live_times: list[float] = []
        second = third = pd.DataFrame()
        live_requests = live_rows = 0
        for _ in range(repeats):
            copy = work / "copy.duckdb"
            shutil.copyfile(base, copy)
            with server.session(copy) as s:
                started = time.perf_counter()
                second = sync_scopes(ACR, scopes, s)
                second_times.append(time.perf_counter() - started)
                third = sync_scopes(ACR, scopes, s)
                started = time.perf_counter()
                live = fetch_frame(ACR, scopes, s)
                live_times.append(time.perf_counter() - started)
                live_requests, live_rows = live.attrs["runs_pandas"]["requests"], len(live)
                stored = rp.query(
                    "SELECT count(*) AS n FROM azure.container_registry.runs", session=s, source="store")
                assert int(stored["n"].iloc[0]) == live_rows, "the store does not hold what a live fetch returns"
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
    changed = int(second["new"].sum() + second["updated"].sum())
    return {
        "runs": int(first["new"].sum()), "first_requests": int(first["requests"].sum()),
        "first_seconds": first_seconds, "changed": changed, "new": int(second["new"].sum()),
        "updated": int(second["updated"].sum()), "second_requests": int(second["requests"].sum()),
        "second_seconds": statistics.median(second_times), "third_requests": int(third["requests"].sum()),
        "live_requests": int(live_requests), "live_rows": live_rows, "live_seconds": statistics.median(live_times),
        "latency": latency, "repeats": repeats,
    }


def table(r: dict[str, Any]) -> str:
    share = 100 * r["changed"] / max(1, r["live_rows"])
    lines = [
        f"{r['runs']:,} ACR runs stored over 4 registries; after the clock moved 7.2 hours, {r['new']:,} runs "
        f"were new and {r['updated']:,} changed ({share:.1f} % of {r['live_rows']:,}). "
        f"{r['latency'] * 1000:.0f} ms per page, median of {r['repeats']}.",
        "",
        "| | requests | time (s) | rows |",
        "|---|---|---|---|",
        f"| first sync (whole) | {r['first_requests']:,} | {r['first_seconds']:.2f} | {r['runs']:,} |",
        f"| **second sync (incremental)** | **{r['second_requests']:,}** | **{r['second_seconds']:.2f}** "
        f"| {r['changed']:,} written |",
        f"| full live refetch (`df.runs.fetch`) | {r['live_requests']:,} | {r['live_seconds']:.2f} | {r['live_rows']:,} |",
        f"| a third sync right after | {r['third_requests']:,} | | 0 written |",
        "",
        f"The second sync sends {r['second_requests'] / max(1, r['live_requests']):.1%} of the requests of a full "
        f"refetch and takes {r['second_seconds'] / max(1e-9, r['live_seconds']):.1%} of its time; the store then "
        "holds exactly the rows a live fetch returns (checked).",
    ]
    return "\n".join(lines)


def write(text: str, command: str) -> None:
    doc = DOC.read_text()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0]
    block = (f"{START}\n{text}\n\nCommand: `{command}`, {stamp}, load average {load:.1f} on the "
             f"machine of this page.\n{END}")
    if START in doc and END in doc:
        doc = doc[: doc.index(START)] + block + doc[doc.index(END) + len(END):]
    else:
        intro = ("## Incremental sync\n\n`python benchmarks/sync.py` measures what a second sync of the "
                 "[run store](history.md) costs against fetching everything again.\n\n")
        doc = doc.rstrip("\n") + "\n\n" + intro + block + "\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per page (the API's round trip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    args = parser.parse_args()
    result = measure(args.runs, args.latency, args.repeats)
    text = table(result)
    print(text)
    if args.write:
        command = "python benchmarks/sync.py " + " ".join(a for a in sys.argv[1:] if a != "--write")
        write(text, command.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
