"""MatillionClient against the Matillion DPC emulator (in process, mounted under /matillion)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import loopback
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.backends.matillion import (
    PAT_HEADER,
    ConnectionOverride,
    MatillionClient,
    redshift_override,
    snowflake_override,
)
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.settings import Target
from sandbox.backends.matillion import create_app

BASE = "http://dpc.test/matillion"
AGENT = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
ANALYTICS = "4c6d3f5e-2b1a-4e8f-9a7b-0c1d2e3f4a5b"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE-unit-test-key\n-----END PRIVATE KEY-----"


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """The emulator's ASGI app as a transport, remembering every request."""

    inner: httpx.AsyncBaseTransport
    seen: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    def paths(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.url.path.endswith(suffix)]

    @property
    def token_requests(self) -> int:
        return len(self.paths("/oauth/dpc/token"))


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def target(secret: str = "demo-secret") -> Target:
    return Target(name="matillion", kind="matillion", url=BASE,
                  credentials={"client_id": "demo-client", "client_secret": secret},
                  options={"token_url": f"{BASE}/oauth/dpc/token"})


@pytest.fixture
def transport() -> Recorder:
    app = Starlette(routes=[Mount("/matillion", app=create_app("demo"))])
    return Recorder(httpx.ASGITransport(app=app))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(transport: Recorder, clock: Clock) -> AsyncIterator[MatillionClient]:
    matillion = MatillionClient(target(), transport=transport, clock=clock)
    yield matillion
    await matillion.aclose()


async def admin(transport: Recorder, method: str, path: str, **kwargs) -> httpx.Response:
    async with loopback.AsyncClient(transport=transport.inner, base_url=BASE) as http:
        return await http.request(method, path, **kwargs)


async def state(transport: Recorder) -> dict:
    return (await admin(transport, "GET", "/_admin/state")).json()


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


# ---------------------------------------------------------------- token
async def test_token_is_fetched_once_and_cached(client: MatillionClient, transport: Recorder) -> None:
    assert await client.ping() == "2 projects"
    await client.list_projects()
    assert transport.token_requests == 1
    form = transport.paths("/oauth/dpc/token")[0].content.decode()
    assert "grant_type=client_credentials" in form and "audience=https%3A%2F%2Fapi.matillion.com" in form
    api = transport.paths("/v1/projects")
    assert all(r.headers["authorization"].startswith("Bearer ey") for r in api)


async def test_concurrent_calls_share_one_token_fetch(client: MatillionClient, transport: Recorder) -> None:
    await asyncio.gather(*(client.list_projects() for _ in range(8)))
    assert transport.token_requests == 1


async def test_token_is_refreshed_before_its_30_minutes_run_out(
    client: MatillionClient, transport: Recorder, clock: Clock
) -> None:
    await client.list_projects()
    clock.now += 25 * 60  # still well inside the 30 minutes
    await client.list_projects()
    assert transport.token_requests == 1
    clock.now += 3.5 * 60  # 28.5 minutes: within the refresh margin, before expiry
    await client.list_projects()
    assert transport.token_requests == 2


async def test_a_401_gets_one_new_token_and_one_retry(client: MatillionClient, transport: Recorder) -> None:
    await client.list_projects()
    await admin(transport, "POST", "/_admin/expire_tokens")
    assert len(await client.list_projects()) == 2
    assert transport.token_requests == 2
    statuses = [r.url.path for r in transport.paths("/v1/projects")]
    assert len(statuses) == 3  # first call, the refused one, the retry


async def test_wrong_client_secret_is_reported_without_the_secret(transport: Recorder) -> None:
    wrong = "wrong-secret-7f3e91"
    matillion = MatillionClient(target(wrong), transport=transport)
    with pytest.raises(BackendError) as caught:
        await matillion.list_projects()
    await matillion.aclose()
    assert "client id and secret" in caught.value.message
    assert wrong not in str(caught.value)


async def test_missing_credentials_say_so_before_any_call(transport: Recorder) -> None:
    bare = Target(name="m", kind="matillion", url=BASE)
    matillion = MatillionClient(bare, transport=transport)
    with pytest.raises(BackendError, match="no Matillion client id and secret"):
        await matillion.ping()
    assert transport.seen == []
    await matillion.aclose()


# ---------------------------------------------------------------- creates
async def test_create_project_connection_environment_repository(
    client: MatillionClient, transport: Recorder
) -> None:
    project_id = await client.create_project("unit-dwh", "SNOWFLAKE", "HYBRID", "unit test")
    assert uuid.UUID(project_id).version == 4
    connection = await client.create_connection(project_id, "sf-main", "snowflake")
    assert (connection.auth_provider, connection.auth_type, connection.platform_connection_type) == (
        "SNOWFLAKE", "KEY_PAIR", "DWH")
    override = snowflake_override("sf-main", account="acme-xy1", username="SVC", private_key=SecretStr(PRIVATE_KEY),
                                  passphrase=SecretStr("unit-passphrase"), warehouse="COMPUTE_WH")
    env = await client.create_environment(project_id, name="dev", default_agent_id=AGENT, warehouse="snowflake",
                                          override=override, access_level="runner", description="Dev")
    assert (env.name, env.default_user_access_level) == ("dev", "runner")
    repo = await client.associate_repository(project_id, "acme/unit-dwh", SecretStr("ghp_unitTestToken1234567890abcd"))
    assert repo.repository_name == "acme/unit-dwh"

    body = transport.paths("/environments")[0].content.decode()
    assert '"defaultConnections":{"DWH":{"snowflake":"sf-main"}}' in body.replace(" ", "")
    pat_request = transport.paths("/repositories")[0]
    assert pat_request.headers[PAT_HEADER] == "ghp_unitTestToken1234567890abcd"
    assert "ghp_unit" not in pat_request.content.decode()  # the PAT travels only in the header

    project = next(p for p in (await state(transport))["projects"] if p["id"] == project_id)
    assert (project["warehouse"], project["agentDeploymentType"]) == ("SNOWFLAKE", "HYBRID")
    secrets = project["environments"][0]["secrets"]["sf-main"]
    assert secrets["connectionProperties.privateKey"]["sha256"] == sha(PRIVATE_KEY)
    assert secrets["connectionProperties.passphrase"]["sha256"] == sha("unit-passphrase")
    assert project["repository"]["accessToken"]["sha256"] == sha("ghp_unitTestToken1234567890abcd")


async def test_redshift_connection_uses_a_password(client: MatillionClient, transport: Recorder) -> None:
    project_id = await client.create_project("unit-rs", "redshift")
    connection = await client.create_connection(project_id, "rs-main", "Redshift")
    assert connection.auth_type == "PASSWORD"
    override = redshift_override("rs-main", endpoint="rs.example.com", username="etl", password=SecretStr("rs-pw-1"))
    await client.create_environment(project_id, name="prod", default_agent_id=AGENT, warehouse="REDSHIFT",
                                    override=override)
    project = next(p for p in (await state(transport))["projects"] if p["id"] == project_id)
    assert project["environments"][0]["secrets"]["rs-main"]["connectionProperties.password"]["sha256"] == sha("rs-pw-1")


async def test_case_insensitive_enums_are_accepted(client: MatillionClient, transport: Recorder) -> None:
    project_id = await client.create_project("unit-case", "Snowflake", "full-saas")
    await client.create_connection(project_id, "sf", "sNoWfLaKe")
    override = snowflake_override("sf", account="a", username="u", private_key=SecretStr(PRIVATE_KEY))
    env = await client.create_environment(project_id, name="dev", default_agent_id=AGENT, warehouse="snowflake",
                                          override=override, access_level="READONLY")
    assert env.default_user_access_level == "readOnly"
    # The docs' own example body uses lowercase enums; the emulator takes them as the API does.
    raw = await client._call("POST", f"v1/projects/{project_id}/data-platform-connections",
                             json={"name": "lower", "platformConnectionType": "dwh", "authProvider": "snowflake",
                                   "authType": "key_pair"})
    assert raw.status_code == 201 and raw.json()["authType"] == "KEY_PAIR"
    project = next(p for p in (await state(transport))["projects"] if p["id"] == project_id)
    assert (project["warehouse"], project["agentDeploymentType"]) == ("SNOWFLAKE", "FULL_SAAS")
    with pytest.raises(UsageError, match="not a supported warehouse"):
        await client.create_project("unit-bad", "bigquery")


# ---------------------------------------------------------------- errors
async def test_violations_become_plain_words(client: MatillionClient) -> None:
    project_id = await client.create_project("unit-violations", "snowflake")
    await client.create_connection(project_id, "sf", "snowflake")
    no_key = ConnectionOverride("sf", {"account": "a", "username": "u"})
    with pytest.raises(BackendError) as caught:
        await client.create_environment(project_id, name="dev", default_agent_id="not-a-uuid", warehouse="snowflake",
                                        override=no_key)
    message = caught.value.message
    assert message.startswith("Matillion refused the request:")
    assert "default agent id must be a valid UUID" in message
    assert caught.value.status == 400 and caught.value.hint
    with pytest.raises(BackendError) as caught:
        await client.create_environment(project_id, name="dev", default_agent_id=AGENT, warehouse="snowflake",
                                        override=no_key)
    assert "private key must not be blank" in caught.value.message
    with pytest.raises(BackendError, match="name must not be blank"):
        await client.create_project(" ", "snowflake")


async def test_not_found_and_conflict(client: MatillionClient) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as caught:
        await client.get_project(missing)
    assert (caught.value.resource, caught.value.name) == ("project", missing)
    with pytest.raises(NotFoundError, match="no Matillion project named `nope`") as caught:
        await client.find_project("nope")
    assert (caught.value.resource, caught.value.name) == ("project", "nope")
    assert "analytics-dwh" in (caught.value.candidates or [])  # read already: the hint needs no second listing
    assert (await client.find_project("ANALYTICS-dwh")).id == ANALYTICS
    with pytest.raises(ConflictError) as conflict:
        await client.create_project("analytics-dwh", "snowflake")
    assert conflict.value.reason == Reason.EXISTS and "/projects" not in conflict.value.hint
    with pytest.raises(ConflictError):  # a repository was already associated
        await client.associate_repository(ANALYTICS, "acme/other", SecretStr("ghp_otherToken1234567890abcdef"))


async def test_429_waits_for_retry_after(client: MatillionClient, transport: Recorder) -> None:
    await admin(transport, "POST", "/_faults", json={"status": 429, "count": 1, "retry_after": 0.05,
                                                     "path": "/v1/projects"})
    assert len(await client.list_projects()) == 2
    assert len(transport.paths("/v1/projects")) == 2


async def test_persistent_429_is_reported_as_rate_limiting(client: MatillionClient, transport: Recorder) -> None:
    await admin(transport, "POST", "/_faults", json={"status": 429, "count": 10, "retry_after": 0.01,
                                                     "path": "/v1/projects"})
    with pytest.raises(BackendError) as caught:
        await client.list_projects()
    assert caught.value.status == 429 and caught.value.retryable
    assert "rate limiting" in caught.value.message


async def test_delete_project(client: MatillionClient) -> None:
    project_id = await client.create_project("unit-delete", "redshift")
    await client.delete_project(project_id)
    with pytest.raises(NotFoundError):
        await client.get_project(project_id)
