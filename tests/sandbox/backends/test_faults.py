"""The emulators' fault injection (`sandbox.backends.faults`): statuses, latency, broken bodies, proxy pages,
dropped connections, late answers, and faults that let the change happen first."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import loopback
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.backends.faults import FaultMiddleware
from sandbox.serving import serve_in_thread

CHANGES: list[str] = []


def error_body(status: int, message: str) -> tuple[bytes, str]:
    return json.dumps({"error": message, "status": status}).encode(), "application/json"


async def things(request: Request) -> JSONResponse:
    if request.method == "POST":
        CHANGES.append((await request.json())["name"])
        return JSONResponse({"created": CHANGES[-1]}, status_code=201)
    return JSONResponse({"things": CHANGES})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = FaultMiddleware(Starlette(routes=[Route("/v1/things", things, methods=["GET", "POST"])]), error_body)
    handle = serve_in_thread(app)
    yield handle.url
    handle.stop()


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    CHANGES.clear()
    with loopback.Client(base_url=server, timeout=5) as client:
        client.delete("/_faults")
        yield client
        client.delete("/_faults")


def test_a_status_for_one_method_only(http: httpx.Client) -> None:
    http.post("/_faults", json={"status": 500, "method": "POST", "count": -1}).raise_for_status()
    assert http.get("/v1/things").status_code == 200
    answer = http.post("/v1/things", json={"name": "a"})
    assert answer.status_code == 500 and answer.json()["status"] == 500 and CHANGES == []


def test_applied_then_answered_with_an_error(http: httpx.Client) -> None:
    http.post("/_faults", json={"status": 500, "apply": True}).raise_for_status()
    assert http.post("/v1/things", json={"name": "made"}).status_code == 500
    assert CHANGES == ["made"]  # the change happened; only its answer was lost


def test_malformed_and_html_answers(http: httpx.Client) -> None:
    http.post("/_faults", json={"malformed": True}).raise_for_status()
    broken = http.get("/v1/things")
    assert broken.status_code == 200 and broken.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        broken.json()
    http.post("/_faults", json={"html": True, "status": 502}).raise_for_status()
    page = http.get("/v1/things")
    assert page.status_code == 502 and page.text.startswith("<!DOCTYPE html>") and "html" in page.headers[
        "content-type"]


@pytest.mark.parametrize("apply", [False, True])
def test_a_dropped_connection_gives_no_answer(http: httpx.Client, apply: bool) -> None:
    http.post("/_faults", json={"drop": True, "apply": apply}).raise_for_status()
    with pytest.raises(httpx.TransportError):
        http.post("/v1/things", json={"name": "dropped"})
    assert len(CHANGES) == int(apply)  # the change happened only when applied first


def test_a_late_answer_after_the_change(http: httpx.Client) -> None:
    http.post("/_faults", json={"delay_ms": 300, "apply": True}).raise_for_status()
    started = time.monotonic()
    assert http.post("/v1/things", json={"name": "late"}).json() == {"created": "late"}
    assert time.monotonic() - started >= 0.3 and CHANGES == ["late"]
    http.post("/_faults", json={"delay_ms": 200}).raise_for_status()  # without apply: waits, then handled
    assert http.post("/v1/things", json={"name": "later"}).status_code == 201 and CHANGES == ["late", "later"]


def test_faults_are_listed_and_bad_specs_refused(http: httpx.Client) -> None:
    set_ = http.post("/_faults", json={"status": 503, "count": 2, "path": "/v1", "method": "get"}).json()
    assert set_ == {"latency_ms": 0.0, "faults": [{"count": 2, "status": 503, "path": "/v1", "method": "GET"}]}
    assert http.post("/_faults", json={}).json() == set_  # an empty spec reads what is set
    assert http.post("/_faults", json={"status": 200}).status_code == 400
    assert http.post("/_faults", json={"status": 500, "drop": True}).status_code == 400
    assert http.post("/_faults", json={"apply": True}).status_code == 400
    assert http.post("/_faults", json=[1]).status_code == 400
