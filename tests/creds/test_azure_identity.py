"""azure-identity's real EnvironmentCredential against a fake Entra endpoint (TLS, loopback):
ARM requests carry its token, asked for the scope of the ARM endpoint actually used."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

import runs_pandas as rp
from runs_pandas.errors import AuthError
from tests.creds.entra import FakeEntra

SQL = ("SELECT runId, status FROM azure.container_registry.runs "
       "WHERE subscriptionId = 'sub-1' AND resourceGroupName = 'rg' AND registryName = 'registry1'")
SECRET = "client-secret-value-123"


@pytest.fixture()
def entra(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    fake = FakeEntra({"app-1": SECRET, "app-2": "other-secret-456"}).start()
    for name in ("RUNS_PANDAS_AZURE_TOKEN", "RUNS_PANDAS_AZURE_ENDPOINT", "RUNS_PANDAS_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant-a")
    monkeypatch.setenv("AZURE_CLIENT_ID", "app-1")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca))  # what azure-core's requests transport trusts
    # MSAL validates an unknown authority at login.microsoftonline.com; the fake is a known one here
    import msal.authority

    known = msal.authority.WELL_KNOWN_AUTHORITY_HOSTS | {fake.url.removeprefix("https://"), "127.0.0.1"}
    monkeypatch.setattr(msal.authority, "WELL_KNOWN_AUTHORITY_HOSTS", known)
    yield fake
    fake.stop()


def arm(seen: list[httpx.Request]) -> httpx.Client:
    """A fake ARM (MockTransport): one run per registry, the request kept to check its token."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": [{"id": "/x/r1", "name": "r1", "properties": {
            "runId": "r1", "status": "Succeeded", "createTime": "2024-05-01T09:00:00Z"}}]})

    return httpx.Client(transport=httpx.MockTransport(answer))


def run(session: rp.Session) -> list[str]:
    frame = rp.query(SQL, session=session)
    return list(frame["runId"])


@pytest.mark.parametrize("endpoint, scope", [
    (None, "https://management.azure.com/.default"),
    ("https://management.chinacloudapi.cn", "https://management.chinacloudapi.cn/.default"),
    ("https://management.usgovcloudapi.net", "https://management.usgovcloudapi.net/.default"),
])
@pytest.mark.parametrize("via", ["session", "env"])
def test_environment_credential_scope_follows_the_endpoint(
    entra: FakeEntra, monkeypatch: pytest.MonkeyPatch, endpoint: str | None, scope: str, via: str
) -> None:
    from azure.identity import EnvironmentCredential

    seen: list[httpx.Request] = []
    endpoints = {"azure": endpoint} if endpoint and via == "session" else None
    if endpoint and via == "env":
        monkeypatch.setenv("RUNS_PANDAS_AZURE_ENDPOINT", endpoint)
    session = rp.Session(client=arm(seen), endpoints=endpoints, credentials={"azure": EnvironmentCredential()},
                         settings=rp.Settings(progress=False))
    assert run(session) == ["r1"]
    assert [r["scope"] for r in entra.requests] == [scope]
    assert entra.requests[0]["tenant"] == "tenant-a"
    assert seen[0].url.host == httpx.URL(scope).host
    assert seen[0].headers["Authorization"] == "Bearer entra-token-tenant-a-1"


def test_default_credential_finds_the_environment_and_caches_the_token(entra: FakeEntra) -> None:
    seen: list[httpx.Request] = []
    session = rp.Session(client=arm(seen), settings=rp.Settings(progress=False))
    assert run(session) == ["r1"] and run(session) == ["r1"]
    assert len(entra.requests) == 1  # the credential caches the token; runs_pandas asks it each time
    assert all(r.headers["Authorization"] == "Bearer entra-token-tenant-a-1" for r in seen)


def test_expired_token_is_refreshed_by_the_credential(entra: FakeEntra) -> None:
    entra.expires_in = 1  # azure-identity refreshes a token this close to expiry
    seen: list[httpx.Request] = []
    session = rp.Session(client=arm(seen), settings=rp.Settings(progress=False))
    run(session)
    run(session)
    assert len(entra.requests) == 2
    assert [r.headers["Authorization"] for r in seen] == ["Bearer entra-token-tenant-a-1", "Bearer entra-token-tenant-a-2"]


def test_a_users_own_token_credential(entra: FakeEntra) -> None:
    class Mine:
        def __init__(self) -> None:
            self.scopes: list[str] = []

        def get_token(self, *scopes: str, **_: object) -> object:
            from azure.core.credentials import AccessToken

            self.scopes.extend(scopes)
            return AccessToken("my-own-token", 2_000_000_000)

    mine = Mine()
    seen: list[httpx.Request] = []
    session = rp.Session(client=arm(seen), credentials={"azure": mine},
                         endpoints={"azure": "https://management.chinacloudapi.cn"}, settings=rp.Settings(progress=False))
    assert run(session) == ["r1"]
    assert mine.scopes == ["https://management.chinacloudapi.cn/.default"]
    assert seen[0].headers["Authorization"] == "Bearer my-own-token"
    assert entra.requests == []


def test_wrong_secret_is_a_short_error_with_the_chain_kept(
    entra: FakeEntra, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong-secret-789")
    session = rp.Session(client=arm([]), settings=rp.Settings(progress=False))
    with caplog.at_level(logging.WARNING), pytest.raises(AuthError) as caught:
        run(session)
    message = str(caught.value)
    assert "EnvironmentCredential" in message and "az login" in message and "AZURE_CLIENT_SECRET" in message
    assert "sandbox" in message
    assert len(message) < 900
    assert "wrong-secret-789" not in message and "wrong-secret-789" not in (caught.value.detail or "")
    assert caught.value.detail and caught.value.cause is not None
    assert not [r for r in caplog.records if r.name.startswith("azure.identity") and r.levelno == logging.WARNING
                and "failed to retrieve a token" in r.getMessage()]  # printed once: not again as a warning


def test_no_credentials_at_all_names_what_was_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "RUNS_PANDAS_AZURE_TOKEN",
                 "RUNS_PANDAS_SANDBOX", "RUNS_PANDAS_AZURE_ENDPOINT", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no az, azd, pwsh to find
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")  # IMDS probe: refused on loopback
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential(exclude_managed_identity_credential=True,
                                        exclude_shared_token_cache_credential=True)
    session = rp.Session(client=arm([]), credentials={"azure": credential}, settings=rp.Settings(progress=False))
    with pytest.raises(AuthError) as caught:
        run(session)
    message = str(caught.value)
    assert "EnvironmentCredential" in message and "AzureCliCredential" in message
    assert "az login" in message and "sandbox" in message
    assert len(message.splitlines()) <= 4 and len(message) < 900
    assert "Attempted credentials" in (caught.value.detail or "")


def test_sandbox_needs_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "RUNS_PANDAS_AZURE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with rp.Session(sandbox=True, settings=rp.Settings(progress=False)) as session:
        assert len(rp.query("SELECT * FROM airplane.runs.runs LIMIT 3", session=session)) == 3
