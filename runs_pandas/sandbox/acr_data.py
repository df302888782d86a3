"""The per-sandbox store of ACR runs: each registry generated once, on first use."""

from __future__ import annotations

import threading

from .acr_generate import generate_registry
from .acr_run import RegistryRuns
from .acr_scopes import REGISTRIES, AcrRegistry, registry_counts


class AcrStore:
    """The registries' runs for one sandbox, generated on first use and kept for its lifetime."""

    def __init__(self, total_runs: int, seed: int, now: int) -> None:
        self.now = now  # anchor, in ticks
        self._counts = registry_counts(total_runs)
        self._seed = seed
        self._locks = {registry.name: threading.Lock() for registry in REGISTRIES}
        self._built: dict[str, RegistryRuns] = {}
        self.write_lock = threading.Lock()  # serialises cancel/update read-modify-write

    def runs(self, registry: AcrRegistry) -> RegistryRuns:
        """The registry's runs, generating them on the first call."""
        built = self._built.get(registry.name)
        if built is None:
            with self._locks[registry.name]:  # per registry: others stay available
                built = self._built.get(registry.name)
                if built is None:
                    count = self._counts[registry.name]
                    built = generate_registry(registry, count, self._seed, self.now)
                    self._built[registry.name] = built
        return built

    def warm(self) -> None:
        """Generate every registry now."""
        for registry in REGISTRIES:
            self.runs(registry)
