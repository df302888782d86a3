"""A fake Databricks workspace on loopback over TLS: host metadata, OIDC discovery, an OAuth
M2M token endpoint, and the clean-room runs listing.

databricks-sdk really talks to it (through requests) to get a token; runs_pandas sends the
listing requests. Every Authorization header that reaches the workspace is recorded, so a
test can tell which credential went where.
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.creds.entra import JsonHandler, tls_server


class FakeWorkspace:
    """One workspace: `clients` (client id -> secret) may get tokens, `pats` are accepted as is."""

    def __init__(self, name: str, tls: tuple[Path, Path], clients: dict[str, str] | None = None,
                 pats: tuple[str, ...] = (), expires_in: int = 3600) -> None:
        self.name = name
        self.clients = dict(clients or {})
        self.pats = set(pats)
        self.expires_in = expires_in
        self.issued: list[str] = []  # tokens handed out, in order
        self.token_asks: list[dict[str, str]] = []  # client id, scope, grant of each token request
        self.seen: list[str] = []  # the Authorization header of every API request
        fake = self

        class Handler(JsonHandler):

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                base = fake.url
                if path == "/.well-known/databricks-config":
                    self._send(200, {"oidc_endpoint": f"{base}/oidc", "workspace_id": "1001"})
                elif path == "/oidc/.well-known/oauth-authorization-server":
                    self._send(200, {"issuer": f"{base}/oidc", "token_endpoint": f"{base}/oidc/v1/token",
                                     "authorization_endpoint": f"{base}/oidc/v1/authorize"})
                elif path.startswith("/api/2.0/clean-rooms/") and path.endswith("/runs"):
                    header = self.headers.get("Authorization", "")
                    fake.seen.append(header)
                    token = header.removeprefix("Bearer ")
                    if token not in fake.issued and token not in fake.pats:
                        self._send(401, {"error_code": "UNAUTHENTICATED", "message": "Invalid access token."})
                        return
                    room = path.split("/")[4]
                    self._send(200, {"runs": [{"notebook_name": f"{fake.name}-nb", "start_time": 1714550400000,
                                               "output_schema_name": room,
                                               "notebook_job_run_state": {"life_cycle_state": "TERMINATED",
                                                                          "result_state": "SUCCESS"}}]})
                else:
                    self._send(404, {"error_code": "NOT_FOUND", "message": path})

            def do_POST(self) -> None:
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()).items()}
                basic = self.headers.get("Authorization", "")
                if basic.startswith("Basic "):
                    client, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                else:
                    client, secret = form.get("client_id", ""), form.get("client_secret", "")
                fake.token_asks.append({"client_id": client, "scope": form.get("scope", ""),
                                        "grant_type": form.get("grant_type", "")})
                if urlparse(self.path).path != "/oidc/v1/token" or fake.clients.get(client) != secret:
                    self._send(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
                    return
                token = f"{fake.name}-token-{len(fake.issued) + 1}"
                fake.issued.append(token)
                self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": fake.expires_in,
                                 "scope": form.get("scope", "")})

        self._server = tls_server(Handler, *tls)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self.url = f"https://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeWorkspace:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
