"""Emulator-only Phoenix tests: seeds, admin endpoints, exact id reuse, faults, mounting.

These use the emulator's `/_admin` and `/_faults` controls, so unlike `test_phoenix_emulator.py` they
are not meant to run against a real Phoenix server.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.phoenix import DEMO_PROJECTS, create_app, global_id, node_id
from sandbox.serving import serve_in_thread


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(
        routes=[
            Mount("/phoenix", app=create_app()),
            Mount("/phoenix-auth", app=create_app("empty", admin_token="adm")),
        ]
    )
    handle = serve_in_thread(app)
    yield handle.url
    handle.stop()


@pytest.fixture
def phx(server: str) -> Iterator[httpx.Client]:
    with loopback.Client(base_url=f"{server}/phoenix", timeout=10) as client:
        assert client.post("/_admin/reset", json={"seed": "demo"}).status_code == 200
        client.delete("/_faults")
        yield client


def names(client: httpx.Client, **params: str | int) -> list[str]:
    return [p["name"] for p in client.get("/v1/projects", params=params).json()["data"]]


def test_global_id_helpers() -> None:
    assert global_id(1) == "UHJvamVjdDox"
    assert global_id(10) == base64.b64encode(b"Project:10").decode()
    assert node_id("UHJvamVjdDox", "Project") == 1
    assert node_id(base64.b64encode(b"Span:3").decode(), "Project") is None
    assert node_id(base64.b64encode(b"Span:3").decode()) == 3
    assert node_id("zzz") is None and node_id("chatbot-prod") is None


def test_demo_seed(phx: httpx.Client) -> None:
    body = phx.get("/v1/projects").json()
    assert body["next_cursor"] is None
    assert [p["name"] for p in body["data"]] == [n for n, _ in reversed(DEMO_PROJECTS)] + ["default"]
    assert [p["id"] for p in body["data"]] == [global_id(i) for i in range(len(DEMO_PROJECTS) + 1, 0, -1)]
    assert {"chatbot-prod", "rag-eval", "support-agent", "experiments-2026"} <= set(names(phx))


def test_empty_seed_has_only_default(phx: httpx.Client) -> None:
    assert phx.post("/_admin/reset", json={"seed": "empty"}).json()["projects"] == 1
    assert names(phx) == ["default"]
    assert phx.post("/_admin/reset", json={"seed": "nope"}).status_code == 400


def test_new_project_gets_max_id_plus_one(phx: httpx.Client) -> None:
    top = len(DEMO_PROJECTS) + 1
    assert phx.delete("/v1/projects/rag-eval").status_code == 204  # a middle id is not reused
    made = phx.post("/v1/projects", json={"name": "a"}).json()["data"]
    assert made["id"] == global_id(top + 1)
    assert phx.delete("/v1/projects/a").status_code == 204  # the newest id is
    again = phx.post("/v1/projects", json={"name": "b"}).json()["data"]
    assert again["id"] == global_id(top + 1)


def test_bulk_and_paging_through_everything(phx: httpx.Client) -> None:
    phx.post("/_admin/reset", json={"seed": "empty"})
    assert phx.post("/_admin/bulk", json={"projects": 500}).json()["created"] == 500
    assert phx.post("/_admin/bulk", json={"projects": 2}).json()["created"] == 0  # names exist already
    pages, cursor, seen = 0, None, []
    while True:
        body = phx.get("/v1/projects", params={"cursor": cursor} if cursor else {}).json()
        pages += 1
        seen += [p["name"] for p in body["data"]]
        if not (cursor := body["next_cursor"]):
            break
    assert pages == 6 and len(seen) == 501
    assert seen[0] == "bulk-0500" and seen[-1] == "default"
    assert len(names(phx, name_contains="BULK-04")) == 100


def test_storage_full_via_config_and_reset_restores(phx: httpx.Client) -> None:
    assert phx.post("/_admin/config", json={"storage_full": True}).json()["storage_full"] is True
    assert phx.post("/v1/projects", json={"name": "x"}).status_code == 507
    assert phx.put("/v1/projects/rag-eval", json={"description": "x"}).status_code == 507
    assert phx.delete("/v1/projects/rag-eval").status_code == 204
    phx.post("/_admin/reset", json={})
    assert phx.get("/_admin/config").json()["storage_full"] is False
    assert phx.post("/v1/projects", json={"name": "x"}).status_code == 200


def test_validation_comes_before_not_found(phx: httpx.Client) -> None:
    response = phx.put("/v1/projects/missing", content=b"[]", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"


def test_cursor_of_any_type_is_accepted_but_identifier_type_matters(phx: httpx.Client) -> None:
    span_cursor = base64.b64encode(b"Span:3").decode()
    assert names(phx, cursor=span_cursor) == ["rag-eval", "chatbot-prod", "default"]
    response = phx.get(f"/v1/projects/{span_cursor}")
    assert (response.status_code, response.text) == (404, f"Project with name {span_cursor} not found")
    bad = base64.b64encode(b"Project:abc").decode()
    assert phx.get("/v1/projects", params={"cursor": bad}).status_code == 422


def test_empty_filters_are_ignored(phx: httpx.Client) -> None:
    assert len(names(phx, name_contains="", cursor="")) == len(DEMO_PROJECTS) + 1


def test_injected_faults_are_plain_text(phx: httpx.Client) -> None:
    phx.post("/_faults", json={"status": 503, "count": 1, "retry_after": 2})
    response = phx.get("/v1/projects")
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    assert response.headers["content-type"].startswith("text/plain")
    assert phx.get("/v1/projects").status_code == 200
    phx.post("/_faults", json={"status": 500, "count": 1})
    assert phx.post("/v1/projects", json={"name": "y"}).text == "Internal Server Error"
    assert phx.get("/v1/projects/y").status_code == 404  # the faulted request never reached the app


def test_auth_challenge_points_under_the_mount(server: str) -> None:
    response = loopback.get(f"{server}/phoenix-auth/v1/projects/default")
    assert response.status_code == 401
    assert (
        f'resource_metadata="{server}/phoenix-auth/.well-known/oauth-protected-resource"'
        in (response.headers["www-authenticate"])
    )
    ok = loopback.get(f"{server}/phoenix-auth/v1/projects/default", headers={"Authorization": "bearer adm"})
    assert ok.status_code == 200
    assert loopback.get(f"{server}/phoenix-auth/healthz").status_code == 200
