"""The databricks-sdk credential source: its unified auth finds and refreshes credentials.

runs_pandas sends its own requests; a `databricks.sdk.core.Config` is asked only for the
headers of each one (`config.authenticate()`), so every method the SDK supports works
with its own names and precedence: a PAT, OAuth M2M, Azure client secret, the Azure CLI,
the U2M token cache, and profiles in `~/.databrickscfg` with `host` and `auth_type`.

Each connection is bound to one workspace host. The SDK's default configuration
(`DATABRICKS_*` variables, else the profile it picks) serves its host and is the default
workspace of a query; every other profile with a `host` serves that host, read from the
profile's own lines only, so a variable meant for one workspace never reaches another.
"""

from __future__ import annotations

import configparser
import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runs_pandas.catalog import CredentialSource, Provider
from runs_pandas.errors import AuthError
from runs_pandas.http.connections import Connection, origin_text

if TYPE_CHECKING:
    from runs_pandas.http.auth import Credentials

FIX = (
    "To fix: set DATABRICKS_HOST with DATABRICKS_TOKEN (a personal access token) or "
    "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth M2M); or run "
    "`databricks auth login --host <workspace>`; or `az login` for Azure Databricks; or add a "
    "profile with that host to ~/.databrickscfg; or use the offline sandbox (Session(sandbox=True))."
)
# what says where a request goes or whose it is: a profile chosen for its host reads these
# from its own lines only, never from DATABRICKS_* variables meant for the default workspace
_AUTH_KEYS = ("token", "client_id", "azure_client_secret", "auth_type", "username")
_WHO = ("host", "profile", "auth_type", "account_id", "workspace_id", "discovery_url", "token_audience")


def describe(_: CredentialSource) -> str:
    return ("databricks-sdk's unified auth (pip install 'runs_pandas[databricks]'; DATABRICKS_HOST with "
            "DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, or a profile with a host in "
            "~/.databrickscfg)")


def config_file() -> Path:
    return Path(os.environ.get("DATABRICKS_CONFIG_FILE") or "~/.databrickscfg").expanduser()


def _profiles(path: Path) -> dict[str, dict[str, str]]:
    """The file's profiles (DEFAULT included), as the SDK reads them."""
    if not path.is_file():
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path)
    except configparser.Error as exc:
        raise AuthError(f"{path} is not a valid ~/.databrickscfg file: {str(exc).splitlines()[0]}") from None
    found = {name: dict(values) for name, values in parser._sections.items()}  # type: ignore[attr-defined]
    found.pop("__settings__", None)
    if parser.defaults():
        found["DEFAULT"] = dict(parser.defaults())
    return found


def _default_profile(path: Path) -> str:
    """The profile the SDK's default configuration reads: DATABRICKS_CONFIG_PROFILE, the file's
    [__settings__] default_profile, else DEFAULT."""
    if os.environ.get("DATABRICKS_CONFIG_PROFILE"):
        return os.environ["DATABRICKS_CONFIG_PROFILE"]
    parser = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        parser.read(path)
    return parser.get("__settings__", "default_profile", fallback="").strip() or "DEFAULT"


def _method(values: Mapping[str, str | None]) -> str:
    """How a configuration authenticates, in the SDK's auth_type words (a guess before it runs)."""
    if values.get("auth_type"):
        return str(values["auth_type"])
    if values.get("token"):
        return "pat"
    if values.get("client_id") and values.get("client_secret"):
        return "oauth-m2m"
    if values.get("azure_client_secret"):
        return "azure-client-secret"
    return "default (databricks-sdk picks)"


# the SDK's variables that say where and how (its documented names): read without importing
# the SDK, which takes seconds; it is imported when a request needs its headers
_ENV = {"host": "DATABRICKS_HOST", "token": "DATABRICKS_TOKEN", "client_id": "DATABRICKS_CLIENT_ID",
        "client_secret": "DATABRICKS_CLIENT_SECRET", "azure_client_secret": "ARM_CLIENT_SECRET",
        "auth_type": "DATABRICKS_AUTH_TYPE", "username": "DATABRICKS_USERNAME"}


def _env_values() -> dict[str, str | None]:
    return {name: os.environ.get(env) for name, env in _ENV.items()}


def find(credentials: Credentials, provider: Provider, source: CredentialSource) -> list[Connection]:
    """The default configuration's workspace, then every other profile's, one connection each."""
    if importlib.util.find_spec("databricks.sdk") is None:
        return []
    path = config_file()
    profiles = _profiles(path)
    env = _env_values()
    found: list[Connection] = []
    chosen = _default_profile(path)
    default_host = env.get("host")
    if default_host:
        where = "the DATABRICKS_* environment variables (databricks-sdk)"
        pinned = profiles.get(chosen, {}) if os.environ.get("DATABRICKS_CONFIG_PROFILE") else {}
        method = _method({**pinned, **{k: v for k, v in env.items() if v}})
    elif profiles.get(chosen, {}).get("host"):
        default_host = profiles[chosen]["host"]
        where = f"profile {chosen} in {path} (databricks-sdk)"
        method = _method({**profiles[chosen], **{k: v for k, v in env.items() if v}})
    options: dict[str, str] = {}
    endpoint = credentials.endpoint_of(provider)
    if not default_host and endpoint and any(env.get(k) for k in _AUTH_KEYS):
        # RUNS_PANDAS_DATABRICKS_ENDPOINT replaces the host: the variables' credential serves it
        default_host = options["host"] = endpoint
        where = f"the DATABRICKS_* environment variables (databricks-sdk), for {provider.endpoint_env}"
        method = _method(env)
    own = credentials.token_credential(provider)  # Session(credentials={...: Config(...)})
    if own is not None:
        host = origin_text(str(own.host))
        found.append(Connection(provider.name, host, "the Config given to the Session",
                                str(getattr(own, "auth_type", None) or "Config"),
                                _lazy(host, "the Config given to the Session", {}, config=own), priority=0, default=True))
    if default_host and not (own is not None and origin_text(default_host) == found[0].scope):
        host = origin_text(default_host)
        found.append(Connection(provider.name, host, where, method, _lazy(host, where, options, env_too=True),
                                default=True))
    for name, values in profiles.items():
        if not values.get("host") or any(c.scope == origin_text(values["host"]) for c in found):
            continue  # the first profile for a host serves it
        served = origin_text(values["host"])
        where = f"profile {name} in {path} (databricks-sdk)"
        found.append(Connection(provider.name, served, where, _method(values),
                                _lazy(served, where, {"profile": name, "config_file": str(path)})))
    return found


def bind(credentials: Credentials, provider: Provider, source: CredentialSource,
         spec: Mapping[str, Any], where: str) -> Connection:
    """A workspace's connection: a `Config` the user made, a `profile`, or Config options
    (`auth_type`, `client_id`, ...) for the host given as its scope."""
    scope = spec.get("scope")
    given = spec.get("credential")
    if given is not None:
        host = origin_text(str(scope or given.host))
        return Connection(provider.name, host, where, str(getattr(given, "auth_type", None) or "Config"),
                          _lazy(host, where, {}, config=given), priority=0)
    if not scope:
        raise AuthError(f"{where}: a {provider.name} connection needs its workspace host as scope")
    host = origin_text(str(scope))
    options = {k: v for k, v in spec.items() if k not in ("provider", "scope", "serves", "from", "credential")}
    if "profile" in options:
        options.setdefault("config_file", str(config_file()))
    else:
        options["host"] = host
    return Connection(provider.name, host, where, _method(options), _lazy(host, where, options), priority=0)


def _lazy(host: str, where: str, options: Mapping[str, Any], *, env_too: bool = False,
          config: Any = None) -> Callable[[], Mapping[str, str]]:
    """Headers from a Config made when first asked (it may call the network), checked to be
    for `host`; the Config is kept, so its tokens are cached and refreshed by the SDK."""
    lock = threading.Lock()
    made: list[Any] = [] if config is None else [config]

    def headers() -> Mapping[str, str]:
        with lock:
            if not made:
                made.append(_make(host, where, options, env_too))
            current = made[0]
        if origin_text(str(current.host)) != host:
            raise AuthError(f"the databricks-sdk configuration from {where} is for {current.host}, "
                            f"not {host}; its credential is not sent to another workspace")
        try:
            return dict(current.authenticate())
        except Exception as exc:  # noqa: BLE001  the SDK raises its own and requests' errors
            raise _failure(host, where, exc) from None

    return headers


def _make(host: str, where: str, options: Mapping[str, Any], env_too: bool) -> Any:
    from databricks.sdk.core import Config

    class ProfileConfig(Config):
        """A profile's own lines: no DATABRICKS_* variable says where it goes or who it is."""

        def _load_from_env(self) -> None:
            for attr in self.attributes():
                if attr.env and attr.name not in self._inner and attr.auth is None and attr.name not in _WHO:
                    value = os.environ.get(attr.env)
                    if value:
                        setattr(self, attr.name, value)

    _quiet_metadata()
    try:
        return (Config if env_too else ProfileConfig)(**options)
    except Exception as exc:  # noqa: BLE001  ValueError mostly; a network error while discovering
        raise _failure(host, where, exc) from None


class _NoMetadataWarning(logging.Filter):
    """The SDK's best-effort host metadata probe warns when a host has none (proxies, the
    sandbox); it then uses the configuration as given, so the warning says nothing useful."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to automatically resolve config from host metadata")


_filter = _NoMetadataWarning()


def _quiet_metadata() -> None:
    logger = logging.getLogger("databricks.sdk")  # config.py logs as the package
    if _filter not in logger.filters:
        logger.addFilter(_filter)


def _failure(host: str, where: str, exc: BaseException) -> AuthError:
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    first = first.split(". Config:")[0].split(". Env:")[0]
    if len(first) > 240:
        first = first[:240] + "..."
    error = AuthError(f"databricks-sdk could not authenticate to {host} with {where}: {first}.\n{FIX}\n"
                      f"(the full reason is on this error's .detail)")
    error.detail = text
    error.cause = exc
    return error
