"""``python -m runs_pandas.sandbox``: serve the sandbox in the foreground until SIGTERM/SIGINT.

The first stdout line is JSON with the url, endpoints, tokens and scopes, so a parent
process (benchmarks, demos) can read where to connect.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime
from types import FrameType

from .sandbox import Sandbox


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runs_pandas.sandbox",
        description="Serve the offline provider fakes on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to bind (0 = any free port)")
    parser.add_argument("--acr-runs", type=int, default=5000)
    parser.add_argument("--databricks-runs", type=int, default=1000)
    parser.add_argument("--airplane-runs", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="anchor time, ISO 8601 (default: start of the current UTC hour)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the server until a termination signal, then stop it cleanly."""
    args = _parse(argv)
    sandbox = Sandbox(
        seed=args.seed,
        now=args.now,
        acr_runs=args.acr_runs,
        databricks_runs=args.databricks_runs,
        airplane_runs=args.airplane_runs,
        latency=args.latency,
    )
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sandbox.start(port=args.port)
    info = {
        "url": sandbox.url,
        "endpoints": sandbox.endpoints,
        "tokens": sandbox.tokens,
        "scopes": sandbox.scopes(),
    }
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        while not done.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
