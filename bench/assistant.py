"""How well the offline assistant understands plain words, and how fast.

    .venv/bin/python -m bench.assistant [--set heldout|tuning|all] [--repeat 5] [--show-misses]

Reads the hand-written utterances in `bench/assistant_utterances/` (`tuning.yaml` was used while
building the understanding; `heldout.yaml` was written before it and never tuned on), resolves each
against the real registry, the demo targets and the demo seed's live names, and prints intent
accuracy, entity accuracy (target and key params, on the utterances that name them) and the p50 /
p99 time to understand one message (offline: no back-end calls, nothing downloaded).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.assistant import CannotHelp, Catalog, Clarify, ProjectNames, Understanding, Understood, understand
from bot.operations.loader import load_operations
from bot.operations.registry import Registry

HERE = Path(__file__).parent / "assistant_utterances"
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday
TARGETS = {"polaris": "polaris", "phoenix": "phoenix", "terraform": "terraform", "matillion": "matillion"}


def demo_catalog() -> Catalog:
    """The names of `projectops emulate --seed demo` (sandbox/backends/*/seed*), typed out; the assistant's unit
    tests (tests/unit/bot/assistant/conftest.py) understand against them too."""
    polaris = [
        ProjectNames("analytics-prod", tables=("events", "sessions_daily", "users"),
                     jobs=("b488d7ff-566a-5286-b14a-932e398f9f6c", "8cf77c6c-1fb3-5009-9ac0-10c85bab766c",
                           "d3dcbfea-95dc-5745-9438-a6de884db9d5"), connections=("events-kafka", "raw-archive-s3")),
        ProjectNames("clickstream", tables=("clicks", "clicks_hourly", "bot_traffic"),
                     jobs=("83f88814-712c-51a9-9e8c-079fcc9948f2", "0b376ddb-f87f-570b-a20a-6423dfadca0a",
                           "26dce515-7110-591e-94d8-455414e7faf1", "bb796d0d-667c-5501-8c92-61cde741ec0b"),
                     connections=("clickstream-confluent", "clickstream-archive")),
        ProjectNames("iot-telemetry", tables=("device_readings", "device_readings_5m", "device_alerts"),
                     jobs=("4bf8a557-3b97-5e0d-be4f-463e8245607d", "b62329b4-0242-5001-aa36-220ef0d6b7b4",
                           "c75b3989-9f8c-560b-89d3-5d99f290b03b"), connections=("iot-kinesis",)),
        ProjectNames("marketing-sandbox", tables=("campaigns", "ad_spend"),
                     jobs=("81fab49c-5e8a-5ea2-b6c2-3b9c248bb8ca", "bf4a3546-25a6-5ac8-ad6a-6a37fce9715a"),
                     connections=("marketing-uploads",)),
        ProjectNames("support-insights", tables=("tickets", "csat_scores"),
                     jobs=("9b936257-e10a-5290-9fee-ba6da56e7509", "57ff0c7f-cf9c-5dd5-a35d-3f7f33ef9bba"),
                     connections=("zendesk-exports",)),
        ProjectNames("finance-archive", tables=("ledger_2023", "ledger_2024"),
                     jobs=("c27d043f-48ad-5563-8c50-6e90eafb9870",), connections=("finance-drop",)),
    ]
    phoenix = [ProjectNames(n, id=i) for n, i in (
        ("default", "UHJvamVjdDox"), ("chatbot-prod", "UHJvamVjdDoy"), ("rag-eval", "UHJvamVjdDoz"),
        ("support-agent", "UHJvamVjdDo0"), ("experiments-2026", "UHJvamVjdDo1"),
        ("summarizer-staging", "UHJvamVjdDo2"))]
    terraform = [
        ProjectNames("Default Project", id="prj-mcLVcC6UsaVUfWwt", workspaces=("legacy-monolith", "scratch")),
        ProjectNames("platform-core", id="prj-0sMkZ9o1CR5IdoEc",
                     workspaces=("core-network-prod", "core-network-staging", "eks-prod", "eks-staging", "dns-zones")),
        ProjectNames("data-pipelines", id="prj-hB1JZbDHZETROcEw",
                     workspaces=("airflow-prod", "airflow-staging", "warehouse")),
        ProjectNames("sandbox-playground", id="prj-EIarcnWZLAMssp0x"),
        ProjectNames("security-baseline", id="prj-n8DkPRXJqfiIUTqp", workspaces=("iam-guardrails", "audit-logging")),
        ProjectNames("ml-experiments", id="prj-Ay1hzYKH3oTIhFX2", workspaces=("feature-store",)),
    ]
    matillion = [ProjectNames("analytics-dwh"), ProjectNames("marketing-redshift")]
    return Catalog.build({"polaris": ("polaris", polaris), "phoenix": ("phoenix", phoenix),
                          "terraform": ("terraform", terraform), "matillion": ("matillion", matillion)})


def intent_of(result: Understanding) -> str | list[str]:
    if isinstance(result, Clarify):
        return "clarify"
    if isinstance(result, CannotHelp):
        return "cannot"
    names = [r.qualified_name for r in result.requests]
    return names[0] if len(names) == 1 else names


def _same(key: str, actual: Any, expected: Any) -> bool:
    if isinstance(expected, list):
        return isinstance(actual, list) and [str(a) for a in actual] == [str(e) for e in expected]
    if key in ("since", "until") and isinstance(actual, str):
        return actual.startswith(str(expected))
    if isinstance(expected, bool | int):
        return actual == expected
    return str(actual).casefold() == str(expected).casefold()


def entities_ok(case: dict[str, Any], result: Understanding) -> bool:
    if not isinstance(result, Understood) or not result.requests:
        return False
    request = result.requests[0]
    if "target" in case and request.target != case["target"]:
        return False
    return all(_same(k, request.params.get(k), v) for k, v in (case.get("params") or {}).items())


def run_case(case: dict[str, Any], registry: Registry, catalog: Catalog) -> tuple[Understanding, float]:
    history: list[Understanding] = []
    for earlier in case.get("after", []):
        history.append(understand(earlier, registry, TARGETS, catalog, history, now=NOW))
    started = time.perf_counter()
    result = understand(case["say"], registry, TARGETS, catalog, history, now=NOW)
    return result, (time.perf_counter() - started) * 1000


def load(which: str) -> list[dict[str, Any]]:
    names = ["tuning.yaml", "heldout.yaml"] if which == "all" else [f"{which}.yaml"]
    return [case for name in names for case in yaml.safe_load((HERE / name).read_text())]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="heldout", choices=("heldout", "tuning", "all"))
    ap.add_argument("--repeat", type=int, default=5, help="timing passes over the set")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    registry = load_operations()
    catalog = demo_catalog()
    cases = load(args.set)
    for case in cases:  # warm up (the registry's grammar is built once per registry)
        run_case(case, registry, catalog)
    timings: list[float] = []
    intent_hits = entity_total = entity_hits = 0
    misses: list[str] = []
    for case in cases:
        result, ms = run_case(case, registry, catalog)
        timings.append(ms)
        for _ in range(args.repeat - 1):
            timings.append(run_case(case, registry, catalog)[1])
        want = case["want"]
        got = intent_of(result)
        intent_ok = got == want
        intent_hits += intent_ok
        has_entities = "target" in case or "params" in case
        ok_entities = True
        if has_entities:
            entity_total += 1
            ok_entities = intent_ok and entities_ok(case, result)
            entity_hits += ok_entities
        if not (intent_ok and ok_entities):
            detail = result.requests if isinstance(result, Understood) else result
            misses.append(f"- {case['say']!r}: want {want} {case.get('params', '')}, got {got}: {detail}")
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"assistant bench ({args.set}): {len(cases)} utterances, {entity_total} with entities")
    print(f"intent accuracy   {100 * intent_hits / len(cases):5.1f} %  ({intent_hits}/{len(cases)})")
    print(f"entity accuracy   {100 * entity_hits / max(entity_total, 1):5.1f} %  ({entity_hits}/{entity_total})")
    print(f"time to understand p50 {p50:.2f} ms   p99 {p99:.2f} ms   max {timings[-1]:.2f} ms "
          f"({len(timings)} runs, offline)")
    if args.show_misses and misses:
        print("\nmisses:")
        print("\n".join(misses))


if __name__ == "__main__":
    main()
