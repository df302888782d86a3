"""Scale: 10k -> 100k -> 1M ACR runs over virtual registries of 20 pages, each fetch in a fresh process.

    python benchmarks/scale.py '{"who": "ours", "info": {...}, "scopes": 500}'   # one child

The parent runs, per size, a child for ours (`df.runs.fetch` over the scopes, default
settings (32 requests in flight) but `max_requests` raised above the 2,000 a 1M fetch needs) and one for the bare fetch (httpx + orjson, GC off, 32
threads), interleaved. Each child reports its wall time, its peak RSS (VmHWM), its RSS
before the fetch (after a 1-run warm-up fetch: imports and connections are not the scale's cost), and (ours) the frame's real size counted through list columns.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PageServer, Report, Target, frame_bytes, log, run_child

RUNS_PER_SCOPE = 2000  # 20 pages of 100


def _rss_mb(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident size, MiB.

    /proc/self/status, because `ru_maxrss` of a child started by a big parent starts at
    the parent's peak on Linux (it survives fork and exec); elsewhere `ru_maxrss`."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(args: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from contenders import ACR, PROVIDERS, Hand

    import runs_pandas as rp

    info, who = args["info"], args["who"]
    scopes = info["acr_virtual"][: args["scopes"]]
    # the default budget (2,000 requests) stops a 1M fetch, as it should: a user raises it
    settings = rp.Settings(max_requests=max(2000, 2 * args["scopes"] * 20))
    session = rp.Session(endpoints=info["endpoints"], secrets=info["tokens"], settings=settings)
    example = pd.DataFrame(info["scopes"]["azure"][-1:])  # 1 run: warms imports and connections
    hand = Hand(PROVIDERS["acr"], info, scopes, threads=32)
    if who == "ours":
        example.runs.fetch(ACR, session=session)
    else:
        Hand(PROVIDERS["acr"], info, example.to_dict("records")).bare()
    before = _rss_mb("VmRSS")
    started = time.perf_counter()
    if who == "ours":
        frame = pd.DataFrame(scopes).runs.fetch(ACR, session=session)
        rows = len(frame)
    else:
        result = hand.bare()
        rows = len(result)
    seconds = time.perf_counter() - started
    peak = _rss_mb()
    size = frame_bytes(frame) / 2**20 if who == "ours" else None
    return {"seconds": seconds, "rows": rows, "peak_mb": peak, "before_mb": before, "frame_mb": size}


def bench_scale(report: Report, server: PageServer, sizes: list[int], rounds: int) -> None:
    lines = [
        "| runs | scopes | ours s | bare (32 threads) s | x bare | ours peak RSS MiB | RSS before fetch MiB "
        "| frame MiB (real) | peak / frame | (peak - before) / frame | bare peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    script = str(Path(__file__).resolve())
    for size in sizes:
        scopes = size // RUNS_PER_SCOPE
        repeat = 1 if size >= 1_000_000 else rounds  # a 1M fetch takes minutes on 2 shared cores
        log(f"scale: {size:,} runs over {scopes} scopes, {repeat} rounds, one process per fetch")
        results: dict[str, list[dict[str, Any]]] = {"ours": [], "bare": []}
        for round_ in range(repeat):
            for who in ("ours", "bare"):
                arg = json.dumps({"who": who, "info": server.info, "scopes": scopes})
                result = run_child([script, arg])
                assert result["rows"] == size, (who, result)
                results[who].append(result)
                log(f"  round {round_ + 1} {who}: {result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MiB")
        med = {w: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "peak_mb", "before_mb")} for w, rs in results.items()}
        frame_mb = statistics.median(r["frame_mb"] for r in results["ours"])
        ratio = med["ours"]["seconds"] / med["bare"]["seconds"]
        rss = med["ours"]["peak_mb"] / frame_mb
        spread = "-".join(f"{f(r['seconds'] for r in results['ours']):.2f}" for f in (min, max))
        lines.append(
            f"| {size:,} | {scopes} | {med['ours']['seconds']:.2f} ({spread}) | {med['bare']['seconds']:.2f} | {ratio:.2f} "
            f"| {med['ours']['peak_mb']:,.0f} | {med['ours']['before_mb']:,.0f} | {frame_mb:,.0f} | {rss:.2f} "
            f"| {(med['ours']['peak_mb'] - med['ours']['before_mb']) / frame_mb:.2f} "
            f"| {med['bare']['peak_mb']:,.0f} |"
        )
        if size == max(sizes):
            label = f"{size:,} runs over {scopes} scopes"
            report.targets += [
                Target(f"{label}: wall / bare httpx with 32 threads", ratio, "<=", 1.2),
                Target(f"{label}: peak RSS / the frame's real size", rss, "<=", 2.0),
            ]
    report.tables["scale"] = lines
    report.facts.append(
        f"scale: {rounds} round(s) per size below 1M, 1 at 1M; every fetch in a fresh process; the rows of scope i are pages "
        f"{RUNS_PER_SCOPE // 100}·i ... of the 100k sandbox series, cyclically (rows repeat beyond 100k)"
    )


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
