"""What an operator scrapes from `GET /metrics`: one Prometheus registry per built app.

Each `Metrics` owns its own `CollectorRegistry` (never prometheus_client's global one), so tests and several
apps in one process keep separate counts. The layers above only call the methods here; none of them imports
prometheus_client. Label values come from small fixed sets (surfaces, outcomes, HTTP statuses) or from the
configuration (operation and target names), so the number of series stays bounded.

    projectops_acks_total{surface,status}                 requests acknowledged to Slack
    projectops_ack_duration_seconds{surface}              request arrival -> ack
    projectops_operations_total{operation,target,outcome} outcome: succeeded | failed | refused
    projectops_operation_duration_seconds{operation,target}  operations that ran (not refused ones)
    projectops_backend_requests_total{target,status}      status: the HTTP status, or timeout | unreachable | error
    projectops_backend_request_duration_seconds{target}   one request, its retries and waits included
    projectops_backend_retries_total{target}              attempts sent again (429, 5xx, connection errors)
    projectops_approvals_pending                          read from the database at each scrape
    projectops_approvals_decided_total{outcome}           approved | rejected | expired
    projectops_scheduled_runs_total{kind,outcome}         kind: digest | alerts; outcome: ok | failed
    projectops_assistant_requests_total{resolver,answer}  resolver: offline | typed | choice | model:…;
                                                          answer: understood | clarify | cannot
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("projectops.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
OPERATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BACKEND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: `time.perf_counter()` when the HTTP front received the Slack request being handled (None in Socket Mode,
#: where the ack is timed from the Bolt middleware on).
request_arrived: ContextVar[float | None] = ContextVar("projectops_request_arrived", default=None)


class _PendingApprovals(Collector):
    """`projectops_approvals_pending`, counted by the database at scrape time (right across processes)."""

    NAME, HELP = "projectops_approvals_pending", "Destructive requests waiting for a second person's decision."

    def __init__(self) -> None:
        self.count: Callable[[], int] | None = None

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(self.NAME, self.HELP)]

    def collect(self) -> Iterable[Metric]:
        if self.count is None:
            return []
        try:
            value = self.count()
        except Exception as exc:  # the database is away: leave the gauge out rather than fail the scrape
            log.warning("approvals_pending not scraped: %s", type(exc).__name__)
            return []
        return [GaugeMetricFamily(self.NAME, self.HELP, value=float(value))]


class Metrics:
    """The app's counters, histograms and gauges, in their own registry."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.acks = Counter("projectops_acks", "Slack requests acknowledged, by surface and HTTP status.",
                            ["surface", "status"], registry=registry)
        self.ack_seconds = Histogram("projectops_ack_duration_seconds",
                                     "Time from a Slack request's arrival to its ack, by surface.",
                                     ["surface"], buckets=ACK_BUCKETS, registry=registry)
        self.operations = Counter("projectops_operations", "Operations run through the executor, by outcome.",
                                  ["operation", "target", "outcome"], registry=registry)
        self.operation_seconds = Histogram("projectops_operation_duration_seconds",
                                           "Duration of operations that ran (refusals left out).",
                                           ["operation", "target"], buckets=OPERATION_BUCKETS, registry=registry)
        self.backend_requests = Counter("projectops_backend_requests",
                                        "Back-end HTTP requests, by target and final status.",
                                        ["target", "status"], registry=registry)
        self.backend_seconds = Histogram("projectops_backend_request_duration_seconds",
                                         "Duration of a back-end request, its retries included, by target.",
                                         ["target"], buckets=BACKEND_BUCKETS, registry=registry)
        self.backend_retries = Counter("projectops_backend_retries", "Back-end request attempts sent again.",
                                       ["target"], registry=registry)
        self.approvals_pending = _PendingApprovals()
        registry.register(self.approvals_pending)
        self.approvals_decided = Counter("projectops_approvals_decided", "Approval requests decided, by outcome.",
                                         ["outcome"], registry=registry)
        self.scheduled_runs = Counter("projectops_scheduled_runs", "Scheduled digests and alert checks run.",
                                      ["kind", "outcome"], registry=registry)
        self.assistant_requests = Counter("projectops_assistant_requests",
                                          "Plain-language requests, by who resolved them and what they became.",
                                          ["resolver", "answer"], registry=registry)

    def __deepcopy__(self, memo: dict[int, Any]) -> Metrics:
        """The app's one registry is shared, never copied (Bolt deep-copies a request for lazy listeners)."""
        return self

    # -- recording ------------------------------------------------------------------------------------------
    def ack(self, surface: str, status: int | str, seconds: float) -> None:
        self.acks.labels(surface, str(status)).inc()
        self.ack_seconds.labels(surface).observe(seconds)

    def operation(self, operation: str, target: str, outcome: str, seconds: float | None = None) -> None:
        self.operations.labels(operation, target, outcome).inc()
        if seconds is not None:
            self.operation_seconds.labels(operation, target).observe(seconds)

    def backend_request(self, target: str, status: int | str, seconds: float) -> None:
        self.backend_requests.labels(target, str(status)).inc()
        self.backend_seconds.labels(target).observe(seconds)

    def backend_retry(self, target: str) -> None:
        self.backend_retries.labels(target).inc()

    def pending_approvals_from(self, count: Callable[[], int]) -> None:
        """Where the pending-approvals gauge reads its value at each scrape (e.g. the store's count)."""
        self.approvals_pending.count = count

    def approval_decided(self, outcome: str, count: int = 1) -> None:
        if count:
            self.approvals_decided.labels(outcome).inc(count)

    def scheduled_run(self, kind: str, outcome: str) -> None:
        self.scheduled_runs.labels(kind, outcome).inc()

    def assistant_request(self, resolver: str, answer: str) -> None:
        self.assistant_requests.labels(resolver or "unknown", answer).inc()

    # -- reading --------------------------------------------------------------------------------------------
    def render(self) -> bytes:
        """The Prometheus text exposition of everything above (may read the database: call it off the loop)."""
        return generate_latest(self.registry)


#: Where counts go when the caller has no app's metrics (a bare test double of Services): never scraped.
DISCARDED = Metrics()


def metrics_of(holder: Any) -> Metrics:
    """`holder.metrics` (Services, a client pool) when it has one, else the discarded set."""
    metrics = getattr(holder, "metrics", None)
    return metrics if isinstance(metrics, Metrics) else DISCARDED
