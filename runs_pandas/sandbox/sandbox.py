"""``Sandbox``: the three fake provider APIs served on a loopback port in a background thread."""

from __future__ import annotations

import atexit
import threading
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from .acr_api import TOKEN as AZURE_TOKEN
from .acr_api import AzureApi
from .acr_data import AcrStore
from .acr_logs import BlobLogs
from .acr_scopes import REGISTRIES, example_scope
from .airplane_api import TOKEN as AIRPLANE_TOKEN
from .airplane_api import AirplaneApi
from .airplane_tasks import TASKS
from .databricks_api import TOKEN as DATABRICKS_TOKEN
from .databricks_api import DatabricksApi
from .databricks_data import CLEAN_ROOMS
from .faults import Fault, FaultQueue
from .router import Router
from .server import SandboxServer
from .timefmt import anchor, to_ticks

PROVIDERS = ("azure", "databricks", "airplane")  # the data groups (page_size, scopes keys)
# the catalog's provider names each fake serves, and where it is mounted
CATALOG_NAMES = {"azure": "azure", "databricks": "databricks_workspace", "airplane": "airplane"}
LRO_VARIANTS = ("arm", "async_operation", "location")
DEFAULT_PAGE_SIZE = {"azure": 100, "databricks": 100, "airplane": 50}


class Sandbox:
    """Offline fakes of ACR Tasks (ARM), Databricks clean rooms and Airplane, over real HTTP.

    Data is deterministic for a given ``seed`` and ``now`` (the anchor; runs span the 30 days
    before it). ``start()`` binds 127.0.0.1 (a free port unless ``port`` is given) and
    returns at once; run data is generated in a background thread, and a request that
    needs data not generated yet waits for it.

    ``lro`` picks how ARM's long-running operations answer: ``"arm"`` (cancel: 202 with
    Azure-AsyncOperation and Location, done at once; update: 200), ``"async_operation"``
    (update 201 and cancel 202 with Azure-AsyncOperation, the status InProgress on the first
    poll), ``"location"`` (202 with Location only; its polls answer 202, then 204).

    ``advance(hours=...)`` moves the clock: runs in progress finish, new runs arrive. With
    ``retention_days`` the APIs then forget runs created longer ago, as the providers do.
    """

    def __init__(
        self,
        *,
        seed: int = 7,
        now: datetime | None = None,
        acr_runs: int = 5000,
        databricks_runs: int = 1000,
        airplane_runs: int = 2000,
        latency: float = 0.0,
        page_size: dict[str, int] | None = None,
        port: int = 0,
        lro: str = "arm",
        retention_days: float | None = None,
    ) -> None:
        unknown = set(page_size or {}) - set(PROVIDERS)
        if unknown:
            raise ValueError(f"page_size keys must be among {PROVIDERS}, not {sorted(unknown)}")
        if lro not in LRO_VARIANTS:
            raise ValueError(f"lro must be one of {LRO_VARIANTS}, not {lro!r}")
        sizes = {**DEFAULT_PAGE_SIZE, **(page_size or {})}
        self.seed = seed
        self.retention = None if retention_days is None else timedelta(days=retention_days)
        self.now = anchor(now)
        ticks = to_ticks(self.now)
        self._acr = AcrStore(max(0, acr_runs), seed, ticks)
        self._azure = AzureApi(self._acr, sizes["azure"], seed, lro)
        self._databricks = DatabricksApi(
            max(0, databricks_runs), seed, ticks // 10_000, sizes["databricks"]
        )
        self._airplane = AirplaneApi(max(0, airplane_runs), seed, ticks // 10, sizes["airplane"])
        self._faults = FaultQueue()
        self._router = Router(
            (self._azure, self._databricks, self._airplane), self._faults, latency
        )
        self._logs = BlobLogs(self._acr)
        self._log_router = Router((self._logs,), FaultQueue(), 0.0)
        self._log_server: SandboxServer | None = None
        self._port = port
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self, *, port: int | None = None) -> Sandbox:
        """Serve on 127.0.0.1 (port 0 = any free port); does nothing if already running."""
        with self._lock:
            if self._server is not None:
                return self
            server = SandboxServer(
                ("127.0.0.1", self._port if port is None else port), self._router
            )
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"runs-pandas-sandbox:{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
            # the log blobs live on an origin of their own (another host in the cloud)
            logs = SandboxServer(("127.0.0.1", 0), self._log_router)
            threading.Thread(
                target=logs.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                name=f"runs-pandas-sandbox-logs:{logs.server_address[1]}",
            ).start()
            self._log_server = logs
            self._azure.log_origin = f"http://127.0.0.1:{logs.server_address[1]}"
        threading.Thread(target=self._warm, name="runs-pandas-sandbox-warm", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; does nothing if not running."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            logs, self._log_server = self._log_server, None
        if logs is not None:
            logs.close()
        if server is not None:
            server.close()
        if thread is not None:
            thread.join(timeout=5)

    def _warm(self) -> None:
        """Generate and pre-serialise all data while the server is already answering."""
        for registry in REGISTRIES:
            if self._server is None:
                return
            self._acr.runs(registry)
        self._databricks.warm()
        self._airplane.warm()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is currently serving."""
        return self._server is not None

    # -- addresses ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        server = self._server
        if server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return f"http://127.0.0.1:{server.server_address[1]}"

    @property
    def endpoints(self) -> dict[str, str]:
        """Base URL of each provider API, by the catalog's provider name."""
        url = self.url
        return {
            CATALOG_NAMES["azure"]: f"{url}/azure",
            CATALOG_NAMES["databricks"]: f"{url}/databricks",
            CATALOG_NAMES["airplane"]: f"{url}/airplane/v0",
        }

    @property
    def tokens(self) -> dict[str, str]:
        """The credential each provider accepts, by the catalog's provider name."""
        return {
            CATALOG_NAMES["azure"]: AZURE_TOKEN,
            CATALOG_NAMES["databricks"]: DATABRICKS_TOKEN,
            CATALOG_NAMES["airplane"]: AIRPLANE_TOKEN,
        }

    def scopes(self) -> dict[str, list[dict[str, str]]]:
        """The valid request scopes of each provider (the official ACR example scope last)."""
        return {
            "azure": [registry.scope() for registry in REGISTRIES] + [example_scope()],
            "databricks": [room.scope() for room in CLEAN_ROOMS],
            "airplane": [task.scope() for task in TASKS],
        }

    # -- the clock ----------------------------------------------------------------------

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        """Move the sandbox's clock forward: runs in progress start and finish, new runs arrive.

        Deterministic for a given seed, anchor and sequence of moves; returns the new time
        (also ``now``). ``Sandbox().advance(hours=6)`` then a sync shows what changed.
        """
        step = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step < timedelta(0):
            raise ValueError(f"the sandbox clock only moves forward; got {step}")
        from .clock import advance_acr, advance_airplane, advance_databricks, forget

        with self._lock:
            old, new = self.now, self.now + step
            if new == old:
                return new
            advance_acr(self._acr, self.seed, to_ticks(old), to_ticks(new))
            advance_databricks(self._databricks, self.seed, to_ticks(old) // 10_000, to_ticks(new) // 10_000)
            advance_airplane(self._airplane, self.seed, to_ticks(old) // 10, to_ticks(new) // 10)
            if self.retention is not None:
                forget(self._acr, self._databricks, self._airplane, to_ticks(new - self.retention))
            self.now = new
        return new

    # -- behaviour knobs ----------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path with query) of every request received, oldest first (live list)."""
        return self._router.requests

    @property
    def log_requests(self) -> list[tuple[str, dict[str, str]]]:
        """(path with query, headers) of every request the log blob server received (live)."""
        return self._logs.received

    @property
    def latency(self) -> float:
        """Seconds slept before answering each request."""
        return self._router.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._router.latency = max(0.0, float(seconds))

    def inject(self, fault: Fault) -> None:
        """Queue a fault for the next matching requests."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Drop all pending faults."""
        self._faults.clear()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"Sandbox(seed={self.seed}, now={self.now.isoformat()}, {where})"


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared() -> Sandbox:
    """A process-wide running Sandbox with default data, created on first use, stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox()
            atexit.register(_shared.stop)
        return _shared.start()
