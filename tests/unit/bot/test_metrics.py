"""bot.metrics and where it is fed: one registry per app, the back-end client's counts, the executor's, the ack."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncBoltRequest

from bot.backends.http import HttpBackend, RetryPolicy, instrument
from bot.errors import BackendError
from bot.metrics import DISCARDED, Metrics, metrics_of, request_arrived
from bot.operations.base import Actor, Operation, OpRequest, Rendered, Risk
from bot.operations.executor import execute
from bot.operations.registry import Registry
from bot.slack.middleware import TimedAck, observe_request, surface_of


def samples(metrics: Metrics) -> dict[tuple[str, frozenset], float]:
    """Every sample of the rendered text, parsed as Prometheus does: (name, labels) -> value."""
    text = metrics.render().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics).get((name, frozenset(labels.items())), 0.0)


def test_every_metric_renders_as_prometheus_text_and_counts() -> None:
    metrics = Metrics()
    metrics.ack("command", 200, 0.01)
    metrics.operation("phoenix.project.list", "phoenix", "succeeded", 0.2)
    metrics.operation("phoenix.project.delete", "phoenix", "refused")
    metrics.backend_request("phoenix", 200, 0.05)
    metrics.backend_retry("phoenix")
    metrics.approval_decided("approved")
    metrics.approval_decided("expired", 0)  # nothing expired: no sample
    metrics.scheduled_run("digest", "failed")
    metrics.assistant_request("model:gpt", "clarify")
    metrics.pending_approvals_from(lambda: 3)
    assert value(metrics, "projectops_acks_total", surface="command", status="200") == 1
    assert value(metrics, "projectops_ack_duration_seconds_count", surface="command") == 1
    assert value(metrics, "projectops_operations_total", operation="phoenix.project.list", target="phoenix",
                 outcome="succeeded") == 1
    assert value(metrics, "projectops_operation_duration_seconds_count", operation="phoenix.project.list",
                 target="phoenix") == 1
    assert value(metrics, "projectops_operation_duration_seconds_count", operation="phoenix.project.delete",
                 target="phoenix") == 0  # refusals are counted, not timed
    assert value(metrics, "projectops_backend_requests_total", target="phoenix", status="200") == 1
    assert value(metrics, "projectops_backend_retries_total", target="phoenix") == 1
    assert value(metrics, "projectops_approvals_pending") == 3
    assert value(metrics, "projectops_approvals_decided_total", outcome="approved") == 1
    assert ("projectops_approvals_decided_total", frozenset({("outcome", "expired")})) not in samples(metrics)
    assert value(metrics, "projectops_scheduled_runs_total", kind="digest", outcome="failed") == 1
    assert value(metrics, "projectops_assistant_requests_total", resolver="model:gpt", answer="clarify") == 1


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.ack("event", 200, 0.001)
    assert value(first, "projectops_acks_total", surface="event", status="200") == 1
    assert value(second, "projectops_acks_total", surface="event", status="200") == 0
    assert first.registry is not second.registry


def test_pending_gauge_is_left_out_when_the_database_cannot_count() -> None:
    metrics = Metrics()

    def broken() -> int:
        raise RuntimeError("database is away")

    metrics.pending_approvals_from(broken)
    names = {name for name, _ in samples(metrics)}
    assert "projectops_approvals_pending" not in names  # the scrape itself still answers


def test_metrics_of_falls_back_to_a_set_nobody_scrapes() -> None:
    class Holder:
        metrics = Metrics()

    assert metrics_of(Holder()) is Holder.metrics
    assert metrics_of(object()) is DISCARDED


# -- the back-end client ------------------------------------------------------------------------------------------


def backend(handler, metrics: Metrics | None) -> HttpBackend:
    http = HttpBackend("polaris", "http://polaris.invalid", parse_error=lambda r: BackendError("no", status=0),
                       transport=httpx.MockTransport(handler), retry=RetryPolicy(base_delay=0, max_delay=0))

    class Client:
        pass

    client = Client()
    client.http = http  # type: ignore[attr-defined]
    instrument(client, "pol-prod", metrics)
    return http


async def test_backend_requests_are_counted_by_target_and_status_with_retries() -> None:
    metrics = Metrics()
    answers = iter([httpx.Response(503), httpx.Response(200, json={"ok": True}), httpx.Response(404, json={})])
    http = backend(lambda request: next(answers), metrics)
    try:
        assert (await http.request("GET", "/v1/projects")).status_code == 200
        with pytest.raises(BackendError):
            await http.request("GET", "/v1/projects/nope")
    finally:
        await http.aclose()
    assert value(metrics, "projectops_backend_requests_total", target="pol-prod", status="200") == 1
    assert value(metrics, "projectops_backend_requests_total", target="pol-prod", status="404") == 1
    assert value(metrics, "projectops_backend_retries_total", target="pol-prod") == 1
    assert value(metrics, "projectops_backend_request_duration_seconds_count", target="pol-prod") == 2


async def test_an_unreachable_back_end_is_counted_by_reason() -> None:
    metrics = Metrics()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = backend(refuse, metrics)
    try:
        with pytest.raises(BackendError):
            await http.request("GET", "/v1/projects")
    finally:
        await http.aclose()
    assert value(metrics, "projectops_backend_requests_total", target="pol-prod", status="unreachable") == 1
    assert value(metrics, "projectops_backend_retries_total", target="pol-prod") == 3  # 4 attempts


async def test_a_client_without_metrics_counts_nothing() -> None:
    http = backend(lambda request: httpx.Response(200, json={}), None)
    try:
        await http.request("GET", "/")
    finally:
        await http.aclose()
    assert http.metrics is None


# -- the executor -------------------------------------------------------------------------------------------------


class Params(BaseModel):
    name: str = "p"


async def test_operations_are_counted_by_name_target_and_outcome(make_services) -> None:
    services = make_services({"targets": {"pol": {"kind": "polaris", "url": "http://x"}},
                              "roles": {"operator": ["UOPS"], "default": "viewer"}}, registry=Registry())

    async def run(ctx, params):
        return "done"

    async def fail(ctx, params):
        raise BackendError("Polaris said no.")

    def op(name: str, body) -> Operation:
        return Operation(name=name, summary="do", params=Params, risk=Risk.WRITE, run=body,
                         render=lambda v, c: Rendered(str(v)), kind="polaris")

    def request(operation: Operation, user: str = "UOPS") -> OpRequest:
        return OpRequest(operation=operation, actor=Actor(user_id=user, channel_id="C1"), params=Params(),
                         target="pol")

    await execute(services, request(op("thing.do", run)))
    await execute(services, request(op("thing.do", run), user="UVIEW"))  # a viewer: refused
    await execute(services, request(op("thing.break", fail)))
    metrics = services.metrics
    assert value(metrics, "projectops_operations_total", operation="polaris.thing.do", target="pol",
                 outcome="succeeded") == 1
    assert value(metrics, "projectops_operations_total", operation="polaris.thing.do", target="pol",
                 outcome="refused") == 1
    assert value(metrics, "projectops_operations_total", operation="polaris.thing.break", target="pol",
                 outcome="failed") == 1
    assert value(metrics, "projectops_operation_duration_seconds_count", operation="polaris.thing.do",
                 target="pol") == 1


# -- the ack ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "surface"), [
    ({"command": "/projects", "text": "help"}, "command"),
    ({"type": "block_actions"}, "block_actions"),
    ({"type": "view_submission"}, "view_submission"),
    ({"type": "block_suggestion"}, "block_suggestion"),
    ({"type": "event_callback", "event": {"type": "app_mention"}}, "event"),
    ({"type": "something_new"}, "other"),
])
def test_surface_of(body: dict, surface: str) -> None:
    assert surface_of(body) == surface


async def test_the_ack_is_timed_from_arrival_by_surface(make_services) -> None:
    services = make_services({}, registry=Registry())
    observe = observe_request(services)
    request = AsyncBoltRequest(body="", context={})
    request.body = {"type": "block_actions", "trigger_id": "1.2.abc"}

    async def go_on() -> None:
        return None

    token = request_arrived.set(1.0)  # perf_counter() of a request that arrived long ago
    try:
        await observe(request, BoltResponse(status=200), go_on)
    finally:
        request_arrived.reset(token)
    ack = request.context.ack
    assert isinstance(ack, TimedAck)
    await ack()
    await ack()  # a second call is no second ack
    metrics = services.metrics
    assert value(metrics, "projectops_acks_total", surface="block_actions", status="200") == 1
    assert samples(metrics)[("projectops_ack_duration_seconds_sum",
                             frozenset({("surface", "block_actions")}))] > 1.0


def test_a_deep_copied_request_shares_the_apps_metrics() -> None:
    import copy

    metrics = Metrics()
    ack = copy.deepcopy(TimedAck(metrics, "command", 0.0))  # as Bolt copies a request for a lazy listener
    assert ack.metrics is metrics
