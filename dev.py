#!/usr/bin/env python3
"""Set up a virtual environment and run the demo or the tests: the README's front door.

    python3 dev.py demo      set up .venv, run `runs-pandas demo` against the offline sandbox
    python3 dev.py test      set up .venv (Chromium for the browser test, Java for Spark), run every test
    python3 dev.py test -m "not browser"   extra arguments go to pytest

Only Python 3.11+ is needed to start; everything else is installed here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    extras = "test" if command == "demo" else "dev"
    setup(extras)
    if command == "setup":
        return 0
    if command == "demo":
        return run([str(BIN / "runs-pandas"), "demo", *rest])
    ensure_chromium()
    env = ensure_java()
    code = run([str(PY), "-m", "pytest", *rest], env=env)
    if code == 5:
        print("dev.py: pytest collected no tests", file=sys.stderr)
    return code


def setup(extras: str) -> None:
    """Create .venv and install the package with `extras`, again only when pyproject changes."""
    if not PY.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"dev.py: installing runs_pandas[{extras}] into .venv", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    check(pip + ["--upgrade", "pip"])
    check(pip + ["-e", f"{ROOT}[{extras}]"])
    check([str(PY), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"])
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """The browser test drives Debian's Chromium; install it when it is missing and we can."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("dev.py: installing Debian's chromium for the browser test", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        check(["apt-get", "update", "-qq"], env=env)
        check(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], env=env)
        return
    print(
        "dev.py: chromium is not installed and cannot be installed here (needs root and apt-get);"
        " the browser test will fail. Install it with: sudo apt-get install chromium",
        file=sys.stderr,
    )


def ensure_java() -> dict[str, str] | None:
    """The Spark tests need Java 17+; find it (PATH, JAVA_HOME, /usr/lib/jvm) or install
    Debian's default JRE. Returns the environment for pytest when JAVA_HOME had to be set."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return None
    found = sorted(Path("/usr/lib/jvm").glob("*/bin/java")) if Path("/usr/lib/jvm").is_dir() else []
    if found:
        return {**os.environ, "JAVA_HOME": str(found[-1].parent.parent)}
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("dev.py: installing Debian's default JRE for the Spark tests", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        check(["apt-get", "update", "-qq"], env=env)
        check(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "default-jre-headless"], env=env)
        return None
    print(
        "dev.py: no Java found and it cannot be installed here; the Spark tests will fail."
        " Install Java 17 or newer (e.g. sudo apt-get install default-jre-headless) or set JAVA_HOME.",
        file=sys.stderr,
    )
    return None


def check(cmd: list[str], env: dict[str, str] | None = None) -> None:
    code = run(cmd, env=env)
    if code:
        raise SystemExit(f"dev.py: {' '.join(cmd)} failed with exit code {code}")


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
