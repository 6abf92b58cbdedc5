"""The assistant's fixtures: the real registry, the demo targets, and the demo seed's names typed out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.assistant import Catalog, ProjectNames, Understanding, understand
from bot.operations.loader import load_operations
from bot.operations.registry import Registry

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday
TARGETS = {"polaris": "polaris", "phoenix": "phoenix", "terraform": "terraform", "matillion": "matillion"}

# sandbox/backends/polaris/seed.py (demo), sandbox/backends/phoenix/app.py, terraform/seeds.py, matillion/store.py
POLARIS = (
    ProjectNames("analytics-prod", tables=("events", "sessions_daily", "users"),
                 jobs=("b488d7ff-566a-5286-b14a-932e398f9f6c", "8cf77c6c-1fb3-5009-9ac0-10c85bab766c",
                       "d3dcbfea-95dc-5745-9438-a6de884db9d5"), connections=("events-kafka", "raw-archive-s3")),
    ProjectNames("clickstream", tables=("clicks", "clicks_hourly", "bot_traffic"),
                 jobs=("83f88814-712c-51a9-9e8c-079fcc9948f2", "0b376ddb-f87f-570b-a20a-6423dfadca0a",
                       "26dce515-7110-591e-94d8-455414e7faf1", "bb796d0d-667c-5501-8c92-61cde741ec0b"),
                 connections=("clickstream-confluent", "clickstream-archive")),
    ProjectNames("iot-telemetry", tables=("device_readings", "device_readings_5m", "device_alerts"),
                 jobs=("4bf8a557-3b97-5e0d-be4f-463e8245607d",), connections=("iot-kinesis",)),
    ProjectNames("marketing-sandbox", tables=("campaigns", "ad_spend"), connections=("marketing-uploads",)),
    ProjectNames("support-insights", tables=("tickets", "csat_scores"),
                 jobs=("57ff0c7f-cf9c-5dd5-a35d-3f7f33ef9bba",), connections=("zendesk-exports",)),
    ProjectNames("finance-archive", tables=("ledger_2023", "ledger_2024"), connections=("finance-drop",)),
)
PHOENIX = tuple(ProjectNames(n) for n in ("default", "chatbot-prod", "rag-eval", "support-agent", "experiments-2026",
                                          "summarizer-staging"))
TERRAFORM = (
    ProjectNames("Default Project", id="prj-mcLVcC6UsaVUfWwt", workspaces=("legacy-monolith", "scratch")),
    ProjectNames("platform-core", id="prj-0sMkZ9o1CR5IdoEc", workspaces=("core-network-prod", "eks-prod")),
    ProjectNames("data-pipelines", workspaces=("airflow-prod", "warehouse")),
    ProjectNames("sandbox-playground"),
    ProjectNames("security-baseline", workspaces=("iam-guardrails",)),
    ProjectNames("ml-experiments", workspaces=("feature-store",)),
)
MATILLION = (ProjectNames("analytics-dwh"), ProjectNames("marketing-redshift"))


def demo_catalog() -> Catalog:
    return Catalog.build({"polaris": ("polaris", POLARIS), "phoenix": ("phoenix", PHOENIX),
                          "terraform": ("terraform", TERRAFORM), "matillion": ("matillion", MATILLION)})


Ask = Callable[..., Understanding]


@pytest.fixture
def registry() -> Registry:
    return load_operations()


@pytest.fixture
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture
def ask(registry: Registry, catalog: Catalog) -> Ask:
    """`ask("pause clickstream", "earlier turn", ...)`: understands the first text after the others."""

    def run(text: str, *earlier: str, targets: dict[str, str] | None = None, names: Catalog | None = None,
            tz: str = "UTC") -> Understanding:
        history: list[Understanding] = []
        for turn in earlier:
            history.append(understand(turn, registry, targets or TARGETS, names or catalog, history, now=NOW, tz=tz))
        return understand(text, registry, targets or TARGETS, names or catalog, history, now=NOW, tz=tz)

    return run

