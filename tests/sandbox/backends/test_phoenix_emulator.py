"""Contract tests for Phoenix `/v1/projects`, written to pass against the real `arize-phoenix` server too.

Tests reach a server only through three fixtures: `phoenix_url` (auth off), `phoenix_auth` (auth on:
url, admin token, member token) and `phoenix_storage_full` (insertion blocked by the storage
threshold). Here they point at the emulator mounted under a prefix; to run the same tests against a
real server, override or parametrize those fixtures. The tests assume nothing about data they did
not create except the `default` project, use unique names, and delete what they create.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.phoenix import create_app
from sandbox.serving import serve_in_thread

DEFAULT_ID = "UHJvamVjdDox"
ADMIN_ONLY = "Only admin or system users can perform this action."
STORAGE_FULL = (
    "Database operations are disabled due to insufficient storage. Please delete old data or increase storage."
)


@dataclass(frozen=True)
class PhoenixAuth:
    url: str
    admin_token: str
    member_token: str


@dataclass(frozen=True)
class _Emulators:
    base: str
    admin_token: str
    member_token: str


@pytest.fixture(scope="module")
def _phoenix_emulators() -> Iterator[_Emulators]:
    admin, member = f"admin-{uuid.uuid4().hex}", f"member-{uuid.uuid4().hex}"
    app = Starlette(
        routes=[
            Mount("/phoenix", app=create_app()),
            Mount("/phoenix-auth", app=create_app(admin_token=admin, member_tokens=[member])),
            Mount("/phoenix-full", app=create_app(storage_full=True)),
        ]
    )
    handle = serve_in_thread(app)
    yield _Emulators(handle.url, admin, member)
    handle.stop()


@pytest.fixture(scope="module")
def phoenix_url(_phoenix_emulators: _Emulators) -> str:
    return f"{_phoenix_emulators.base}/phoenix"


@pytest.fixture(scope="module")
def phoenix_auth(_phoenix_emulators: _Emulators) -> PhoenixAuth:
    e = _phoenix_emulators
    return PhoenixAuth(f"{e.base}/phoenix-auth", e.admin_token, e.member_token)


@pytest.fixture(scope="module")
def phoenix_storage_full(_phoenix_emulators: _Emulators) -> str:
    return f"{_phoenix_emulators.base}/phoenix-full"


# --- helpers ----------------------------------------------------------------------------------------


class Client(httpx.Client):
    """httpx client that remembers the names of the projects it created, to delete them afterwards."""

    def __init__(self, base_url: str, **kwargs: object) -> None:
        super().__init__(base_url=base_url, timeout=10, **kwargs)  # type: ignore[arg-type]
        self.created: list[str] = []

    def cleanup(self) -> None:
        for name in self.created:  # by name: ids get reused
            self.delete(f"/v1/projects/{name}")


@pytest.fixture
def phx(phoenix_url: str) -> Iterator[Client]:
    with Client(phoenix_url) as client:
        yield client
        client.cleanup()


def unique(prefix: str = "ct") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create(client: Client, name: str, description: str | None = None) -> dict:
    body: dict = {"name": name}
    if description is not None:
        body["description"] = description
    response = client.post("/v1/projects", json=body)
    assert response.status_code == 200, response.text
    client.created.append(name)
    return response.json()["data"]


def decoded(global_id: str) -> tuple[str, int]:
    type_name, node = base64.b64decode(global_id).decode().split(":", 1)
    return type_name, int(node)


def list_all(client: httpx.Client, **params: str | int) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/projects", params=query)
        assert response.status_code == 200, response.text
        items += response.json()["data"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


def is_text(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/plain")


# --- default project, get, list ------------------------------------------------------------------


def test_default_project_by_name_and_by_id(phx: Client) -> None:
    expected = {"name": "default", "description": "Default project", "id": DEFAULT_ID}
    for identifier in ("default", DEFAULT_ID):
        response = phx.get(f"/v1/projects/{identifier}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"data": expected}


def test_list_shape_and_default_last(phx: Client) -> None:
    body = phx.get("/v1/projects").json()
    assert set(body) == {"data", "next_cursor"}
    everything = list_all(phx)
    assert everything[-1]["id"] == DEFAULT_ID  # lowest id, ids descend
    ids = [decoded(p["id"])[1] for p in everything]
    assert ids == sorted(ids, reverse=True)
    assert all(set(p) == {"name", "description", "id"} for p in everything)


def test_get_missing_by_name_and_by_id_is_plain_404(phx: Client) -> None:
    name = unique("missing")
    response = phx.get(f"/v1/projects/{name}")
    assert (response.status_code, response.text) == (404, f"Project with name {name} not found")
    assert is_text(response)
    missing_id = base64.b64encode(b"Project:987654321").decode()
    response = phx.get(f"/v1/projects/{missing_id}")
    assert (response.status_code, response.text) == (404, f"Project with ID {missing_id} not found")
    assert is_text(response)


# --- create ------------------------------------------------------------------------------------------


def test_create_returns_200_with_project(phx: Client) -> None:
    name = unique()
    data = create(phx, name, "first")
    assert data["name"] == name and data["description"] == "first"
    assert decoded(data["id"])[0] == "Project"
    assert phx.get(f"/v1/projects/{name}").json() == {"data": data}
    assert phx.get(f"/v1/projects/{data['id']}").json() == {"data": data}


def test_create_without_description_gives_null(phx: Client) -> None:
    data = create(phx, unique())
    assert data["description"] is None


def test_create_duplicate_name_is_plain_500(phx: Client) -> None:
    name = unique()
    create(phx, name)
    response = phx.post("/v1/projects", json={"name": name})
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert is_text(response)


def test_create_accepts_whitespace_slash_and_extra_fields(phx: Client) -> None:
    spaced = f"  {unique()}  "
    data = create(phx, spaced)
    assert data["name"] == spaced  # no trimming
    response = phx.post("/v1/projects", json={"name": unique(), "colour": "blue"})
    assert response.status_code == 200
    assert "colour" not in response.json()["data"]
    phx.created.append(response.json()["data"]["name"])
    slashed = phx.post("/v1/projects", json={"name": f"{unique()}/x"})
    assert slashed.status_code == 200
    phx.delete(f"/v1/projects/{slashed.json()['data']['id']}")  # a '/' name is only reachable by id


@pytest.mark.parametrize(
    ("body", "kind", "loc"),
    [
        ({"name": ""}, "string_too_short", ["body", "name"]),
        ({"description": "x"}, "missing", ["body", "name"]),
        ({"name": 5}, "string_type", ["body", "name"]),
    ],
)
def test_create_validation_is_json_422(phx: Client, body: dict, kind: str, loc: list) -> None:
    response = phx.post("/v1/projects", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert detail[0]["type"] == kind and detail[0]["loc"] == loc
    assert {"type", "loc", "msg", "input"} <= set(detail[0])


def test_create_invalid_json_is_json_422(phx: Client) -> None:
    response = phx.post("/v1/projects", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert detail["type"] == "json_invalid" and detail["msg"] == "JSON decode error"
    assert detail["loc"][0] == "body"


def test_create_empty_body_is_missing(phx: Client) -> None:
    response = phx.post("/v1/projects", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "missing"


# --- update ------------------------------------------------------------------------------------------


def test_update_changes_only_description(phx: Client) -> None:
    name = unique()
    data = create(phx, name, "before")
    response = phx.put(f"/v1/projects/{name}", json={"description": "after", "name": unique("renamed")})
    assert response.status_code == 200
    assert response.json() == {"data": {"name": name, "description": "after", "id": data["id"]}}
    response = phx.put(f"/v1/projects/{data['id']}", json={"description": "by id"})
    assert response.json()["data"]["description"] == "by id"


def test_update_without_description_keeps_it(phx: Client) -> None:
    name = unique()
    create(phx, name, "kept")
    for body in ({}, {"description": None}):
        response = phx.put(f"/v1/projects/{name}", json=body)
        assert response.status_code == 200
        assert response.json()["data"]["description"] == "kept"


def test_update_missing_is_plain_404(phx: Client) -> None:
    name = unique("missing")
    response = phx.put(f"/v1/projects/{name}", json={"description": "x"})
    assert (response.status_code, response.text) == (404, f"Project with name {name} not found")


# --- delete ------------------------------------------------------------------------------------------


def test_delete_default_is_forbidden(phx: Client) -> None:
    for identifier in ("default", DEFAULT_ID):
        response = phx.delete(f"/v1/projects/{identifier}")
        assert (response.status_code, response.text) == (403, "The default project cannot be deleted")
        assert is_text(response)


def test_delete_is_204_then_404(phx: Client) -> None:
    name = unique()
    create(phx, name)
    response = phx.delete(f"/v1/projects/{name}")
    assert response.status_code == 204 and response.content == b""
    response = phx.delete(f"/v1/projects/{name}")
    assert (response.status_code, response.text) == (404, f"Project with name {name} not found")
    assert phx.get(f"/v1/projects/{name}").status_code == 404


def test_ids_are_reused_after_deleting_the_newest(phx: Client) -> None:
    first = create(phx, unique("reuse"))
    assert phx.delete(f"/v1/projects/{first['id']}").status_code == 204
    second = create(phx, unique("reuse"))
    assert second["id"] == first["id"]  # same id, different project: never key on id alone
    assert second["name"] != first["name"]


# --- paging and filters --------------------------------------------------------------------------


def test_cursor_paging_is_inclusive_and_descending(phx: Client) -> None:
    prefix = unique("page")
    made = [create(phx, f"{prefix}-{i}") for i in range(5)]
    expected = [p["id"] for p in reversed(made)]
    first = phx.get("/v1/projects", params={"limit": 2, "name_contains": prefix}).json()
    assert [p["id"] for p in first["data"]] == expected[:2]
    assert first["next_cursor"] == expected[2]  # the first item of the next page
    second = phx.get(
        "/v1/projects", params={"limit": 2, "name_contains": prefix, "cursor": first["next_cursor"]}
    ).json()
    assert [p["id"] for p in second["data"]] == expected[2:4]
    third = phx.get(
        "/v1/projects", params={"limit": 2, "name_contains": prefix, "cursor": second["next_cursor"]}
    ).json()
    assert [p["id"] for p in third["data"]] == expected[4:]
    assert third["next_cursor"] is None
    assert [p["id"] for p in list_all(phx, limit=1, name_contains=prefix)] == expected


def test_exact_page_has_no_next_cursor(phx: Client) -> None:
    prefix = unique("exact")
    for i in range(2):
        create(phx, f"{prefix}-{i}")
    body = phx.get("/v1/projects", params={"limit": 2, "name_contains": prefix}).json()
    assert len(body["data"]) == 2 and body["next_cursor"] is None


def test_name_contains_is_case_insensitive(phx: Client) -> None:
    prefix = unique("Case")
    create(phx, f"{prefix}-Alpha")
    create(phx, f"{prefix}-beta")
    names = {p["name"] for p in list_all(phx, name_contains=prefix.upper())}
    assert names == {f"{prefix}-Alpha", f"{prefix}-beta"}
    assert {p["name"] for p in list_all(phx, name_contains=f"{prefix}-ALPHA".lower())} == {f"{prefix}-Alpha"}


def test_no_match_is_empty_page(phx: Client) -> None:
    body = phx.get("/v1/projects", params={"name_contains": unique("nothing")}).json()
    assert body == {"data": [], "next_cursor": None}


def test_invalid_cursor_is_plain_422(phx: Client) -> None:
    response = phx.get("/v1/projects", params={"cursor": "zzz"})
    assert (response.status_code, response.text) == (422, "Invalid cursor format: zzz")
    assert is_text(response)


@pytest.mark.parametrize(("limit", "kind"), [("0", "greater_than"), ("-1", "greater_than"), ("x", "int_parsing")])
def test_bad_limit_is_json_422(phx: Client, limit: str, kind: str) -> None:
    response = phx.get("/v1/projects", params={"limit": limit})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    (detail,) = response.json()["detail"]
    assert detail["type"] == kind and detail["loc"] == ["query", "limit"]


def test_include_experiment_projects_is_accepted(phx: Client) -> None:
    response = phx.get("/v1/projects", params={"include_experiment_projects": "true", "limit": 1})
    assert response.status_code == 200


# --- auth --------------------------------------------------------------------------------------------


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_auth_missing_or_bad_token_is_401(phoenix_auth: PhoenixAuth, headers: dict[str, str]) -> None:
    response = loopback.get(f"{phoenix_auth.url}/v1/projects", headers=headers)
    assert (response.status_code, response.text) == (401, "Invalid token")
    assert is_text(response)
    assert response.headers["www-authenticate"].startswith('Bearer realm="Arize Phoenix"')
    assert "resource_metadata=" in response.headers["www-authenticate"]


def test_auth_admin_can_do_everything(phoenix_auth: PhoenixAuth) -> None:
    with loopback.Client(base_url=phoenix_auth.url, headers=_bearer(phoenix_auth.admin_token)) as admin:
        name = unique("adm")
        assert admin.post("/v1/projects", json={"name": name}).status_code == 200
        assert admin.get(f"/v1/projects/{name}").status_code == 200
        assert admin.put(f"/v1/projects/{name}", json={"description": "d"}).status_code == 200
        assert admin.delete(f"/v1/projects/{name}").status_code == 204


def test_auth_member_can_read_and_create_but_not_change(phoenix_auth: PhoenixAuth) -> None:
    url = phoenix_auth.url
    with (
        loopback.Client(base_url=url, headers=_bearer(phoenix_auth.member_token)) as member,
        loopback.Client(base_url=url, headers=_bearer(phoenix_auth.admin_token)) as admin,
    ):
        name = unique("mem")
        assert member.get("/v1/projects").status_code == 200
        assert member.post("/v1/projects", json={"name": name}).status_code == 200
        try:
            assert member.get(f"/v1/projects/{name}").status_code == 200
            for response in (
                member.put(f"/v1/projects/{name}", json={"description": "x"}),
                member.delete(f"/v1/projects/{name}"),
                member.delete("/v1/projects/default"),  # the admin check comes before the default check
                member.put(f"/v1/projects/{unique('missing')}", json={"description": "x"}),
            ):
                assert (response.status_code, response.text) == (403, ADMIN_ONLY)
                assert is_text(response)
        finally:
            assert admin.delete(f"/v1/projects/{name}").status_code == 204


def test_auth_default_project_403_differs_from_admin_403(phoenix_auth: PhoenixAuth) -> None:
    response = loopback.delete(f"{phoenix_auth.url}/v1/projects/default", headers=_bearer(phoenix_auth.admin_token))
    assert (response.status_code, response.text) == (403, "The default project cannot be deleted")


# --- storage full ------------------------------------------------------------------------------------


def test_storage_full_blocks_create_and_update_but_not_reads_or_deletes(phoenix_storage_full: str) -> None:
    with loopback.Client(base_url=phoenix_storage_full) as client:
        for response in (
            client.post("/v1/projects", json={"name": unique("full")}),
            client.put("/v1/projects/default", json={"description": "x"}),
        ):
            assert (response.status_code, response.text) == (507, STORAGE_FULL)
            assert is_text(response)
        assert client.get("/v1/projects").status_code == 200
        assert client.get("/v1/projects/default").status_code == 200
        missing = unique("missing")
        response = client.delete(f"/v1/projects/{missing}")
        assert (response.status_code, response.text) == (404, f"Project with name {missing} not found")
