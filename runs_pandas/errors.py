"""Every error runs_pandas raises, under one root.

    RunsError
    ├── QueryError               the SQL cannot be read or run (line and column when known)
    │   ├── SqlSyntaxError         cannot be parsed: line, column, a caret, what was expected
    │   ├── UnknownResourceError   no such provider / resource / method (names the closest)
    │   └── ParamError             a bad or unknown parameter value
    │       └── MissingParamError  required parameters not given (names each, and those given)
    ├── AuthError                no credentials for a provider, or they were refused
    ├── ApiError                 the API answered with an error (status, code, message, URL)
    │   ├── UnauthorizedError      401/403: the provider refused the credentials (also an AuthError)
    │   ├── NotFoundError          404 on a request for one object: no such object
    │   └── PageError              a page that is not what the catalog says, or paging that repeats
    └── IncompleteFetchError     some series failed, others not; carries the rows fetched

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


class SqlSyntaxError(QueryError):
    """The SQL cannot be parsed; the message shows the line with a caret under the place."""

    def __init__(self, expected: str, text: str, line: int, col: int, width: int = 1) -> None:
        self.expected = expected
        lines = text.splitlines() or [""]
        source = lines[min(line, len(lines)) - 1]
        caret = " " * (col - 1) + "^" * max(1, min(width, len(source) - col + 1))
        RunsError.__init__(
            self, f"SQL syntax error at line {line}, column {col}: {expected}\n  {source}\n  {caret}"
        )
        self.line = line
        self.col = col


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
    """Credentials are missing for a provider, or the provider refused them.

    `.detail`: the identity library's full reason when it gave one (the message is short);
    `.cause`: that library's own exception.
    """

    detail: str | None = None
    cause: BaseException | None = None


class ApiError(RunsError):
    """The API answered with an error.

    Raised by a fetch whose every series failed: `.failures` then lists them all, and
    `.frame` holds what was fetched before (pages before the failure).
    """

    frame: pd.DataFrame | None = None
    failures: tuple[ApiError, ...] = ()

    def __init__(
        self,
        *,
        status: int | None,
        code: str | None,
        message: str,
        method: str,
        url: str,
        provider: str | None = None,
    ) -> None:
        self.status = status
        self.provider = provider
        self.code = code
        self.api_message = message
        self.method = method
        self.url = url
        status_text = f"HTTP {status}" if status is not None else "no response"
        code_text = f" {code}" if code else ""
        where = f"{provider} " if provider else ""
        super().__init__(f"{where}{method}: {status_text}{code_text}: {message} [{url}]")


class UnauthorizedError(ApiError, AuthError):
    """The provider refused the credentials (HTTP 401 or 403).

    Raised whether one request or all were refused; rows other requests fetched are in `.frame`.
    """


class NotFoundError(ApiError):
    """A request for one object (a run by its id) found none (HTTP 404).

    Rows other requests fetched are in `.frame`.
    """


class PageError(ApiError):
    """A page the catalog's shape does not describe, or a series whose pages repeat or never end.

    The series stops there; the rows of the pages before it are kept.
    """


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
def fetch_failure(message: str, *, frame: pd.DataFrame, failures: list[ApiError], series: int) -> RunsError:
    """The error for a fetch of `series` request series with failures, rows kept in `.frame`.

    Refused credentials are an `UnauthorizedError` whether one request or all were refused;
    objects that do not exist are a `NotFoundError` when nothing else failed; when every
    series failed, the first failure itself; otherwise an `IncompleteFetchError`.
    """
    refused = next((f for f in failures if isinstance(f, UnauthorizedError)), None)
    every = len(failures) >= series
    chosen: ApiError | None = refused
    if chosen is None and failures and (every or all(isinstance(f, NotFoundError) for f in failures)):
        chosen = failures[0]
    if chosen is None:
        return IncompleteFetchError(message, frame=frame, failures=failures)
    chosen.frame = frame
    chosen.failures = tuple(failures)
    return chosen
