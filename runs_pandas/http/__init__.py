"""HTTP: requests built from the catalog, credentials, paging, retries, concurrency."""

from runs_pandas.http.auth import Credentials, same_origin
from runs_pandas.http.client import Limits, Sender
from runs_pandas.http.redact import redact
from runs_pandas.http.request import Request, build_request, check_value
from runs_pandas.http.wire import Response, Series

__all__ = [
    "Credentials",
    "Limits",
    "Request",
    "Response",
    "Sender",
    "Series",
    "build_request",
    "check_value",
    "redact",
    "same_origin",
]
