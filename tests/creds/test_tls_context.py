"""The session's TLS context: httpx's default one, with the CA bundle read on first use."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest

import runs_pandas as rp
from runs_pandas.session import _TLSContext, _tls_context
from tests.creds.entra import tls_server

SAME = ("protocol", "verify_mode", "check_hostname", "options", "minimum_version", "maximum_version",
        "verify_flags", "post_handshake_auth", "hostname_checks_common_name", "security_level",
        "keylog_filename")


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:
        pass


def test_it_is_what_httpx_would_make() -> None:
    ours, httpx_own = _TLSContext(ssl.PROTOCOL_TLS_CLIENT), httpx.create_ssl_context(trust_env=False)
    fresh = _tls_context.__wrapped__()
    for name in SAME:
        assert getattr(fresh, name) == getattr(httpx_own, name), name
    assert fresh.get_ciphers() == httpx_own.get_ciphers()
    assert ours.cert_store_stats()["x509_ca"] == 0  # nothing read until a TLS connection
    ours._load()
    assert ours.get_ca_certs() == httpx_own.get_ca_certs()  # certifi's bundle, as httpx reads it


def test_plain_http_never_reads_the_ca_bundle(session: rp.Session) -> None:
    _tls_context.cache_clear()  # the context this session's client is about to get
    rp.query("SELECT count(*) AS n FROM airplane.runs.runs", session=session)  # the sandbox: http
    context = _tls_context()
    assert isinstance(context, _TLSContext)
    assert session.client._transport._pool._ssl_context is context  # type: ignore[attr-defined]
    assert not context._loaded and context.cert_store_stats()["x509_ca"] == 0


def test_a_tls_connection_reads_the_bundle_and_still_verifies(tls: tuple[Path, Path, Path]) -> None:
    """The first TLS connection loads certifi's CAs; a server they do not vouch for is refused."""
    _, cert, key = tls
    server = tls_server(_Ok, cert, key)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = _tls_context.__wrapped__()
    try:
        with httpx.Client(verify=context, trust_env=False) as client, pytest.raises(httpx.ConnectError) as caught:
            client.get(f"https://127.0.0.1:{server.server_address[1]}/")
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
        assert context.cert_store_stats()["x509_ca"] > 0
    finally:
        server.shutdown()
        server.server_close()
