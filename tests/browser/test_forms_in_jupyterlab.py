"""A form works in a real JupyterLab: fill the Airplane form of 07-forms.ipynb, click Run, see rows.

JupyterLab runs on 127.0.0.1 in a subprocess (sandbox on, no credentials, no news or update
checks, its own config, settings, workspace and runtime folders) over a temporary copy of
`notebooks/`. Debian's Chromium, driven by Playwright, opens the notebook, runs all cells,
types a task id and a limit into the form, clicks Run and waits for the table of runs under
the form. A screenshot goes to `test-artifacts/forms.png`, also when the test fails. Requests
the page makes to anything but loopback are aborted; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from offline import offline_environ

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Route

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS / "forms.png"
CHROMIUM = Path(os.environ.get("RUNS_PANDAS_CHROMIUM", "/usr/bin/chromium"))
NOTEBOOK = "07-forms.ipynb"
WAIT_MS = 60_000  # the bound of every browser wait
SERVER_START_S = 60.0
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]
    blocked: list[str] = field(default_factory=list)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the JupyterLab we started and its kernels (its own process group), bounded."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[Lab]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (python3 dev.py test does it)")
    import jupyterlab  # noqa: F401  (the browser extra; fails loudly when missing)
    root = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("config", "data", "runtime", "settings", "workspaces", "ipython"):
        (tmp_path / name).mkdir()
    # no news feed (and no "would you like news?" prompt); null is only expressible in a file
    (tmp_path / "config" / "jupyter_lab_config.json").write_text(json.dumps({"LabApp": {"news_url": None}}))
    notification = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"checkForUpdates": False, "fetchNews": "false"}))
    port, token = free_port(), secrets.token_hex(24)
    env = offline_environ("JUPYTER_TOKEN")
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),  # kernelspecs still come from sys.prefix
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        HTTP_PROXY="http://127.0.0.1:9",  # anything that tries the internet fails fast
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers often run tests as root
    log = tmp_path / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log, process)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{lab.log_tail()}")
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S:.0f} s:\n{lab.log_tail()}")
            time.sleep(0.25)
        yield lab
    finally:
        stop(process)


def sandbox_task_id() -> str:
    from runs_pandas.sandbox import Sandbox

    return Sandbox().scopes()["airplane"][0]["taskID"]


@contextmanager
def chromium_page(lab: Lab, tmp_path: Path, screenshot: Path) -> Iterator[Page]:
    """A Chromium page on a fresh profile that may reach loopback only; a screenshot of it
    goes to `screenshot` when the block ends, also when it fails."""
    from playwright import sync_api
    sync_api.expect.set_options(timeout=WAIT_MS)  # assertions wait as long as actions
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot.unlink(missing_ok=True)

    def only_loopback(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in ("127.0.0.1", "localhost"):
            lab.blocked.append(url)
            route.abort()
        else:
            route.continue_()

    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            headless=False,  # --headless=new is in the args
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
            timeout=WAIT_MS,
        )
        try:
            context.set_default_timeout(WAIT_MS)
            context.route("**/*", only_loopback)
            page = context.pages[0] if context.pages else context.new_page()
            try:
                yield page
            finally:
                try:
                    page.screenshot(path=str(screenshot), timeout=15_000)
                except Exception as exc:  # noqa: BLE001 - the screenshot must not hide the failure
                    print(f"no screenshot: {exc}", file=sys.stderr)
        finally:
            context.close()


def test_airplane_form_runs_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    from playwright import sync_api
    task_id = sandbox_task_id()
    with chromium_page(lab, tmp_path, SCREENSHOT) as page:
        drive(page, lab, task_id, sync_api.expect)
    assert SCREENSHOT.exists()
    assert not lab.blocked, f"the page tried to leave loopback: {lab.blocked}"


def wait_for_connected_kernel(page: Page, lab: Lab) -> None:
    """The notebook's kernel is started, idle and has the page's websocket connected.

    Waits with the page's own timer: the route handler only runs while Playwright waits.
    """
    deadline = time.monotonic() + WAIT_MS / 1000
    kernels: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{lab.url}/api/kernels?token={lab.token}", timeout=5) as answer:
                kernels = json.load(answer)
        except urllib.error.HTTPError:  # jupyter_server answers 500 while a kernel is still starting
            kernels = []
        if any(k.get("execution_state") == "idle" and int(k.get("connections") or 0) > 0 for k in kernels):
            return
        page.wait_for_timeout(250)
    pytest.fail(f"no connected, idle kernel within {WAIT_MS / 1000:.0f} s: {kernels}\n{lab.log_tail()}")


def drive(page: Page, lab: Lab, task_id: str, expect: Any) -> None:
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}", wait_until="domcontentloaded")
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")).to_be_visible()
    wait_for_connected_kernel(page, lab)  # Run All before that would ask which kernel to start

    # Run > Run All Cells, as a user would
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    # Run All is over when the last cell shows the stored variable (the scripted form filled it)
    expect(page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output table")).to_be_visible()

    # the Airplane form: the widget box whose title is exactly the resource id
    title = page.locator(".widget-html b", has_text=re.compile(r"^airplane\.runs\.runs$"))
    form = page.locator(".widget-vbox").filter(has=title)
    expect(form).to_have_count(1)
    expect(form).to_be_visible()
    expect(form.locator("table")).to_have_count(0)  # nothing under the form before Run

    def labelled(label: str) -> Locator:
        """A widget (relative locator) whose description label reads exactly `label`."""
        exact = re.compile(rf"^{re.escape(label)}$")
        return page.locator(".widget-inline-hbox").filter(has=page.locator("label.widget-label", has_text=exact))

    task_field = form.locator(".widget-inline-hbox").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^taskID$"))
    ).locator("input")
    limit_row = form.locator(".widget-hbox").filter(has=labelled("limit"))  # the box and its "send" tick
    limit_field = limit_row.locator("input[type=number]")
    expect(task_field).to_have_count(1)
    expect(limit_field).to_have_count(1)
    task_field.scroll_into_view_if_needed()
    task_field.fill(task_id)
    task_field.press("Tab")
    limit_field.fill("5")
    limit_field.press("Tab")  # commits the number; the kernel ticks its "send" box
    expect(limit_row.locator(".widget-checkbox input")).to_be_checked()

    form.locator("button", has_text="Run").click()

    table = form.locator(".widget-output table")
    expect(table).to_be_visible()
    expect(table).to_contain_text(task_id)
    expect(table).to_contain_text("status")
    expect(form.locator(".widget-output")).to_contain_text("stored in `airplane_runs`")
    assert table.locator("tbody tr").count() >= 5
    title.scroll_into_view_if_needed()
