"""Credentials bound to scopes: two Azure tenants in one query, Airplane teams with their own
keys, the connections file, and SHOW CONNECTIONS (which never shows a secret)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import runs_pandas as rp
from runs_pandas.errors import AuthError
from tests.creds.entra import FakeEntra

ACR = ("SELECT subscriptionId, runId FROM azure.container_registry.runs WHERE subscriptionId IN ('sub-1', 'sub-2') "
       "AND resourceGroupName = 'rg' AND registryName = 'registry1'")
AIR = "SELECT id, teamID FROM airplane.runs.runs"
AIRPLANE = "https://api.airplane.test/v0"
SECRET_1, SECRET_2 = "tenant-a-secret-111", "tenant-b-secret-222"
KEY_A, KEY_B = "tkn_team_a_secret_333", "tkn_team_b_secret_444"


@pytest.fixture()
def entra(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    fake = FakeEntra({"app-1": SECRET_1, "app-2": SECRET_2}).start()
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", fake.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca))
    import msal.authority

    known = msal.authority.WELL_KNOWN_AUTHORITY_HOSTS | {fake.url.removeprefix("https://"), "127.0.0.1"}
    monkeypatch.setattr(msal.authority, "WELL_KNOWN_AUTHORITY_HOSTS", known)
    yield fake
    fake.stop()


def fake_api(seen: list[httpx.Request]) -> httpx.Client:
    """ARM and Airplane on a MockTransport: one run per subscription or team, requests kept."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.airplane.test":
            team = request.headers.get("X-Team-ID", "")
            return httpx.Response(200, json={"runs": [{"id": f"run_{team}", "teamID": team}]})
        sub = request.url.path.split("/")[2]
        return httpx.Response(200, json={"value": [{"id": f"/x/{sub}", "name": sub, "properties": {
            "runId": f"run-{sub}", "status": "Succeeded", "createTime": "2024-05-01T09:00:00Z"}}]})

    return httpx.Client(transport=httpx.MockTransport(answer))


def by_scope(seen: list[httpx.Request], header: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for request in seen:
        where = request.headers.get("X-Team-ID") or request.url.path.split("/")[2]
        found.setdefault(where, set()).add(request.headers.get(header, ""))
    return found


def test_two_tenants_serve_two_subscriptions_in_one_query(entra: FakeEntra) -> None:
    from azure.identity import ClientSecretCredential

    seen: list[httpx.Request] = []
    session = rp.Session(client=fake_api(seen), settings=rp.Settings(progress=False), connections=[
        {"provider": "azure", "scope": "tenant-a", "serves": ["sub-1"],
         "credential": ClientSecretCredential("tenant-a", "app-1", SECRET_1)},
        {"provider": "azure", "scope": "tenant-b", "serves": ["sub-2"],
         "credential": ClientSecretCredential("tenant-b", "app-2", SECRET_2)},
    ])
    frame = rp.query(ACR, session=session)
    assert sorted(frame["runId"]) == ["run-sub-1", "run-sub-2"]
    assert by_scope(seen, "Authorization") == {"sub-1": {"Bearer entra-token-tenant-a-1"},
                                               "sub-2": {"Bearer entra-token-tenant-b-2"}} or \
        by_scope(seen, "Authorization") == {"sub-1": {"Bearer entra-token-tenant-a-2"},
                                            "sub-2": {"Bearer entra-token-tenant-b-1"}}
    assert sorted((r["tenant"], r["client_id"]) for r in entra.requests) == [("tenant-a", "app-1"), ("tenant-b", "app-2")]


def test_a_tenant_from_the_connections_file_beside_the_default_credential(
    entra: FakeEntra, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant-a")  # DefaultAzureCredential: every other subscription
    monkeypatch.setenv("AZURE_CLIENT_ID", "app-1")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET_1)
    monkeypatch.setenv("TENANT_B_SECRET", SECRET_2)
    file = isolated / ".config" / "runs_pandas" / "connections.toml"  # the user config dir (platformdirs)
    file.parent.mkdir(parents=True)
    file.write_text('[[azure]]\nscope = "tenant-b"\nserves = ["sub-2"]\nclient_id = "app-2"\n'
                    'client_secret_env = "TENANT_B_SECRET"\n')
    seen: list[httpx.Request] = []
    session = rp.Session(client=fake_api(seen), settings=rp.Settings(progress=False))
    assert sorted(rp.query(ACR, session=session)["runId"]) == ["run-sub-1", "run-sub-2"]
    tokens = by_scope(seen, "Authorization")
    assert {t.rsplit("-", 1)[0] for t in tokens["sub-1"]} == {"Bearer entra-token-tenant-a"}
    assert {t.rsplit("-", 1)[0] for t in tokens["sub-2"]} == {"Bearer entra-token-tenant-b"}
    shown = rp.query("SHOW CONNECTIONS IN azure", session=session)
    assert list(shown["scope"]) == ["tenant-b", "(any)"] and list(shown["serves"]) == ["sub-2", ""]
    assert str(file) in shown["source"].iloc[0] and shown["method"].iloc[0] == "ClientSecretCredential"
    assert SECRET_2 not in shown.to_string() and SECRET_1 not in shown.to_string()


@pytest.fixture()
def teams(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEY_A", KEY_A)
    monkeypatch.setenv("KEY_B", KEY_B)
    file = isolated / "my-connections.toml"
    file.write_text('[[airplane]]\nscope = "team_a"\nsecret_env = "KEY_A"\n\n'
                    '[[airplane]]\nscope = "team_b"\nsecret_env = "KEY_B"\n')
    monkeypatch.setenv("RUNS_PANDAS_CONNECTIONS", str(file))
    return file


def airplane(seen: list[httpx.Request]) -> rp.Session:
    return rp.Session(client=fake_api(seen), endpoints={"airplane": AIRPLANE}, settings=rp.Settings(progress=False))


def test_two_airplane_teams_each_with_its_own_key_in_one_query(teams: Path) -> None:
    seen: list[httpx.Request] = []
    frame = rp.query(AIR + " WHERE teamID IN ('team_a', 'team_b')", session=airplane(seen))
    assert sorted(frame["id"]) == ["run_team_a", "run_team_b"]
    assert by_scope(seen, "X-Airplane-API-Key") == {"team_a": {KEY_A}, "team_b": {KEY_B}}


def test_a_team_without_a_key_gets_none(teams: Path) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(AuthError) as info:
        rp.query(AIR + " WHERE teamID = 'team_c'", session=airplane(seen))
    text = str(info.value)
    assert "no airplane credential is bound to the team team_c" in text and "team_a" in text
    assert KEY_A not in text and seen == []


def test_an_api_key_without_a_team_is_a_clear_error(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRPLANE_API_KEY", KEY_A)
    seen: list[httpx.Request] = []
    with pytest.raises(AuthError) as info:
        rp.query(AIR, session=airplane(seen))
    text = str(info.value)
    assert "airplane needs a team with its credential" in text and "set AIRPLANE_TEAM_ID" in text
    assert "pin teamID" in text and KEY_A not in text and seen == []
    monkeypatch.setenv("AIRPLANE_TEAM_ID", "team_a")
    assert list(rp.query(AIR, session=airplane(seen))["id"]) == ["run_team_a"]
    assert seen[0].headers["X-Team-ID"] == "team_a" and seen[0].headers["X-Airplane-API-Key"] == KEY_A


def test_show_connections_lists_scopes_and_sources_never_a_secret(
    teams: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated / ".databrickscfg").write_text(
        "[DEFAULT]\nhost = https://adb-1.2.azuredatabricks.net\ntoken = dapi-default-secret\n\n"
        "[gcp]\nhost = https://9.9.gcp.databricks.com\nauth_type = databricks-cli\n")
    monkeypatch.setenv("RUNS_PANDAS_AZURE_TOKEN", "arm-token-secret-555")
    shown = rp.query("SHOW CONNECTIONS", session=rp.Session(settings=rp.Settings(progress=False)))
    rows = {(r.provider, r.scope): r for r in shown.itertuples()}
    assert rows[("airplane", "team_a")].scope_kind == "team" and str(teams) in rows[("airplane", "team_a")].source
    assert rows[("airplane", "team_b")].source.endswith("secret from KEY_B")
    assert rows[("databricks_workspace", "https://adb-1.2.azuredatabricks.net")].method == "pat"
    assert "profile DEFAULT" in rows[("databricks_workspace", "https://adb-1.2.azuredatabricks.net")].source
    assert rows[("databricks_workspace", "https://9.9.gcp.databricks.com")].method == "databricks-cli"
    azure = shown[shown["provider"] == "azure"]
    assert list(azure["source"]) == ["the environment variable RUNS_PANDAS_AZURE_TOKEN",
                                     "azure-identity's DefaultAzureCredential"]  # in the order they are tried
    text = shown.to_string()
    for secret in (KEY_A, KEY_B, "dapi-default-secret", "arm-token-secret-555"):
        assert secret not in text


def test_a_query_without_a_team_goes_to_airplane_team_id(teams: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRPLANE_TEAM_ID", "team_b")  # its key is the file's team_b key
    seen: list[httpx.Request] = []
    assert list(rp.query(AIR, session=airplane(seen))["id"]) == ["run_team_b"]
    assert seen[0].headers["X-Airplane-API-Key"] == KEY_B
