"""Tests for the Matillion DPC emulator, mounted under a prefix as `projectops emulate` serves it."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.matillion import create_app
from sandbox.serving import serve_in_thread

AUDIENCE = "https://api.matillion.com"
ANALYTICS = "4c6d3f5e-2b1a-4e8f-9a7b-0c1d2e3f4a5b"  # demo: fully provisioned Snowflake project
MARKETING = "9e8d7c6b-5a49-4a3b-8c2d-1e0f9a8b7c6d"  # demo: Redshift project with only a connection
AGENT = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQ-not-a-real-key\n-----END PRIVATE KEY-----"
HTTP = loopback.Client(timeout=10)  # one client (and SSL context) for all one-off calls: keeps the suite fast


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    handle = serve_in_thread(Starlette(routes=[Mount("/matillion", app=create_app())]))
    yield f"{handle.url}/matillion"
    HTTP.close()
    handle.stop()


@pytest.fixture
def base(server: str) -> str:
    """The emulator's URL, reset to the demo seed with no pending failures."""
    assert HTTP.post(f"{server}/_admin/reset", json={"seed": "demo"}).status_code == 200
    HTTP.delete(f"{server}/_faults")
    return server


def token_for(base: str, **form: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "audience": AUDIENCE,
    } | form
    return HTTP.post(f"{base}/oauth/dpc/token", data=data)


def new_token(base: str) -> str:
    response = token_for(base)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def api(base: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {new_token(base)}"}  # plain http: verify=False skips CA loading
    with loopback.Client(base_url=base, headers=headers, timeout=10, verify=False) as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance", "violations"}
    assert body["status"] == status and isinstance(body["violations"], list)
    return body


def violation_fields(response: httpx.Response) -> set[str]:
    return {v.split(":", 1)[0] for v in assert_problem(response, 400)["violations"]}


def new_project(api: httpx.Client, **fields: str) -> str:
    body = {"name": f"p-{uuid.uuid4().hex[:8]}", "warehouse": "SNOWFLAKE", "agentDeploymentType": "HYBRID"}
    response = api.post("/v1/projects", json=body | fields)
    assert response.status_code == 201, response.text
    return response.json()["projectId"]


def add_connection(api: httpx.Client, project_id: str, name: str = "wh", **fields: str) -> httpx.Response:
    body = {"name": name, "platformConnectionType": "DWH", "authProvider": "SNOWFLAKE", "authType": "KEY_PAIR"}
    return api.post(f"/v1/projects/{project_id}/data-platform-connections", json=body | fields)


def environment_body(name: str = "dev", conn: str = "wh", **props: str) -> dict:
    properties = {"account": "acme-xy", "username": "SVC", "privateKey": PRIVATE_KEY} | props
    return {
        "name": name,
        "description": "Development",
        "defaultAgentId": AGENT,
        "defaultUserAccessLevel": "default",
        "defaultConnections": [conn],
        "connectionOverrides": {
            conn: {"connectionProperties": properties, "defaults": {"warehouse": "COMPUTE_WH", "schema": "PUBLIC"}}
        },
    }


def state(base: str) -> dict:
    return HTTP.get(f"{base}/_admin/state").json()


def project_state(base: str, project_id: str) -> dict:
    return next(p for p in state(base)["projects"] if p["id"] == project_id)


# --- OAuth -------------------------------------------------------------------------------------------


def test_token_flow(base: str) -> None:
    response = token_for(base)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    header, payload, _ = body["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["aud"] == AUDIENCE and claims["exp"] - claims["iat"] == 1800
    ok = HTTP.get(f"{base}/v1/projects", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200


def test_token_accepts_json_and_basic_auth(base: str) -> None:
    as_json = HTTP.post(
        f"{base}/oauth/dpc/token",
        json={"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret"}
        | {"audience": AUDIENCE},
    )
    assert as_json.status_code == 200
    basic = HTTP.post(
        f"{base}/oauth/dpc/token",
        data={"grant_type": "client_credentials", "audience": AUDIENCE},
        auth=("demo-client", "demo-secret"),
    )
    assert basic.status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "access_denied"),
        ({"client_id": "someone-else"}, 401, "access_denied"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"audience": ""}, 403, "access_denied"),
        ({"audience": "https://elsewhere.example"}, 403, "access_denied"),
    ],
)
def test_token_errors(base: str, form: dict[str, str], status: int, error: str) -> None:
    response = token_for(base, **form)
    assert response.status_code == status
    assert response.json()["error"] == error and "error_description" in response.json()


def test_bearer_required_everywhere(base: str) -> None:
    for method, path in [
        ("GET", "/v1/projects"),
        ("POST", "/v1/projects"),
        ("GET", f"/v1/projects/{ANALYTICS}"),
        ("POST", f"/v1/projects/{ANALYTICS}/environments"),
        ("POST", f"/v1/projects/{ANALYTICS}/repositories"),
    ]:
        assert_problem(HTTP.request(method, f"{base}{path}"), 401)
    bad = HTTP.get(f"{base}/v1/projects", headers={"Authorization": "Bearer nope"})
    assert "invalid" in assert_problem(bad, 401)["detail"]


def test_expired_tokens_are_refused(base: str, api: httpx.Client) -> None:
    assert api.get("/v1/projects").status_code == 200
    assert HTTP.post(f"{base}/_admin/expire_tokens").json()["expired"] >= 1
    assert "expired" in assert_problem(api.get("/v1/projects"), 401)["detail"]
    HTTP.post(f"{base}/_admin/config", json={"token_ttl_seconds": 0})
    body = token_for(base).json()
    assert body["expires_in"] == 0
    short = HTTP.get(f"{base}/v1/projects", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert_problem(short, 401)
    fresh = HTTP.get(f"{base}/v1/projects", headers={"Authorization": f"Bearer {new_token(base)}"})
    assert fresh.status_code == 401  # ttl 0 still applies
    HTTP.post(f"{base}/_admin/reset", json={})
    fresh = HTTP.get(f"{base}/v1/projects", headers={"Authorization": f"Bearer {new_token(base)}"})
    assert fresh.status_code == 200


def test_configured_credentials(base: str) -> None:
    config = HTTP.post(f"{base}/_admin/config", json={"client_id": "bot", "client_secret": "s3cr3t"}).json()
    assert config["client_id"] == "bot" and "client_secret" not in config
    assert token_for(base).status_code == 401
    assert token_for(base, client_id="bot", client_secret="s3cr3t").status_code == 200


# --- projects ----------------------------------------------------------------------------------------


def test_demo_seed_and_paging(api: httpx.Client) -> None:
    body = api.get("/v1/projects").json()
    assert body["page"] == 0 and body["size"] == 25 and body["total"] == 2
    assert [p["name"] for p in body["results"]] == ["analytics-dwh", "marketing-redshift"]
    second = api.get("/v1/projects", params={"page": 1, "size": 1}).json()
    assert [p["id"] for p in second["results"]] == [MARKETING] and second["total"] == 2
    assert api.get("/v1/projects", params={"page": 5}).json()["results"] == []
    assert violation_fields(api.get("/v1/projects", params={"page": -1, "size": 1000})) == {"page", "size"}


def test_empty_seed(base: str, api: httpx.Client) -> None:
    HTTP.post(f"{base}/_admin/reset", json={"seed": "empty"})
    assert api.get("/v1/projects").json()["total"] == 0
    assert HTTP.post(f"{base}/_admin/reset", json={"seed": "bogus"}).status_code == 400


def test_create_project(api: httpx.Client) -> None:
    response = api.post(
        "/v1/projects",
        json={"name": "new-proj", "description": "d", "warehouse": "redshift", "agentDeploymentType": "Full_SaaS"},
    )
    assert response.status_code == 201
    assert set(response.json()) == {"projectId"}
    project_id = response.json()["projectId"]
    assert uuid.UUID(project_id).version == 4
    got = api.get(f"/v1/projects/{project_id}").json()
    assert got["name"] == "new-proj" and got["description"] == "d"
    assert (got["warehouse"], got["agentDeploymentType"]) == ("REDSHIFT", "FULL_SAAS")
    assert api.get("/v1/projects").json()["total"] == 3


def test_create_project_violations(api: httpx.Client) -> None:
    body = assert_problem(api.post("/v1/projects", json={}), 400)
    assert body["instance"] == "/v1/projects" and body["title"] == "Bad Request"
    assert {v.split(":")[0] for v in body["violations"]} == {"name", "warehouse", "agentDeploymentType"}
    response = api.post("/v1/projects", json={"name": "  ", "warehouse": "BIGQUERY", "agentDeploymentType": "ON_PREM"})
    violations = assert_problem(response, 400)["violations"]
    assert "warehouse: must be one of [SNOWFLAKE, REDSHIFT]" in violations
    assert "agentDeploymentType: must be one of [HYBRID, FULL_SAAS]" in violations
    assert "name: must not be blank" in violations
    long = {"name": "x" * 256, "warehouse": "SNOWFLAKE", "agentDeploymentType": "HYBRID"}
    assert violation_fields(api.post("/v1/projects", json=long)) == {"name"}
    assert_problem(api.post("/v1/projects", content=b"{oops", headers={"content-type": "application/json"}), 400)
    assert_problem(api.post("/v1/projects", json=["not", "an", "object"]), 400)


def test_duplicate_project_name_conflicts(api: httpx.Client) -> None:
    body = {"name": "ANALYTICS-DWH", "warehouse": "SNOWFLAKE", "agentDeploymentType": "HYBRID"}
    assert_problem(api.post("/v1/projects", json=body), 409)


def test_project_id_must_be_a_lowercase_uuid(api: httpx.Client) -> None:
    for bad in ("not-a-uuid", ANALYTICS.upper()):
        for path in (f"/v1/projects/{bad}", f"/v1/projects/{bad}/environments"):
            body = assert_problem(api.get(path), 400)
            assert body["violations"][0].startswith("projectId: must match")
    assert_problem(api.get(f"/v1/projects/{uuid.uuid4()}"), 404)
    assert_problem(add_connection(api, str(uuid.uuid4())), 404)


def test_delete_project(api: httpx.Client) -> None:
    assert api.delete(f"/v1/projects/{MARKETING}").status_code == 204
    assert_problem(api.get(f"/v1/projects/{MARKETING}"), 404)
    assert_problem(api.delete(f"/v1/projects/{MARKETING}"), 404)


# --- data-platform connections --------------------------------------------------------------------


def test_create_connection_case_insensitive(api: httpx.Client) -> None:
    project_id = new_project(api)
    response = add_connection(
        api, project_id, platformConnectionType="dwh", authProvider="snowflake", authType="key_pair"
    )
    assert response.status_code == 201
    created = response.json()
    assert uuid.UUID(created["id"])
    assert (created["platformConnectionType"], created["authProvider"], created["authType"]) == (
        "DWH",
        "SNOWFLAKE",
        "KEY_PAIR",
    )
    listed = api.get(f"/v1/projects/{project_id}/data-platform-connections").json()
    assert [c["id"] for c in listed["results"]] == [created["id"]]
    redshift = add_connection(api, project_id, "rs", authProvider="Redshift", authType="Password")
    assert redshift.status_code == 201


@pytest.mark.parametrize(("provider", "auth_type"), [("SNOWFLAKE", "PASSWORD"), ("REDSHIFT", "KEY_PAIR")])
def test_unsupported_auth_combination(api: httpx.Client, provider: str, auth_type: str) -> None:
    response = add_connection(api, new_project(api), authProvider=provider, authType=auth_type)
    assert violation_fields(response) == {"authType"}


def test_connection_violations_and_conflict(api: httpx.Client) -> None:
    project_id = new_project(api)
    response = add_connection(api, project_id, name="", platformConnectionType="WAREHOUSE", authProvider="BIGQUERY")
    assert violation_fields(response) == {"name", "platformConnectionType", "authProvider"}
    assert add_connection(api, project_id).status_code == 201
    assert_problem(add_connection(api, project_id, name="WH"), 409)


# --- environments ----------------------------------------------------------------------------------


def test_create_environment_never_echoes_secrets(base: str, api: httpx.Client) -> None:
    project_id = new_project(api)
    add_connection(api, project_id)
    body = environment_body(passphrase="pass-phrase-123")
    response = api.post(f"/v1/projects/{project_id}/environments", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "dev" and created["defaultConnections"] == ["wh"]
    assert created["connectionOverrides"]["wh"]["connectionProperties"] == {"account": "acme-xy", "username": "SVC"}
    listed = api.get(f"/v1/projects/{project_id}/environments")
    everything = response.text + listed.text + HTTP.get(f"{base}/_admin/state").text
    assert "not-a-real-key" not in everything and "pass-phrase-123" not in everything
    assert "privateKey" not in response.text + listed.text
    (env,) = project_state(base, project_id)["environments"]
    secrets = env["secrets"]["wh"]
    assert secrets["connectionProperties.privateKey"] == {
        "received": True,
        "sha256": hashlib.sha256(PRIVATE_KEY.encode()).hexdigest()[:12],
    }
    assert secrets["connectionProperties.passphrase"]["received"] is True


def test_environment_enum_is_case_insensitive(api: httpx.Client) -> None:
    project_id = new_project(api)
    add_connection(api, project_id)
    body = environment_body() | {"defaultUserAccessLevel": "READONLY"}
    response = api.post(f"/v1/projects/{project_id}/environments", json=body)
    assert response.status_code == 201 and response.json()["defaultUserAccessLevel"] == "readOnly"


def test_environment_violations(api: httpx.Client) -> None:
    project_id = new_project(api)
    add_connection(api, project_id)
    bad = environment_body() | {"defaultAgentId": "agent-1", "defaultUserAccessLevel": "owner"}
    del bad["defaultConnections"]
    fields = violation_fields(api.post(f"/v1/projects/{project_id}/environments", json=bad))
    assert fields == {"defaultAgentId", "defaultUserAccessLevel", "defaultConnections"}
    unknown = environment_body(conn="nope")
    fields = violation_fields(api.post(f"/v1/projects/{project_id}/environments", json=unknown))
    assert fields == {"defaultConnections", "connectionOverrides"}
    no_key = environment_body()
    del no_key["connectionOverrides"]["wh"]["connectionProperties"]["privateKey"]
    fields = violation_fields(api.post(f"/v1/projects/{project_id}/environments", json=no_key))
    assert fields == {"connectionOverrides.wh.connectionProperties.privateKey"}


def test_redshift_environment_needs_password(api: httpx.Client) -> None:
    body = environment_body(conn="redshift-main")
    props = body["connectionOverrides"]["redshift-main"]["connectionProperties"]
    assert violation_fields(api.post(f"/v1/projects/{MARKETING}/environments", json=body)) == {
        "connectionOverrides.redshift-main.connectionProperties.password"
    }
    props["password"] = "hunter2"
    response = api.post(f"/v1/projects/{MARKETING}/environments", json=body)
    assert response.status_code == 201 and "hunter2" not in response.text


def test_duplicate_environment_conflicts(api: httpx.Client) -> None:
    body = environment_body(name="ANALYTICS-DEV", conn="snowflake-main")
    assert_problem(api.post(f"/v1/projects/{ANALYTICS}/environments", json=body), 409)


# --- repositories ----------------------------------------------------------------------------------


def test_associate_github_repository_once(base: str, api: httpx.Client) -> None:
    body = {"provider": "GitHub", "repositoryName": "acme/new-repo", "providerParameters": {}}
    headers = {"Git-Provider-Access-Token": "ghp_secretpat"}
    response = api.post(f"/v1/projects/{MARKETING}/repositories", json=body, headers=headers)
    assert response.status_code == 201
    assert response.json()["provider"] == "github" and "ghp_secretpat" not in response.text
    repo = project_state(base, MARKETING)["repository"]
    assert repo["accessToken"]["received"] is True and "ghp_secretpat" not in json.dumps(repo)
    again = assert_problem(api.post(f"/v1/projects/{MARKETING}/repositories", json=body, headers=headers), 409)
    assert "already associated" in again["detail"]
    listed = api.get(f"/v1/projects/{MARKETING}/repositories").json()["results"]
    assert [r["repositoryName"] for r in listed] == ["acme/new-repo"]


def test_github_requires_pat_header(api: httpx.Client) -> None:
    body = {"provider": "github", "repositoryName": "acme/x"}
    assert violation_fields(api.post(f"/v1/projects/{MARKETING}/repositories", json=body)) == {
        "Git-Provider-Access-Token"
    }


def test_azure_devops_repository(api: httpx.Client) -> None:
    body = {"provider": "azure-devops", "repositoryName": "r" * 256, "providerParameters": {"organization": "acme"}}
    fields = violation_fields(api.post(f"/v1/projects/{MARKETING}/repositories", json=body))
    assert fields == {"repositoryName", "providerParameters.repositoryId", "providerParameters.tenantId"}
    body |= {
        "repositoryName": "pipelines",
        "providerParameters": {"organization": "acme", "repositoryId": str(uuid.uuid4()), "tenantId": "t-1"},
    }
    assert api.post(f"/v1/projects/{MARKETING}/repositories", json=body).status_code == 201
    assert violation_fields(api.post(f"/v1/projects/{MARKETING}/repositories", json={"provider": "gitlab"})) == {
        "provider",
        "repositoryName",
    }


# --- rate limit, failures, faults ----------------------------------------------------------------------


def test_burst_rate_limit_per_token(base: str) -> None:
    assert HTTP.post(f"{base}/_admin/config", json={"rate_limit_per_second": 5}).json()["rate_limit_per_second"] == 5
    token, other = new_token(base), new_token(base)
    with loopback.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, verify=False) as client:
        responses = [client.get("/v1/projects") for _ in range(8)]
        assert [r.status_code for r in responses[:5]] == [200] * 5
        limited = [r for r in responses[5:] if r.status_code == 429]
        assert limited, "expected a 429 after 5 requests within a second"
        assert_problem(limited[0], 429)
        wait = int(limited[0].headers["Retry-After"])
        assert wait == 1
        other_ok = HTTP.get(f"{base}/v1/projects", headers={"Authorization": f"Bearer {other}"})
        assert other_ok.status_code == 200  # the limit is per token
        time.sleep(wait + 0.05)
        assert client.get("/v1/projects").status_code == 200


def test_fail_hook_then_resume(base: str, api: httpx.Client) -> None:
    project_id = new_project(api)
    assert add_connection(api, project_id).status_code == 201
    armed = HTTP.post(f"{base}/_admin/fail", json={"step": "environments", "count": 1})
    assert armed.json()["pending_failures"]["environments"][0]["count"] == 1
    failed = api.post(f"/v1/projects/{project_id}/environments", json=environment_body())
    assert_problem(failed, 500)
    assert project_state(base, project_id)["environments"] == []
    assert api.post(f"/v1/projects/{project_id}/environments", json=environment_body()).status_code == 201


def test_fail_hook_with_commit_stores_anyway(base: str, api: httpx.Client) -> None:
    HTTP.post(f"{base}/_admin/fail", json={"step": "projects", "commit": True})
    body = {"name": "lost-response", "warehouse": "SNOWFLAKE", "agentDeploymentType": "HYBRID"}
    assert_problem(api.post("/v1/projects", json=body), 500)
    assert "lost-response" in [p["name"] for p in state(base)["projects"]]
    assert_problem(api.post("/v1/projects", json=body), 409)


def test_fail_hook_validation_and_clear(base: str, api: httpx.Client) -> None:
    assert HTTP.post(f"{base}/_admin/fail", json={"step": "secrets"}).status_code == 400
    HTTP.post(f"{base}/_admin/fail", json={"step": "repositories", "count": 2, "status": 503})
    assert HTTP.delete(f"{base}/_admin/fail").json()["pending_failures"] == {}
    assert state(base)["pending_failures"] == {}


def test_injected_faults_and_unknown_routes_are_problem_json(base: str, api: httpx.Client) -> None:
    HTTP.post(f"{base}/_faults", json={"status": 503, "count": 1, "retry_after": 3})
    response = api.get("/v1/projects")
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "3"
    assert api.get("/v1/projects").status_code == 200
    assert_problem(api.get("/v1/nothing-here"), 404)
    assert_problem(api.put("/v1/projects"), 405)


def test_demo_state_shows_provisioning_progress(base: str) -> None:
    projects = {p["name"]: p for p in state(base)["projects"]}
    full, partial = projects["analytics-dwh"], projects["marketing-redshift"]
    assert [c["name"] for c in full["dataPlatformConnections"]] == ["snowflake-main"]
    assert full["environments"][0]["secrets"]["snowflake-main"]["connectionProperties.privateKey"]["received"]
    assert full["repository"]["accessToken"]["received"] is True
    assert partial["environments"] == [] and partial["repository"] is None
