"""The HCP Terraform emulator over real HTTP, mounted at /terraform as `projectops emulate` does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.terraform import create_app
from sandbox.serving import ServerHandle, serve_in_thread

JSONAPI = "application/vnd.api+json"
AUTH = {"Authorization": "Bearer tok"}
ORG = "acme"
DEFAULT = "prj-mcLVcC6UsaVUfWwt"
PLATFORM_CORE = "prj-0sMkZ9o1CR5IdoEc"  # five workspaces
DATA_PIPELINES = "prj-hB1JZbDHZETROcEw"  # three workspaces
SANDBOX = "prj-EIarcnWZLAMssp0x"  # empty
AIRFLOW_PROD = "ws-SF3Fw8ybwttgARMR"  # in data-pipelines
GLOBEX_WS = "ws-V10Q0n2A7hw8fTpp"  # another organization's workspace
STRICT_TOKENS = {
    "admin-token": {},
    "reader-token": {"org-permissions": {"read-projects": True, "manage-projects": False}},
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    app = Starlette(
        routes=[
            Mount("/terraform", app=create_app()),
            Mount("/strict", app=create_app(tokens=STRICT_TOKENS)),
        ]
    )
    handle = serve_in_thread(app)
    yield handle
    handle.stop()


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    with loopback.Client(base_url=f"{server.url}/terraform", headers=AUTH, timeout=10) as http:
        assert http.post("/_admin/reset", json={"seed": "demo"}).status_code == 200
        yield http


def names(doc: dict) -> list[str]:
    return [item["attributes"]["name"] for item in doc["data"]]


def project_body(**attributes: object) -> dict:
    return {"data": {"type": "projects", "attributes": attributes}}


def move_body(*ws_ids: str) -> dict:
    return {"data": [{"type": "workspaces", "id": ws_id} for ws_id in ws_ids]}


def project_workspaces(client: httpx.Client, project_id: str) -> list[str]:
    resp = client.get(f"/api/v2/organizations/{ORG}/workspaces", params={"filter[project][id]": project_id})
    assert resp.status_code == 200
    return sorted(item["id"] for item in resp.json()["data"])


# ---- list, paging, search, filter, sort -------------------------------------------------------


def test_list_has_jsonapi_shape(client: httpx.Client, server: ServerHandle) -> None:
    resp = client.get(f"/api/v2/organizations/{ORG}/projects")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == JSONAPI
    doc = resp.json()
    assert names(doc) == [
        "Default Project",
        "platform-core",
        "data-pipelines",
        "sandbox-playground",
        "security-baseline",
        "ml-experiments",
    ]
    assert doc["meta"]["pagination"] == {
        "current-page": 1,
        "page-size": 20,
        "prev-page": None,
        "next-page": None,
        "total-pages": 1,
        "total-count": 6,
    }
    assert doc["meta"]["status-counts"] == {"total": 6, "matching": 6}
    base = f"{server.url}/terraform/api/v2/organizations/{ORG}/projects"
    assert doc["links"]["self"] == f"{base}?page%5Bnumber%5D=1&page%5Bsize%5D=20"
    assert doc["links"]["prev"] is None and doc["links"]["next"] is None
    core = next(item for item in doc["data"] if item["id"] == PLATFORM_CORE)
    attrs = core["attributes"]
    assert attrs["workspace-count"] == 5 and attrs["default-execution-mode"] == "remote"
    assert attrs["created-at"].endswith("Z") and attrs["permissions"]["can-destroy"] is True
    assert {"name", "description", "auto-destroy-activity-duration", "team-count"} <= set(attrs)
    assert core["relationships"]["organization"]["data"] == {"id": ORG, "type": "organizations"}


def test_paging_follows_next_links_to_the_end(client: httpx.Client) -> None:
    seen, pages = [], 0
    url: str | None = f"/api/v2/organizations/{ORG}/projects?page[size]=4"
    while url:
        doc = client.get(url).json()
        seen += names(doc)
        pages += 1
        url = doc["links"]["next"]
        assert doc["meta"]["pagination"]["total-pages"] == 2
    assert pages == 2 and len(seen) == len(set(seen)) == 6
    last = client.get(f"/api/v2/organizations/{ORG}/projects", params={"page[number]": 2, "page[size]": 4})
    assert last.json()["meta"]["pagination"]["prev-page"] == 1
    assert last.json()["meta"]["pagination"]["next-page"] is None
    beyond = client.get(f"/api/v2/organizations/{ORG}/projects", params={"page[number]": 9}).json()
    assert beyond["data"] == [] and beyond["meta"]["pagination"]["total-count"] == 6


def test_page_size_is_capped_at_100_and_bulk_pages_to_the_end(client: httpx.Client) -> None:
    bulk = client.post("/_admin/bulk", json={"projects": 244, "workspaces_per_project": 1})
    assert bulk.json() == {"organization": ORG, "projects": 250, "workspaces": 257}
    doc = client.get(f"/api/v2/organizations/{ORG}/projects", params={"page[size]": 500}).json()
    assert doc["meta"]["pagination"]["page-size"] == 100 and len(doc["data"]) == 100
    seen: list[str] = []
    url: str | None = doc["links"]["first"]
    while url:
        doc = client.get(url).json()
        seen += names(doc)
        url = doc["links"]["next"]
    assert len(seen) == len(set(seen)) == 250
    assert doc["meta"]["pagination"] == {
        "current-page": 3,
        "page-size": 100,
        "prev-page": 2,
        "next-page": None,
        "total-pages": 3,
        "total-count": 250,
    }


def test_search_filter_and_sort(client: httpx.Client) -> None:
    url = f"/api/v2/organizations/{ORG}/projects"
    assert names(client.get(url, params={"q": "PLAT"}).json()) == ["platform-core"]
    assert names(client.get(url, params={"q": "-"}).json()) == [
        "platform-core",
        "data-pipelines",
        "sandbox-playground",
        "security-baseline",
        "ml-experiments",
    ]
    doc = client.get(url, params={"filter[names]": "ml-experiments,Platform-Core,nope"}).json()
    assert names(doc) == ["platform-core", "ml-experiments"]
    assert doc["meta"]["status-counts"] == {"total": 6, "matching": 2}
    both = client.get(url, params={"filter[names]": "data-pipelines", "q": "platform"}).json()
    assert names(both) == ["data-pipelines"]
    assert names(client.get(url, params={"filter[names]": "data"}).json()) == []
    ascending = names(client.get(url, params={"sort": "name"}).json())
    assert ascending == sorted(ascending, key=str.casefold) and ascending[0] == "data-pipelines"
    assert names(client.get(url, params={"sort": "-name"}).json()) == ascending[::-1]
    bad = client.get(url, params={"sort": "created-at"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["source"] == {"parameter": "sort"}


# ---- create, show, update, delete -------------------------------------------------------------


def test_create_show_update_delete(client: httpx.Client) -> None:
    created = client.post(
        f"/api/v2/organizations/{ORG}/projects",
        json=project_body(name="billing_svc 2", description="Invoices.", **{"auto-destroy-activity-duration": "14d"}),
    )
    assert created.status_code == 201 and created.headers["content-type"] == JSONAPI
    data = created.json()["data"]
    assert data["id"].startswith("prj-") and len(data["id"]) == 20
    assert data["attributes"]["workspace-count"] == 0
    assert data["attributes"]["auto-destroy-activity-duration"] == "14d"
    shown = client.get(f"/api/v2/projects/{data['id']}")
    assert shown.status_code == 200 and shown.json()["data"]["attributes"]["name"] == "billing_svc 2"

    updated = client.patch(
        f"/api/v2/projects/{data['id']}",
        json=project_body(name="billing", description=None, **{"auto-destroy-activity-duration": "48h"}),
    )
    assert updated.status_code == 200
    attrs = updated.json()["data"]["attributes"]
    assert (attrs["name"], attrs["description"], attrs["auto-destroy-activity-duration"]) == ("billing", None, "48h")
    same_name = client.patch(f"/api/v2/projects/{data['id']}", json=project_body(name="billing"))
    assert same_name.status_code == 200

    assert client.delete(f"/api/v2/projects/{data['id']}").status_code == 204
    gone = client.get(f"/api/v2/projects/{data['id']}")
    assert gone.status_code == 404 and gone.json()["errors"][0]["status"] == "404"
    assert client.delete(f"/api/v2/projects/{data['id']}").status_code == 404


@pytest.mark.parametrize(
    ("attributes", "pointer", "detail"),
    [
        ({"name": "ab"}, "/data/attributes/name", "too short"),
        ({"name": "x" * 41}, "/data/attributes/name", "too long"),
        ({"name": "web.app"}, "/data/attributes/name", "letters, numbers, spaces"),
        ({"name": " padded"}, "/data/attributes/name", "start or end with a space"),
        ({"name": "padded "}, "/data/attributes/name", "start or end with a space"),
        ({}, "/data/attributes/name", "can't be blank"),
        ({"name": "PLATFORM-CORE"}, "/data/attributes/name", "has already been taken"),
        ({"name": "okay", "description": "d" * 257}, "/data/attributes/description", "too long"),
        (
            {"name": "okay", "auto-destroy-activity-duration": "14x"},
            "/data/attributes/auto-destroy-activity-duration",
            "followed by d",
        ),
        (
            {"name": "okay", "auto-destroy-activity-duration": "0d"},
            "/data/attributes/auto-destroy-activity-duration",
            "greater than 0",
        ),
        (
            {"name": "okay", "auto-destroy-activity-duration": "10000h"},
            "/data/attributes/auto-destroy-activity-duration",
            "1 to 4 digits",
        ),
        ({"name": "okay", "default-execution-mode": "cloud"}, "/data/attributes/default-execution-mode", "one of"),
    ],
)
def test_create_validation_errors_point_at_the_attribute(
    client: httpx.Client, attributes: dict, pointer: str, detail: str
) -> None:
    resp = client.post(f"/api/v2/organizations/{ORG}/projects", json=project_body(**attributes))
    assert resp.status_code == 422 and resp.headers["content-type"] == JSONAPI
    errors = resp.json()["errors"]
    assert errors[0]["status"] == "422" and errors[0]["title"] == "invalid attribute"
    assert errors[0]["source"] == {"pointer": pointer}
    assert detail in errors[0]["detail"]


def test_validation_reports_every_problem_and_checks_the_envelope(client: httpx.Client) -> None:
    url = f"/api/v2/organizations/{ORG}/projects"
    resp = client.post(url, json=project_body(name="a!", description="d" * 300))
    pointers = {e["source"]["pointer"] for e in resp.json()["errors"]}
    assert pointers == {"/data/attributes/name", "/data/attributes/description"}
    wrong_type = client.post(url, json={"data": {"type": "workspaces", "attributes": {"name": "okay"}}})
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["source"]["pointer"] == "/data/type"
    not_json = client.post(url, content=b"{nope", headers={"Content-Type": JSONAPI})
    assert not_json.status_code == 400
    taken = client.patch(f"/api/v2/projects/{SANDBOX}", json=project_body(name="Data-Pipelines"))
    assert taken.status_code == 422 and "already been taken" in taken.json()["errors"][0]["detail"]
    assert client.get(f"/api/v2/organizations/{ORG}/projects", params={"q": "okay"}).json()["data"] == []


# ---- auth and permissions ---------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Basic dG9rOg==", "tok"])
def test_missing_or_invalid_token_is_401(server: ServerHandle, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    resp = loopback.get(f"{server.url}/terraform/api/v2/organizations/{ORG}/projects", headers=headers)
    assert resp.status_code == 401 and resp.headers["content-type"] == JSONAPI
    assert resp.json()["errors"][0]["status"] == "401"


def test_token_without_permission_gets_404_everywhere(client: httpx.Client) -> None:
    noperm = {"Authorization": "Bearer noperm-viewer"}
    calls = [
        ("GET", f"/api/v2/organizations/{ORG}/projects", None),
        ("POST", f"/api/v2/organizations/{ORG}/projects", project_body(name="sneaky")),
        ("GET", f"/api/v2/projects/{PLATFORM_CORE}", None),
        ("PATCH", f"/api/v2/projects/{PLATFORM_CORE}", project_body(name="renamed")),
        ("DELETE", f"/api/v2/projects/{SANDBOX}", None),
        ("POST", f"/api/v2/projects/{SANDBOX}/relationships/workspaces", move_body(AIRFLOW_PROD)),
        ("GET", f"/api/v2/organizations/{ORG}/workspaces", None),
        ("GET", f"/api/v2/workspaces/{AIRFLOW_PROD}", None),
    ]
    for method, url, body in calls:
        resp = client.request(method, url, json=body, headers=noperm)
        assert resp.status_code == 404, (method, url)
        assert resp.json()["errors"][0]["status"] == "404"
    assert client.get(f"/api/v2/projects/{SANDBOX}").status_code == 200
    assert project_workspaces(client, SANDBOX) == []


def test_configured_tokens(server: ServerHandle) -> None:
    base = f"{server.url}/strict/api/v2"
    assert loopback.get(f"{base}/projects/{SANDBOX}", headers=AUTH).status_code == 401
    reader = {"Authorization": "Bearer reader-token"}
    shown = loopback.get(f"{base}/projects/{SANDBOX}", headers=reader)
    assert shown.status_code == 200
    assert shown.json()["data"]["attributes"]["permissions"]["can-update"] is False
    assert loopback.delete(f"{base}/projects/{SANDBOX}", headers=reader).status_code == 404
    admin = {"Authorization": "Bearer admin-token"}
    created = loopback.post(f"{base}/organizations/{ORG}/projects", json=project_body(name="strict-ok"), headers=admin)
    assert created.status_code == 201
    assert loopback.delete(f"{base}/projects/{created.json()['data']['id']}", headers=admin).status_code == 204


def test_unknown_organization_and_route_are_jsonapi_404(client: httpx.Client) -> None:
    for url in ("/api/v2/organizations/initech/projects", "/api/v2/organizations/initech", "/api/v2/nothing"):
        resp = client.get(url)
        assert resp.status_code == 404 and resp.headers["content-type"] == JSONAPI


# ---- delete refusal and moving workspaces -----------------------------------------------------


def test_delete_is_refused_while_the_project_holds_workspaces(client: httpx.Client) -> None:
    resp = client.delete(f"/api/v2/projects/{PLATFORM_CORE}")
    assert resp.status_code == 409 and resp.headers["content-type"] == JSONAPI
    error = resp.json()["errors"][0]
    assert error["status"] == "409" and "contains 5 workspaces" in error["detail"]
    assert error["meta"] == {"workspace-count": 5}
    assert client.get(f"/api/v2/projects/{PLATFORM_CORE}").status_code == 200
    default = client.delete(f"/api/v2/projects/{DEFAULT}")
    assert default.status_code == 409 and "default project" in default.json()["errors"][0]["detail"]
    assert client.delete(f"/api/v2/projects/{SANDBOX}").status_code == 204


def test_move_is_all_or_nothing(client: httpx.Client) -> None:
    before = project_workspaces(client, DATA_PIPELINES)
    url = f"/api/v2/projects/{SANDBOX}/relationships/workspaces"
    for bad in ("ws-doesNotExist00000", GLOBEX_WS):
        resp = client.post(url, json=move_body(AIRFLOW_PROD, bad))
        assert resp.status_code == 403 and resp.headers["content-type"] == JSONAPI
        assert bad in resp.json()["errors"][0]["detail"]
        assert project_workspaces(client, DATA_PIPELINES) == before
        assert project_workspaces(client, SANDBOX) == []
    assert (
        client.post(
            "/api/v2/projects/prj-missing000000000/relationships/workspaces", json=move_body(AIRFLOW_PROD)
        ).status_code
        == 404
    )
    assert client.post(url, json={"data": []}).status_code == 422
    malformed = client.post(url, json={"data": [{"type": "projects", "id": AIRFLOW_PROD}]})
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["source"]["pointer"] == "/data/0/type"

    assert client.post(url, json=move_body(*before)).status_code == 204
    assert project_workspaces(client, SANDBOX) == before
    assert project_workspaces(client, DATA_PIPELINES) == []
    counts = {
        p["id"]: p["attributes"]["workspace-count"]
        for p in client.get(f"/api/v2/organizations/{ORG}/projects").json()["data"]
    }
    assert counts[SANDBOX] == 3 and counts[DATA_PIPELINES] == 0
    assert client.delete(f"/api/v2/projects/{DATA_PIPELINES}").status_code == 204


def test_workspaces_list_and_show(client: httpx.Client) -> None:
    url = f"/api/v2/organizations/{ORG}/workspaces"
    doc = client.get(url, params={"filter[project][id]": PLATFORM_CORE, "page[size]": 2}).json()
    assert len(doc["data"]) == 2 and doc["meta"]["pagination"]["total-count"] == 5
    assert doc["data"][0]["relationships"]["project"]["data"] == {"id": PLATFORM_CORE, "type": "projects"}
    assert names(client.get(url, params={"search[name]": "AIRFLOW", "sort": "-name"}).json()) == [
        "airflow-staging",
        "airflow-prod",
    ]
    assert client.get(url).json()["meta"]["pagination"]["total-count"] == 13
    shown = client.get(f"/api/v2/workspaces/{AIRFLOW_PROD}")
    assert shown.status_code == 200 and shown.json()["data"]["attributes"]["name"] == "airflow-prod"
    assert client.get(f"/api/v2/organizations/{ORG}/workspaces/warehouse").status_code == 200
    assert client.get("/api/v2/workspaces/ws-doesNotExist00000").status_code == 404
    org = client.get(f"/api/v2/organizations/{ORG}").json()["data"]
    assert org["id"] == ORG and org["type"] == "organizations"


# ---- rate limit, faults, admin ----------------------------------------------------------------


def test_more_than_30_requests_per_second_get_429(client: httpx.Client) -> None:
    url = f"/api/v2/projects/{SANDBOX}"
    statuses = [client.get(url).status_code for _ in range(40)]
    assert statuses[:30] == [200] * 30
    assert 429 in statuses[30:]
    limited = client.get(url)
    assert limited.status_code == 429 and limited.headers["content-type"] == JSONAPI
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["errors"][0]["title"] == "Too many requests"
    assert client.get(url, headers={"Authorization": "Bearer another-user"}).status_code == 200

    config = client.post("/_admin/config", json={"rate_limit_per_second": 3})
    assert config.json()["rate_limit_per_second"] == 3
    assert [client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    client.post("/_admin/config", json={"rate_limit_per_second": 0})
    assert all(client.get(url).status_code == 200 for _ in range(40))


def test_injected_faults_use_jsonapi_errors(client: httpx.Client) -> None:
    client.post("/_faults", json={"status": 503, "count": 1})
    resp = client.get(f"/api/v2/organizations/{ORG}/projects")
    assert resp.status_code == 503 and resp.headers["content-type"] == JSONAPI
    assert resp.json()["errors"][0]["status"] == "503"
    client.post("/_faults", json={"status": 429, "count": 5, "retry_after": 2})
    assert client.post("/_admin/config", json={}).status_code == 200  # admin is never faulted
    limited = client.get(f"/api/v2/projects/{SANDBOX}")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert set(limited.json()["errors"][0]) == {"status", "title", "detail"}
    client.delete("/_faults")
    assert client.get(f"/api/v2/projects/{SANDBOX}").status_code == 200


def test_reset_to_empty_and_back(client: httpx.Client) -> None:
    empty = client.post("/_admin/reset", json={"seed": "empty"}).json()
    assert (empty["seed"], empty["projects"], empty["workspaces"]) == ("empty", 1, 0)
    assert names(client.get(f"/api/v2/organizations/{ORG}/projects").json()) == ["Default Project"]
    assert client.post("/_admin/reset", json={"seed": "nope"}).status_code == 400
    assert client.post("/_admin/reset", json={"seed": "demo"}).json()["projects"] == 7
