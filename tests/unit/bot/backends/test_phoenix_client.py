"""PhoenixClient contract: each test runs against the emulator and against the real Phoenix server.

Tests assume nothing about data they did not create except the `default` project, and use unique names.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import loopback
import pytest
from conftest import PhoenixEnv

from bot.backends.http import RetryPolicy
from bot.backends.phoenix import PhoenixClient
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.settings import Target

DEFAULT_ID = "UHJvamVjdDox"


def target(url: str, api_key: str | None = None) -> Target:
    credentials = {"api_key": api_key} if api_key else {}
    return Target(name="phoenix", kind="phoenix", url=url, credentials=credentials)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def client(phoenix_env: PhoenixEnv) -> AsyncIterator[PhoenixClient]:
    phoenix = PhoenixClient(target(phoenix_env.url))
    yield phoenix
    await phoenix.aclose()


async def test_list_follows_the_cursor_to_the_end(client: PhoenixClient) -> None:
    prefix = unique("page")
    made = [await client.create_project(f"{prefix}-{i}", f"project {i}") for i in range(5)]
    listed = await client.list_projects(name_contains=prefix.upper(), page_size=2)
    assert [p.name for p in listed] == [p.name for p in reversed(made)]  # newest first, case-insensitive filter
    assert {p.id for p in listed} == {p.id for p in made}
    assert (await client.list_projects(name_contains=prefix, page_size=2, limit=3))[-1].name == f"{prefix}-2"
    everything = await client.list_projects(page_size=3)
    assert "default" in [p.name for p in everything]
    count = len(everything)
    assert await client.ping() == (f"{count} projects" if count <= 100 else "100+ projects")
    assert await client.count_projects() == count  # big pages: the real server sets no maximum


async def test_get_by_id_or_name_and_update_description(client: PhoenixClient) -> None:
    name = unique()
    created = await client.create_project(name)
    assert created.description is None
    assert (await client.get_project(name)) == created == (await client.get_project(created.id))
    updated = await client.update_project(name, "now described")
    assert (updated.name, updated.id, updated.description) == (name, created.id, "now described")
    assert (await client.get_project(created.id)).description == "now described"
    default = await client.get_project("default")
    assert (default.id, default.description) == (DEFAULT_ID, "Default project")


async def test_missing_project_is_not_found_with_phoenix_text(client: PhoenixClient) -> None:
    name = unique("missing")
    with pytest.raises(NotFoundError) as caught:
        await client.get_project(name)
    assert caught.value.message == f"Project with name {name} not found" and caught.value.status == 404
    assert (caught.value.resource, caught.value.name, caught.value.hint) == ("project", name, "")
    with pytest.raises(NotFoundError) as caught:
        await client.update_project(name, "x")
    assert (caught.value.resource, caught.value.name) == ("project", name)


async def test_duplicate_name_is_explained_not_a_bare_500(client: PhoenixClient) -> None:
    """Phoenix answers a taken name with a bare 500, so the client looks the name up first: a 500 to the create
    itself then means its outcome is open (the operation re-reads), never "already exists"."""
    name = unique("dup")
    first = await client.create_project(name)
    with pytest.raises(ConflictError) as caught:
        await client.create_project(name, "again")
    assert f"named `{name}` already exists" in caught.value.message and first.id in caught.value.message
    assert (caught.value.reason, caught.value.resource, caught.value.name) == (Reason.EXISTS, "project", name)


async def test_validation_errors_are_read_from_json_detail(client: PhoenixClient) -> None:
    with pytest.raises(BackendError) as caught:
        await client.list_projects(page_size=0)
    assert caught.value.status == 422 and "limit" in caught.value.message and "greater than 0" in caught.value.message


async def test_plain_text_422_is_read_too(client: PhoenixClient) -> None:
    with pytest.raises(BackendError) as caught:
        await client.http.request("GET", "/v1/projects", params={"cursor": "zzz"})
    assert caught.value.message == "Phoenix rejected the request: Invalid cursor format: zzz."


async def test_delete_guards_against_reused_ids(client: PhoenixClient) -> None:
    first = await client.create_project(unique("gone"))
    assert (await client.delete_project(first.id, first.name)).name == first.name
    with pytest.raises(NotFoundError) as caught:
        await client.delete_project(first.id, first.name)
    assert "no longer exists; nothing was deleted" in caught.value.message
    assert (caught.value.reason, caught.value.name, caught.value.hint) == (Reason.GONE, first.name, "")
    second = await client.create_project(unique("newcomer"))
    assert second.id == first.id  # Phoenix hands the freed id to the next project
    with pytest.raises(ConflictError) as caught:
        await client.delete_project(first.id, first.name)
    assert f"now belongs to project `{second.name}`" in caught.value.message
    assert (caught.value.reason, caught.value.name, caught.value.hint) == (Reason.ID_REUSED, first.name, "")
    assert (await client.get_project(second.id)).name == second.name  # untouched
    await client.delete_project(second.id, second.name)


async def test_default_project_is_never_deleted(client: PhoenixClient) -> None:
    with pytest.raises(ConflictError, match="never deletes its `default` project"):
        await client.delete_project(DEFAULT_ID, "default")
    with pytest.raises(ConflictError, match="never deletes its `default` project"):  # the server's own 403
        await client.http.request("DELETE", "/v1/projects/default")


@pytest.mark.parametrize("name", ["team/a", "what?", "#tag"])
async def test_unsafe_identifiers_are_refused_before_any_call(name: str) -> None:
    """A guard only: the Phoenix params models refuse these names first (tests/unit/bot/operations/test_rules.py)."""
    def fail(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    phoenix = PhoenixClient(target("http://phoenix.invalid"), transport=httpx.MockTransport(fail))
    for call in (phoenix.get_project(name), phoenix.update_project(name, "x")):
        with pytest.raises(UsageError, match="cannot be used to address") as caught:
            await call
        assert "/projects" not in str(caught.value)
    await phoenix.aclose()


async def test_auth_keys_members_and_missing_keys(phoenix_env: PhoenixEnv) -> None:
    anonymous = PhoenixClient(target(phoenix_env.auth_url))
    wrong = PhoenixClient(target(phoenix_env.auth_url, "not-a-valid-key-at-all"))
    admin = PhoenixClient(target(phoenix_env.auth_url, phoenix_env.admin_token))
    member = PhoenixClient(target(phoenix_env.auth_url, phoenix_env.member_token))
    try:
        with pytest.raises(BackendError) as caught:
            await anonymous.list_projects()
        assert caught.value.status == 401 and "the target has no API key" in caught.value.message
        with pytest.raises(BackendError) as caught:
            await wrong.list_projects()
        assert caught.value.status == 401 and "rejected the API key" in caught.value.message
        assert "not-a-valid" not in str(caught.value)

        made = await member.create_project(unique("member"))  # members may list, get and create
        assert made.name in [p.name for p in await member.list_projects(name_contains=made.name)]
        for call in (member.update_project(made.name, "x"), member.delete_project(made.id, made.name)):
            with pytest.raises(BackendError) as caught:
                await call
            error = caught.value
            assert error.status == 403 and "only admin or system users" in error.message
            assert "system API key" in error.hint and not isinstance(error, ConflictError)
        assert (await admin.update_project(made.name, "by admin")).description == "by admin"
        await admin.delete_project(made.id, made.name)
        with pytest.raises(ConflictError):  # the other 403, told apart by its text
            await admin.http.request("DELETE", "/v1/projects/default")
    finally:
        for c in (anonymous, wrong, admin, member):
            await c.aclose()


async def test_storage_full_is_507_with_a_clear_message(phoenix_env: PhoenixEnv) -> None:
    phoenix = PhoenixClient(target(phoenix_env.full_url))
    try:
        assert "default" in [p.name for p in await phoenix.list_projects()]  # reads still work
        for call in (phoenix.create_project(unique("full")), phoenix.update_project("default", "x")):
            with pytest.raises(BackendError) as caught:
                await call
            assert caught.value.status == 507
            assert "out of storage" in caught.value.message and "Delete old projects" in caught.value.hint
    finally:
        await phoenix.aclose()


async def test_429_and_503_are_retried_against_the_emulator(phoenix_emulator_env: PhoenixEnv) -> None:
    faults = f"{phoenix_emulator_env.url}/_faults"
    phoenix = PhoenixClient(target(phoenix_emulator_env.url))
    phoenix.http.retry = RetryPolicy(attempts=4, base_delay=0.01)
    try:
        loopback.post(faults, json={"status": 429, "count": 2, "retry_after": 0.05, "path": "/v1/projects"})
        loopback.post(faults, json={"status": 503, "count": 1, "path": "/v1/projects"})
        assert "default" in [p.name for p in await phoenix.list_projects()]
        loopback.post(faults, json={"status": 503, "count": 10, "path": "/v1/projects"})
        with pytest.raises(BackendError) as caught:
            await phoenix.list_projects()
        assert caught.value.status == 503 and caught.value.retryable
    finally:
        loopback.delete(faults)
        await phoenix.aclose()
