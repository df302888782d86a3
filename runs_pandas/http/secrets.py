"""A secret as read from a user's setting: checked, kept as `SecretStr`, sent as a header."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from pydantic import SecretStr

from runs_pandas.catalog import Provider
from runs_pandas.errors import AuthError


def checked(value: str, where: str) -> SecretStr:
    """The secret with surrounding whitespace stripped; an AuthError naming `where` (never the
    value) when it is empty or holds control characters or non-ASCII, which no header can carry."""
    text = value.strip()
    if not text:
        raise AuthError(f"the credential from {where} is empty")
    bad = next((ch for ch in text if ord(ch) < 32 or ord(ch) == 127 or ord(ch) > 126), None)
    if bad is not None:
        kind = "a control character" if ord(bad) < 32 or ord(bad) == 127 else "a non-ASCII character"
        raise AuthError(
            f"the credential from {where} holds {kind}; a credential is printable ASCII. "
            f"Copy it again from the provider (the value is not shown here)"
        )
    return SecretStr(text)


def static_headers(provider: Provider, secret: SecretStr) -> Callable[[], Mapping[str, str]]:
    """The provider's auth header with a fixed secret (a key, a token)."""
    auth = provider.auth
    prefix = f"{auth.scheme} " if auth.scheme else ""

    def headers() -> Mapping[str, str]:
        extra = {h: checked(os.environ[e], f"the environment variable {e}").get_secret_value()
                 for h, e in auth.extra_headers.items() if os.environ.get(e)}
        return {auth.header: prefix + secret.get_secret_value(), **extra}

    return headers
