#!/usr/bin/env python
"""runs_pandas benchmarks against the fastest reasonable hand-written code, side by side.

    python benchmarks/run.py --quick     # about 2 minutes (quiet machine): 1 round, no 1M, no Azure SDK
    python benchmarks/run.py             # the full run (1M runs, more rounds)
    python benchmarks/run.py --write     # also rewrite docs/performance.md
    python benchmarks/run.py --only acr,fixed --rounds 5

Pages come from `pageserver.py` in another process (pre-serialised, nothing done per
request). Ratios, not absolute times, are the result. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PageServer, Report, SandboxProcess, acr_scopes, cores, load, log, machine  # noqa: F401  (spark.py)

SECTIONS = ("acr", "databricks", "airplane", "scale", "fixed", "cold", "azure-sdk")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 2 minutes: fewer rounds, scale to 100k, no Azure SDK")
    parser.add_argument("--rounds", type=int, help="timed rounds for every interleaved benchmark")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated among {', '.join(SECTIONS)}")
    parser.add_argument("--sizes", help="scale sizes, comma-separated (default 10000,100000,1000000; quick: up to 100000)")
    parser.add_argument("--write", action="store_true", help="rewrite docs/performance.md")
    parser.add_argument("--sdk-python", default="/tmp/sdkvenv/bin/python",
                        help="python of a venv with azure-mgmt-containerregistry==14.0.0 (skipped if missing)")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose among {', '.join(SECTIONS)}")
    quick = args.quick
    rounds = args.rounds or (1 if quick else 3)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000])
    if quick:
        only.discard("azure-sdk")
    acr_runs, other_runs = 100_000, 20_000
    started = time.perf_counter()
    report = Report()
    load_before = load()
    log(f"starting the page server ({acr_runs:,} ACR runs, {other_runs:,} Databricks and Airplane runs)")
    with PageServer("--acr-runs", str(acr_runs), "--databricks-runs", str(other_runs),
                    "--airplane-runs", str(other_runs), "--virtual", f"{max(sizes) // 2000}:20") as server:
        log(f"  ready in {time.perf_counter() - started:.1f} s")
        from endtoend import bench_provider, per_row_targets

        for key, rows in (("acr", acr_runs), ("databricks", other_runs), ("airplane", other_runs)):
            if key in only:
                bench_provider(report, server, key, rows, rounds)
        per_row_targets(report)
        if "scale" in only:
            from scale import bench_scale

            bench_scale(report, server, sizes, 1 if quick else 2)
        if "fixed" in only:
            from fixed import bench_fixed

            bench_fixed(report, server, 20 if quick else 50)
        if "cold" in only:
            from fixed import bench_cold_and_import

            bench_cold_and_import(report, server, 3 if quick else 7)
        if "azure-sdk" in only:
            from sdk import bench_azure_sdk

            bench_azure_sdk(report, server, args.sdk_python)
    report.facts.append(
        f"load average (1 min) before / after: {load_before:.2f} / {load():.2f} on {cores()} cores; "
        f"{rounds} timed rounds per interleaved benchmark; total {time.perf_counter() - started:.0f} s"
    )
    from report import markdown, write_doc

    print(markdown(report))
    for line in machine():
        print(f"- {line}")
    if args.write:
        write_doc(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
