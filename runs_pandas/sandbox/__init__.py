"""Offline fakes of the three run APIs that ``runs_pandas`` queries, served over real HTTP.

``Sandbox`` serves Azure Container Registry runs (ARM), Databricks clean-room notebook
task runs and Airplane runs on a loopback port, with each provider's paths, paging,
authentication and error shapes, plus injectable faults for testing retries.
Standard library only; nothing else from ``runs_pandas`` is imported.
"""

from __future__ import annotations

from .faults import Fault
from .sandbox import Sandbox, shared

__all__ = ["Fault", "Sandbox", "shared"]
