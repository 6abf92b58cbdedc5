"""TerraformClient against the HCP Terraform emulator over real HTTP (demo seed, organization `acme`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.backends.http import RetryPolicy
from bot.backends.terraform import TerraformClient
from bot.backends.terraform.ratelimit import SlidingWindowLimiter
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.settings import Target
from sandbox.backends.terraform import create_app
from sandbox.serving import ServerHandle, serve_in_thread

PLATFORM_CORE = "prj-0sMkZ9o1CR5IdoEc"  # five workspaces
DATA_PIPELINES = "prj-hB1JZbDHZETROcEw"  # three workspaces
SANDBOX = "prj-EIarcnWZLAMssp0x"  # empty
AIRFLOW_PROD = "ws-SF3Fw8ybwttgARMR"  # in data-pipelines
GLOBEX_WS = "ws-V10Q0n2A7hw8fTpp"  # another organization's workspace


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    app = Starlette(routes=[
        Mount("/terraform", app=create_app()),
        Mount("/strict", app=create_app(tokens={"good-token": {}})),
    ])
    handle = serve_in_thread(app)
    yield handle
    handle.stop()


@pytest.fixture
def url(server: ServerHandle) -> str:
    base = f"{server.url}/terraform"
    assert loopback.post(f"{base}/_admin/reset", json={"seed": "demo"}).status_code == 200
    return base


def target(url: str, token: str = "demo-token", organization: str = "acme") -> Target:
    return Target(name="terraform", kind="terraform", url=url, credentials={"token": token},
                  options={"organization": organization})


@pytest.fixture
async def client(url: str) -> AsyncIterator[TerraformClient]:
    tfc = TerraformClient(target(url), retry=RetryPolicy(attempts=4, base_delay=0.01))
    yield tfc
    await tfc.aclose()


def watch_statuses(tfc: TerraformClient) -> list[int]:
    seen: list[int] = []

    async def hook(response: httpx.Response) -> None:
        seen.append(response.status_code)

    tfc.http.client.event_hooks["response"].append(hook)
    return seen


async def test_list_reads_every_page_within_the_rate_budget(url: str, client: TerraformClient) -> None:
    loopback.post(f"{url}/_admin/bulk", json={"projects": 1194})
    statuses = watch_statuses(client)
    projects = await client.list_projects(page_size=20)
    assert len(projects) == 1200 == len({p.id for p in projects})
    # The client keeps to 30 requests/second, counted from when each answer arrived, so even a loaded event loop
    # cannot bunch them into one server second; without its limiter this page storm draws dozens of 429s.
    assert statuses.count(200) == 60 and statuses.count(429) == 0
    statuses.clear()
    assert await client.ping() == "1200 projects in acme"
    assert await client.count_projects() == 1200 and statuses == [200, 200]  # one request each


async def test_list_filters_search_and_sort(client: TerraformClient) -> None:
    by_name = await client.list_projects(sort="name")
    assert [p.name for p in by_name] == sorted((p.name for p in by_name), key=str.casefold)
    assert [p.name for p in await client.list_projects(sort="-name")] == [p.name for p in reversed(by_name)]
    assert [p.name for p in await client.list_projects(search="PIPE")] == ["data-pipelines"]
    names = await client.list_projects(names=["platform-core", "ML-EXPERIMENTS"], sort="name")
    assert [p.name for p in names] == ["ml-experiments", "platform-core"]
    core = next(p for p in by_name if p.name == "platform-core")
    assert (core.id, core.workspace_count, core.state) == (PLATFORM_CORE, 5, "5 workspaces")


async def test_get_by_id_or_name_and_not_found(client: TerraformClient) -> None:
    assert (await client.get_project("Platform-Core")).id == PLATFORM_CORE
    sandbox = await client.get_project(SANDBOX)
    assert (sandbox.name, sandbox.auto_destroy_activity_duration) == ("sandbox-playground", "24h")
    with pytest.raises(NotFoundError) as caught:
        await client.get_project("prj-doesNotExist00")
    assert "or your token may not see it" in caught.value.message and caught.value.status == 404
    with pytest.raises(NotFoundError, match="No project named `nope` in `acme`") as caught:
        await client.get_project("nope")
    assert (caught.value.resource, caught.value.name, caught.value.candidates) == ("project", "nope", None)


async def test_a_valid_token_without_permission_gets_not_found(url: str) -> None:
    tfc = TerraformClient(target(url, token="noperm-viewer"))
    with pytest.raises(NotFoundError) as caught:
        await tfc.list_projects()
    assert "your token may not see it" in caught.value.message and "permission" in caught.value.hint
    await tfc.aclose()


async def test_a_bad_token_is_401(server: ServerHandle) -> None:
    tfc = TerraformClient(target(f"{server.url}/strict", token="wrong-token"))
    with pytest.raises(BackendError) as caught:
        await tfc.ping()
    assert caught.value.status == 401 and "rejected the API token" in caught.value.message
    assert "wrong-token" not in str(caught.value)
    await tfc.aclose()


def test_missing_token_or_organization_is_a_clear_error(url: str) -> None:
    with pytest.raises(BackendError, match="has no HCP Terraform API token"):
        TerraformClient(Target(name="t", kind="terraform", url=url, options={"organization": "acme"}))
    with pytest.raises(BackendError, match="does not name its HCP Terraform organization"):
        TerraformClient(target(url, organization=""))


async def test_create_update_and_server_side_validation(client: TerraformClient) -> None:
    made = await client.create_project("team blue_1", "Blue team", "14d")
    assert (made.name, made.description, made.auto_destroy_activity_duration, made.workspace_count) == (
        "team blue_1", "Blue team", "14d", 0)
    changed = await client.update_project("team blue_1", name="team-blue", auto_destroy_activity_duration=None)
    assert (changed.id, changed.name, changed.description, changed.auto_destroy_activity_duration) == (
        made.id, "team-blue", "Blue team", None)
    with pytest.raises(BackendError) as caught:  # the server decides what the docs do not say
        await client.create_project("TEAM-BLUE")
    assert caught.value.status == 422 and "already been taken" in caught.value.message
    with pytest.raises(BackendError) as caught:  # source.pointer becomes the field name
        body = {"data": {"type": "projects", "attributes": {"name": "odd", "auto-destroy-activity-duration": "5w"}}}
        await client._request("POST", "/organizations/acme/projects", body)
    assert "auto-destroy-activity-duration: Auto destroy" in caught.value.message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # the name, description and duration rules live in the params models (tests/unit/bot/operations/test_rules.py)
        (lambda c: c.update_project(PLATFORM_CORE), "Nothing to change"),
        (lambda c: c.get_project("  "), "Name the project"),
    ],
)
async def test_invalid_input_is_refused_before_any_call(call, message: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    tfc = TerraformClient(target("http://tfc.invalid"), transport=httpx.MockTransport(fail))
    with pytest.raises(UsageError, match=message):
        await call(tfc)
    await tfc.aclose()


async def test_delete_is_refused_while_the_project_holds_workspaces(client: TerraformClient) -> None:
    with pytest.raises(ConflictError) as caught:
        await client.delete_project("data-pipelines")
    message = caught.value.message
    assert "holds 3 workspaces" in message and "`airflow-prod`" in message and "nothing was deleted" in message
    assert (caught.value.reason, caught.value.name) == (Reason.NOT_EMPTY, "data-pipelines")
    assert "airflow-prod" in caught.value.blockers and len(caught.value.blockers) == 3
    assert "/projects" not in caught.value.hint
    assert (await client.get_project(DATA_PIPELINES)).workspace_count == 3
    deleted = await client.delete_project("sandbox-playground")
    assert deleted.id == SANDBOX
    with pytest.raises(NotFoundError):
        await client.get_project(SANDBOX)


async def test_move_workspaces_is_all_or_nothing(client: TerraformClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.move_workspaces("sandbox-playground", ["warehouse", "no-such-ws", GLOBEX_WS])
    assert "2 of 3 workspaces were not found" in caught.value.message and "Nothing was moved" in caught.value.message
    assert "`no-such-ws`" in caught.value.message and GLOBEX_WS in caught.value.message
    assert await client.list_workspaces(SANDBOX) == []
    moved = await client.move_workspaces("sandbox-playground", ["warehouse", AIRFLOW_PROD, "warehouse"])
    assert moved.project.id == SANDBOX and [w.name for w in moved.workspaces] == ["warehouse", "airflow-prod"]
    assert set(moved.from_projects.values()) == {DATA_PIPELINES}
    assert sorted(w.name for w in await client.list_workspaces("sandbox-playground")) == ["airflow-prod", "warehouse"]
    assert [w.name for w in await client.list_workspaces(DATA_PIPELINES)] == ["airflow-staging"]


async def test_429_with_retry_after_is_retried(url: str, client: TerraformClient) -> None:
    loopback.post(f"{url}/_faults", json={"status": 429, "count": 2, "retry_after": 0.05})
    statuses = watch_statuses(client)
    assert len(await client.list_projects()) == 6
    assert statuses == [429, 429, 200]


async def test_the_servers_own_429_is_reported_when_retries_run_out(url: str) -> None:
    loopback.post(f"{url}/_admin/config", json={"rate_limit_per_second": 2})
    tfc = TerraformClient(target(url), retry=RetryPolicy(attempts=1))
    results = await asyncio.gather(*(tfc.ping() for _ in range(4)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BackendError)]
    assert errors and all(e.status == 429 and e.retryable and "rate limiting" in e.message for e in errors)
    await tfc.aclose()


async def test_sliding_window_limiter_keeps_the_budget() -> None:
    limiter = SlidingWindowLimiter(5, period=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    stamps = []
    for _ in range(12):
        async with limiter.slot():
            stamps.append(loop.time() - started)
    assert all(stamps[i + 5] - stamps[i] >= 0.199 for i in range(len(stamps) - 5))
    assert stamps[-1] < 0.6


async def test_a_slow_request_holds_its_place_until_it_ends() -> None:
    limiter = SlidingWindowLimiter(2, period=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    begun: list[float] = []

    async def request(duration: float) -> None:
        async with limiter.slot():
            begun.append(loop.time() - started)
            await asyncio.sleep(duration)

    await asyncio.gather(request(0.3), request(0.0), request(0.0), request(0.0))
    # the second place frees at 0.2 s (0 s + the window); the slow one's at 0.5 s (it ended at 0.3 s)
    assert begun[:2] == [pytest.approx(0, abs=0.05)] * 2
    assert begun[2] == pytest.approx(0.2, abs=0.05) and begun[3] == pytest.approx(0.4, abs=0.06)


async def test_a_cancelled_request_gives_its_place_back() -> None:
    limiter = SlidingWindowLimiter(1, period=0.1)

    async def hold() -> None:
        async with limiter.slot():
            await asyncio.sleep(10)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(hold())  # queued behind the holder
    await asyncio.sleep(0.01)
    waiter.cancel()
    holder.cancel()
    await asyncio.gather(holder, waiter, return_exceptions=True)
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(1):
        async with limiter.slot():  # the place is free again a period after the holder ended
            assert asyncio.get_running_loop().time() - started < 0.2
