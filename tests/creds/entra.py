"""A fake Microsoft Entra token endpoint on loopback over TLS, signed by a test CA made here.

azure-identity (through MSAL and requests) really talks to it: tenant discovery, then the
client-credentials token request. Each token request's tenant, client and scope is recorded.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1/localhost it signed: (ca, cert, key) files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "runs_pandas test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler that answers JSON: the base of the loopback fakes here."""

    def log_message(self, *_: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def tls_server(handler: type[BaseHTTPRequestHandler], cert: Path, key: Path) -> ThreadingHTTPServer:
    """A threading HTTPS server on a free loopback port, serving `handler` with `cert`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


class FakeEntra:
    """Serves tenant discovery and client-credentials tokens; `.requests` records each token ask."""

    def __init__(self, secrets: dict[str, str], expires_in: int = 3600) -> None:
        self.secrets = secrets  # client id -> its secret; any other pair is refused (401)
        self.expires_in = expires_in
        self.requests: list[dict[str, str]] = []
        self._folder = tempfile.TemporaryDirectory()
        self.ca, cert, key = _certificates(Path(self._folder.name))
        fake = self

        class Handler(JsonHandler):

            def do_GET(self) -> None:
                path = urlparse(self.path).path.strip("/").split("/")
                base = fake.url
                if path[-1] == "instance":  # MSAL's instance discovery
                    query = parse_qs(urlparse(self.path).query)
                    tenant = urlparse(query.get("authorization_endpoint", [""])[0]).path.strip("/").split("/")[0]
                    self._send(200, {"tenant_discovery_endpoint":
                                     f"{base}/{tenant or 'common'}/v2.0/.well-known/openid-configuration",
                                     "api-version": "1.1", "metadata": []})
                    return
                tenant = path[0]
                self._send(200, {
                    "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/{tenant}/v2.0",
                    "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                })

            def do_POST(self) -> None:
                tenant = self.path.strip("/").split("/")[0]
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                fake.requests.append({"tenant": tenant, "client_id": form.get("client_id", ""),
                                      "scope": form.get("scope", "")})
                if fake.secrets.get(form.get("client_id", "")) != form.get("client_secret"):
                    self._send(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."})
                    return
                n = len(fake.requests)
                self._send(200, {"token_type": "Bearer", "expires_in": fake.expires_in, "ext_expires_in": fake.expires_in,
                                 "access_token": f"entra-token-{tenant}-{n}"})

        self._server = tls_server(Handler, cert, key)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeEntra:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._folder.cleanup()
