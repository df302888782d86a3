"""The official Azure SDK on the ACR 100k series, in its own venv (`azure_sdk.py`), once.

It runs after the ACR benchmark and is compared with its bare fetch and ours; a venv with
`azure-mgmt-containerregistry==14.0.0` is needed (see benchmarks/README.md), else skipped.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from harness import PageServer, Report, Row, log


def bench_azure_sdk(report: Report, server: PageServer, python: str) -> None:
    if not Path(python).exists():
        report.facts.append(f"Azure SDK not measured: no venv at {python} (see benchmarks/README.md)")
        return
    log("Azure SDK (azure-mgmt-containerregistry 14.0.0, own venv): ACR 100k, one round")
    args = {"endpoint": server.info["endpoints"]["azure"], "token": server.info["tokens"]["azure"],
            "scopes": [server.info["acr_all"]], "repeats": 1}
    script = Path(__file__).with_name("azure_sdk.py")
    server.stats(reset=True)
    done = subprocess.run([python, str(script), json.dumps(args)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        report.facts.append(f"Azure SDK run failed: {done.stderr.strip().splitlines()[-1:]}")
        return
    result = json.loads(done.stdout.strip().splitlines()[-1])
    versions = ", ".join(f"{k} {v}" for k, v in result["versions"].items())
    report.rows.append(Row("acr 100k", "azure-mgmt-containerregistry", result["seconds"], f"own venv: {versions}"))
    bench = "acr 100k"
    try:
        bare = report.median(bench, "bare")
        ours = report.median(bench, "ours: SELECT *")
    except StopIteration:
        return
    sdk = result["seconds"][0]
    report.tables.setdefault(bench, []).append(
        f"| azure-mgmt-containerregistry (own venv, 1 round, {result['rows']:,} rows) | {sdk:.3f} | | {sdk / bare:.2f} "
        f"| {sdk / 100_000 * 1e6:.1f} |"
    )
    report.facts.append(f"acr: the Azure SDK takes {sdk / ours:.1f}x ours' `SELECT *` ({versions})")
