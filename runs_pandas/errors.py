"""Every error runs_pandas raises, under one root.

    RunsError
    ├── QueryError               the SQL cannot be read or run (line and column when known)
    │   ├── UnknownResourceError   no such provider / resource / method (names the closest)
    │   └── ParamError             a bad or unknown parameter value
    │       └── MissingParamError  required parameters not given (names each, and those given)
    ├── AuthError                no credentials for a provider, or they were refused
    ├── ApiError                 the API answered with an error (status, code, message, URL)
    │   └── UnauthorizedError      401/403: the provider refused the credentials (also an AuthError)
    └── IncompleteFetchError     some requests failed; carries the rows already fetched

Messages say what went wrong, where, and what is accepted. None holds a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class RunsError(Exception):
    """The root of every runs_pandas error."""


class QueryError(RunsError):
    """The query cannot be read or run."""

    def __init__(self, message: str, *, line: int | None = None, col: int | None = None) -> None:
        self.line = line
        self.col = col
        where = f" (line {line}, column {col})" if line is not None and col is not None else ""
        super().__init__(f"{message}{where}")


class UnknownResourceError(QueryError):
    """A provider, service, resource or method the catalog does not hold."""


class ParamError(QueryError):
    """A parameter is unknown, or its value cannot be valid."""


class MissingParamError(ParamError):
    """A method's required parameters were not given."""

    def __init__(
        self, resource: str, method: str, missing: list[str], given: list[str], hint: str = ""
    ) -> None:
        self.resource = resource
        self.method = method
        self.missing = missing
        self.given = given
        given_text = ", ".join(given) if given else "none"
        super().__init__(
            f"{resource}: method {method} needs {', '.join(missing)}"
            f" (given: {given_text}).{hint}"
        )


class AuthError(RunsError):
    """Credentials are missing for a provider, or the provider refused them."""


class ApiError(RunsError):
    """The API answered with an error."""

    def __init__(
        self,
        *,
        status: int | None,
        code: str | None,
        message: str,
        method: str,
        url: str,
    ) -> None:
        self.status = status
        self.code = code
        self.api_message = message
        self.method = method
        self.url = url
        status_text = f"HTTP {status}" if status is not None else "no response"
        code_text = f" {code}" if code else ""
        super().__init__(f"{method}: {status_text}{code_text}: {message} [{url}]")


class UnauthorizedError(ApiError, AuthError):
    """The provider refused the credentials (HTTP 401 or 403)."""


class IncompleteFetchError(RunsError):
    """Some requests failed after retries; the rows already fetched are kept in `.frame`."""

    def __init__(self, message: str, *, frame: pd.DataFrame, failures: list[ApiError]) -> None:
        self.frame = frame
        self.failures = failures
        lines = "\n".join(f"  - {failure}" for failure in failures)
        super().__init__(
            f"{message}\n{len(failures)} request(s) failed:\n{lines}\n"
            f"The {len(frame)} row(s) fetched are kept in the error's .frame attribute."
        )



class RequestBudgetError(RunsError):
    """A query would send, or has sent, as many requests as `max_requests` allows.

    Rows fetched before the budget ran out are kept in `.frame` (None when nothing was sent).
    """

    def __init__(self, message: str, *, frame: pd.DataFrame | None = None) -> None:
        self.frame = frame
        super().__init__(message)
