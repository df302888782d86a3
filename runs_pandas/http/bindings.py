"""The connections file: credentials bound to scopes where the providers' own places cannot say.

A TOML file with one array of tables per provider, each entry one connection:

    [[airplane]]
    scope = "team_abc"                # the team this key serves
    secret_env = "AIRPLANE_KEY_ABC"   # the key is read from this variable

Its path: the `connections_file` setting, else RUNS_PANDAS_CONNECTIONS, else
`connections.toml` in the user's config dir. A missing file is no connections.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runs_pandas.errors import AuthError

ENV = "RUNS_PANDAS_CONNECTIONS"


def connections_path(setting: str = "") -> Path:
    """Where the connections file is read from."""
    if setting:
        return Path(setting).expanduser()
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("runs_pandas")) / "connections.toml"


def read_connections(path: Path, providers: set[str]) -> list[dict[str, Any]]:
    """The file's connections as specs (`provider`, `scope`, ..., `from`); an AuthError for a
    file that is not TOML or names no known provider."""
    if not path.is_file():
        return []
    import tomllib  # only when there is a file: most sessions have none

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AuthError(f"the connections file {path} is not valid TOML: {exc}") from None
    specs: list[dict[str, Any]] = []
    for name, entries in data.items():
        if name not in providers:
            raise AuthError(f"the connections file {path} has a table [[{name}]]; "
                            f"the providers are {', '.join(sorted(providers))}")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise AuthError(f"the connections file {path}: write each {name} connection as a [[{name}]] table")
        specs += [{**entry, "provider": name, "from": f"the connections file {path}"} for entry in entries]
    return specs
