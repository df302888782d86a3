#!/usr/bin/env python3
"""Spark fetch against df.runs.fetch: 500 ACR scopes, scopes/s and rows/s, 1 -> 2 local cores.

    python benchmarks/spark.py            # print the table
    python benchmarks/spark.py --write    # and replace the Spark section of docs/performance.md

The sandbox runs in a subprocess (as in run.py), so its CPU is not counted in the client's
process, but it shares the machine's 2 cores with every contender. The 500 scopes are the
sandbox's four generated registries, each cut into 125 `$filter` time windows. Each round
starts a fresh Spark session per core count, fetches once untimed (the Python workers start),
then times two fetches, each writing every column to `noop` and counting the failed scopes
(the rows are counted after the clock stops). The order of the contenders rotates round by
round; medians are shown, ratios are the result, CPU seconds per process beside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from run import SandboxProcess, acr_scopes

import runs_pandas as rp
import runs_pandas.spark as rps

ACR = "azure.container_registry.runs"
BEGIN, END = "<!-- spark-benchmark:begin -->", "<!-- spark-benchmark:end -->"


def window_scopes(info: dict[str, Any], session: rp.Session, count: int) -> list[dict[str, Any]]:
    registries = acr_scopes(info)
    runs = pd.DataFrame(registries).runs.fetch(ACR, session=session)
    edges = pd.date_range(runs["createTime"].min().floor("h"), runs["createTime"].max().ceil("h"), periods=count // len(registries) + 1)
    return [
        {**r, "$filter": f"createTime ge {a:%Y-%m-%dT%H:%M:%S}Z and createTime lt {b:%Y-%m-%dT%H:%M:%S}Z"}
        for r in registries
        for a, b in itertools.pairwise(edges)
    ]


def spark_session(cores: int) -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of this process and its children, by role (psutil, when installed)."""
    try:
        import psutil
    except ImportError:
        return {}
    me = psutil.Process()
    found = {"driver": sum(me.cpu_times()[:2])}
    for child in me.children(recursive=True):
        try:
            command, used = child.cmdline(), sum(child.cpu_times()[:2])
        except psutil.Error:
            continue
        text = " ".join(command)
        role = "sandbox" if "runs_pandas.sandbox" in text else "python workers" if "pyspark" in text and "python" in command[0] else "JVM" if "java" in command[0] else "other"
        found[role] = found.get(role, 0.0) + used
    return found


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="Spark sessions per core count (2 timed fetches each)")
    parser.add_argument("--scopes", type=int, default=500)
    parser.add_argument("--acr-runs", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the sandbox waits per page")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

    extra = ["--acr-runs", str(args.acr_runs), "--latency", str(args.latency)]
    load = os.getloadavg()[0]
    contenders = ["df.runs.fetch", "spark local[1]", "spark local[2]"]
    times: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    starts: dict[str, list[float]] = {"Spark session start": [], "first fetch (starts the Python workers)": []}
    counted: dict[str, int] = {}
    with SandboxProcess(*extra) as sandbox:
        session = sandbox.session(progress=False)
        scopes = window_scopes(sandbox.info, session, args.scopes)
        frame = pd.DataFrame(scopes)
        os.environ.update(rps.sandbox_environment(sandbox.info["endpoints"], sandbox.info["tokens"]))
        os.environ["PYSPARK_PYTHON"] = sys.executable
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        rows = len(frame.runs.fetch(ACR, session=session))  # warm the sandbox's data

        def timed(name: str, run: Any, count: Any = len) -> None:
            """Time `run()` (and its CPU per process); count its rows after the clock stops."""
            before, started = cpu_seconds(), time.perf_counter()
            got = run()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(spent(before, cpu_seconds()))
            counted[name] = count(got)

        for round_ in range(args.rounds):
            for name in contenders[round_ % 3:] + contenders[: round_ % 3]:  # rotate the order
                if name == "df.runs.fetch":
                    for _ in range(2):
                        timed(name, lambda: frame.runs.fetch(ACR, session=session))
                    continue
                cores = int(name[-2])
                started = time.perf_counter()
                spark = spark_session(cores)
                starts["Spark session start"].append(time.perf_counter() - started)
                source = spark.createDataFrame(frame.values.tolist(), list(frame.columns)).repartition(cores).cache()
                source.count()

                def spark_fetch(source: Any = source) -> Any:
                    """What a job does: fetch, write every run, look at the failed scopes."""
                    result = rps.fetch(source, ACR, session=session)
                    result.runs.write.format("noop").mode("overwrite").save()
                    assert result.errors.count() == 0
                    return result

                def spark_rows(result: Any) -> int:
                    count: int = result.runs.count()
                    result.unpersist()
                    return count

                started = time.perf_counter()
                spark_rows(spark_fetch())
                starts["first fetch (starts the Python workers)"].append(time.perf_counter() - started)
                for _ in range(2):
                    timed(name, spark_fetch, spark_rows)
                spark.stop()

    base = statistics.median(times["df.runs.fetch"])
    lines = [
        (f"{len(scopes)} ACR scopes, {rows:,} runs, sandbox latency {args.latency * 1000:.0f} ms per page, "
        f"{args.rounds} rounds x 2 fetches, {os.cpu_count()} cores ({platform.python_implementation()} {platform.python_version()}), "
        f"load average {load:.1f} before and {os.getloadavg()[0]:.1f} after."),
        "",
        "| contender | median s | best s | scopes/s | rows/s | x df.runs.fetch (time) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, values in times.items():
        median = statistics.median(values)
        assert counted[name] == rows, (name, counted[name], rows)
        lines.append(
            f"| {name} | {median:.2f} | {min(values):.2f} | {len(scopes) / median:,.0f} | {rows / median:,.0f} | {median / base:.2f} |"
        )
    one, two = statistics.median(times["spark local[1]"]), statistics.median(times["spark local[2]"])
    best = min(times["spark local[1]"]) / min(times["spark local[2]"])
    lines += ["", f"Scaling from 1 to 2 local cores: {one / two:.2f}x faster (best rounds: {best:.2f}x)."]
    lines += ["", "Not timed above, per Spark session (medians): "
              + ", ".join(f"{k} {statistics.median(v):.1f} s" for k, v in starts.items()) + "."]
    if all(cpu.values()) and all(cpu[n][0] for n in cpu):
        roles = sorted({r for samples in cpu.values() for s in samples for r in s})
        lines += ["", "CPU seconds per fetch (medians), by process:", "",
                  "| contender | " + " | ".join(roles) + " | total |", "|---|" + "---:|" * (len(roles) + 1)]
        for name, samples in cpu.items():
            per = {r: statistics.median([s.get(r, 0.0) for s in samples]) for r in roles}
            lines.append(f"| {name} | " + " | ".join(f"{per[r]:.2f}" for r in roles) + f" | {sum(per.values()):.2f} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        write(table, args)
    return 0


def write(table: str, args: argparse.Namespace) -> None:
    path = ROOT / "docs" / "performance.md"
    text = path.read_text(encoding="utf-8")
    command = " ".join(["python benchmarks/spark.py", *sys.argv[1:]])
    block = f"{BEGIN}\n{table}\n\nCommand: `{command}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Spark\n\n" + SPARK_METHOD + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")


SPARK_METHOD = """`benchmarks/spark.py`: [`runs_pandas.spark.fetch`](spark.md) against `df.runs.fetch` for
the same 500 ACR scopes (the sandbox's four generated registries, each cut into 125 `$filter`
time windows), from a sandbox subprocess on the same 2 cores. Spark runs in local mode with
1 and then 2 cores (`local[1]`, `local[2]`), the scopes in 2 partitions per core; each round
fetches anew and writes every column to Spark's `noop` sink; the session's start (about 5 s)
is not timed. `df.runs.fetch` fetches the 500 scopes concurrently in one process (the default
32 requests in flight). On one machine Spark adds work (JVM, Arrow hand-over, one task per
partition), so the point is the shape: the cores add throughput, and on a cluster each
executor adds its own cores and its own request budget."""


if __name__ == "__main__":
    raise SystemExit(main())
