"""The model path against the real sandbox/llm emulator over HTTP: tools by role, re-validated tool calls,
fallback on every failure, and nothing secret in any request the model receives."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from model_emulator import faults, model_emulator_fixtures, recorded, script

from bot.assistant.model import DEFAULT_TIMEOUT, ModelResolver, ModelUnavailable
from bot.assistant.results import CannotHelp, Clarify, Understood
from bot.assistant.tools import ToolCallError, allowed_operations, build_tools, tool_name, tools_for
from bot.operations.loader import load_operations
from bot.operations.parser import parse_command
from bot.operations.registry import Registry
from bot.policy import Policy
from bot.redact import scrub
from bot.risk import Risk
from bot.settings import AppConfig, Env, parse_config
from sandbox.llm import NO_FITTING_TOOL

API_KEY = "sk-model-test-key-5f1e2d3c4b5a6978"
MODEL = "gpt-4o-mini"
TARGET_HOST = "polaris-secret-host.example.invalid"
SECRETS = {
    "POLARIS_US_KEY": "pol-us-credential-0a1b2c3d4e",
    "POLARIS_EU_KEY": "pol-eu-credential-9z8y7x6w5v",
    "PHOENIX_KEY": "phx-credential-13579bdf",
    "TFC_TOKEN": "tfc-credential-2468aceg",
    "DPC_SECRET": "dpc-credential-abcdef012345",
}
CONFIG_VALUES = ("acme-org-config-value", "https://auth.example.invalid/oauth/token", TARGET_HOST)
ADMIN, OPERATOR, VIEWER = "U0ADMIN", "U0OPERATOR", "U0VIEWER"
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


# --- fixtures ----------------------------------------------------------------------------------------


server, url = model_emulator_fixtures(API_KEY)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_operations()


@pytest.fixture(scope="module")
def config() -> AppConfig:
    data = {
        "targets": {
            "polaris-us": {"kind": "polaris", "url": f"https://{TARGET_HOST}/us",
                           "credentials": {"api_key": "${POLARIS_US_KEY}"}},
            "polaris-eu": {"kind": "polaris", "url": f"https://{TARGET_HOST}/eu",
                           "credentials": {"api_key": "${POLARIS_EU_KEY}"}},
            "phoenix": {"kind": "phoenix", "url": "https://phoenix.example.invalid",
                        "credentials": {"api_key": "${PHOENIX_KEY}"}},
            "terraform": {"kind": "terraform", "url": "https://tfc.example.invalid",
                          "credentials": {"token": "${TFC_TOKEN}"}, "options": {"organization": CONFIG_VALUES[0]}},
            "matillion": {"kind": "matillion", "url": "https://dpc.example.invalid",
                          "credentials": {"client_secret": "${DPC_SECRET}"},
                          "options": {"token_url": CONFIG_VALUES[1]}},
        },
        "roles": {"admin": [ADMIN], "operator": [OPERATOR], "viewer": [VIEWER], "default": "none"},
    }
    return parse_config(data, "test-config.yml", environ=dict(SECRETS))


@pytest.fixture
async def resolver(url: str) -> AsyncIterator[ModelResolver]:
    async with ModelResolver(f"{url}/v1", MODEL, api_key=API_KEY, timeout=2.0) as model:
        yield model


async def allowed(user: str, registry: Registry, config: AppConfig) -> dict[str, frozenset[str] | None]:
    return await allowed_operations(Policy(config), user, registry, config)


def offered(url: str) -> set[str]:
    chats = [r for r in recorded(url) if r["path"] == "/v1/chat/completions"]
    assert chats, "no request reached the model"
    return {t["function"]["name"] for t in chats[-1]["body"]["tools"]}


def call(name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    return {"tool_call": {"name": name, "arguments": arguments}}


async def ask(resolver: ModelResolver, text: str, user: str, registry: Registry, config: AppConfig,
              **kwargs: Any) -> Any:
    return await resolver.resolve(text, registry=registry, config=config,
                                  allowed_ops=await allowed(user, registry, config), **kwargs)


# --- the tools ---------------------------------------------------------------------------------------


async def test_tools_are_generated_from_the_registry(registry: Registry, config: AppConfig) -> None:
    tools = tools_for(registry, registry.all(), config)
    names = [t["function"]["name"] for t in tools]
    assert len(names) == len(set(names)) == len(registry.all())
    assert all(TOOL_NAME.match(n) for n in names)
    assert {"polaris__project__pause", "polaris__job__delete-data", "digest__add", "whoami"} <= set(names)
    toolset = build_tools(registry, registry.all(), config)
    for op in registry.all():  # every name maps back to exactly its operation
        assert toolset.entries[tool_name(op)].operation is op
    pause = next(t["function"] for t in tools if t["function"]["name"] == "polaris__project__pause")
    assert "destructive" in pause["description"] and "/projects pause polaris" in pause["description"]
    assert pause["parameters"]["properties"]["target"]["enum"] == ["polaris-eu", "polaris-us"]
    assert set(pause["parameters"]["required"]) == {"target", "project"}
    assert pause["parameters"]["properties"]["project"]["type"] == "string"
    whoami = next(t["function"] for t in tools if t["function"]["name"] == "whoami")
    assert "target" not in whoami["parameters"]["properties"]


async def test_tools_follow_per_target_policy(registry: Registry, config: AppConfig) -> None:
    toolset = build_tools(registry, {"polaris.project.pause": {"polaris-eu"}, "whoami": None}, config)
    assert set(toolset.entries) == {"polaris__project__pause", "whoami"}
    pause = toolset.entries["polaris__project__pause"]
    assert pause.targets == ("polaris-eu",)
    with pytest.raises(ToolCallError, match="invalid arguments"):
        toolset.request("polaris__project__pause", {"target": "polaris-us", "project": "clickstream"},
                        registry, config, "model:x")
    with pytest.raises(ToolCallError, match="unknown tool"):
        toolset.request("polaris__project__delete", {"target": "polaris-eu", "project": "clickstream"},
                        registry, config, "model:x")


async def test_viewer_is_offered_reads_only(resolver: ModelResolver, url: str, registry: Registry,
                                            config: AppConfig) -> None:
    script(url, {"content": "projectops lists and shows projects on four back ends."})
    await ask(resolver, "what can you do", VIEWER, registry, config)
    names = offered(url)
    ops = build_tools(registry, registry.all(), config).entries
    assert names and all(ops[n].operation.risk is Risk.READ for n in names)
    assert "polaris__project__show" in names and "polaris__job__list" in names
    assert not names & {"polaris__project__delete", "polaris__project__pause", "polaris__table__drop",
                        "polaris__project__create", "digest__add", "assistant__misunderstood"}


async def test_admin_is_offered_destructive_tools(resolver: ModelResolver, url: str, registry: Registry,
                                                  config: AppConfig) -> None:
    script(url, {"content": "Tell me which project."})
    await ask(resolver, "hello", ADMIN, registry, config)
    names = offered(url)
    assert {"polaris__project__delete", "polaris__project__pause", "polaris__table__drop",
            "terraform__project__move-workspaces", "digest__add", "assistant__misunderstood"} <= names
    assert len(names) == len(registry.all())


async def test_nobody_gets_no_model_call(resolver: ModelResolver, url: str, registry: Registry,
                                         config: AppConfig) -> None:
    with pytest.raises(ModelUnavailable):
        await ask(resolver, "list projects", "U0STRANGER", registry, config)
    assert recorded(url) == []


# --- tool calls become requests ---------------------------------------------------------------------


async def test_destructive_tool_call_becomes_a_request_to_confirm(resolver: ModelResolver, url: str,
                                                                  registry: Registry, config: AppConfig) -> None:
    script(url, call("polaris__project__pause", {"target": "polaris-us", "project": "clickstream"}))
    result = await ask(resolver, "pls pause clickstream thx", OPERATOR, registry, config)
    assert isinstance(result, Understood) and result.resolver == f"model:{MODEL}"
    [request] = result.requests
    assert (request.operation_name, request.kind, request.target) == ("project.pause", "polaris", "polaris-us")
    assert request.risk == "destructive" and request.params == {"project": "clickstream"}
    assert request.command_text == "/projects pause polaris-us clickstream"
    parsed = parse_command(request.command_args, registry, config)
    assert parsed.operation.qualified_name == "polaris.project.pause" and parsed.target is not None
    assert parsed.target.name == "polaris-us" and parsed.params.model_dump() == {"project": "clickstream"}


async def test_values_with_spaces_and_flags_round_trip(resolver: ModelResolver, url: str, registry: Registry,
                                                      config: AppConfig) -> None:
    script(url, call("phoenix__project__create", {"target": "phoenix", "name": "support bot",
                                                   "description": "Support bot's traces"}),
           call("polaris__project__update", {"target": "polaris-eu", "project": "clickstream",
                                             "deletion_protection": False, "plan": None}))
    created = await ask(resolver, "make a phoenix project", ADMIN, registry, config)
    updated = await ask(resolver, "turn off deletion protection on clickstream", ADMIN, registry, config)
    assert isinstance(created, Understood) and isinstance(updated, Understood)
    create, update = created.requests[0], updated.requests[0]
    assert create.risk == "write" and update.risk == "write"
    assert create.params == {"name": "support bot", "description": "Support bot's traces"}
    assert update.command_text == "/projects update polaris-eu clickstream --no-deletion-protection"
    for request in (create, update):
        parsed = parse_command(request.command_args, registry, config)
        assert parsed.params.model_dump(mode="json", exclude_unset=True) == request.params


async def test_one_target_of_a_kind_is_taken_when_not_named(resolver: ModelResolver, url: str, registry: Registry,
                                                             config: AppConfig) -> None:
    script(url, call("terraform__project__delete", {"project": "sandbox-playground"}))
    result = await ask(resolver, "nuke sandbox-playground", ADMIN, registry, config)
    assert isinstance(result, Understood)
    assert result.requests[0].command_text == "/projects delete terraform sandbox-playground"


async def test_two_calls_become_two_requests(resolver: ModelResolver, url: str, registry: Registry,
                                             config: AppConfig) -> None:
    script(url, {"tool_calls": [
        {"name": "polaris__project__show", "arguments": {"target": "polaris-us", "project": "clickstream"}},
        {"name": "phoenix__project__list", "arguments": {"target": "phoenix"}},
    ]})
    result = await ask(resolver, "show clickstream and list phoenix projects", VIEWER, registry, config)
    assert isinstance(result, Understood)
    assert [r.command_text for r in result.requests] == ["/projects show polaris-us clickstream",
                                                         "/projects list phoenix"]


async def test_viewer_cannot_get_a_destructive_call_through(resolver: ModelResolver, url: str, registry: Registry,
                                                            config: AppConfig) -> None:
    # The tool was not offered, so the model cannot call it (the emulator answers a text, as a real model would).
    script(url, call("polaris__project__delete", {"target": "polaris-us", "project": "clickstream"}))
    with pytest.raises(ModelUnavailable) as caught:
        await ask(resolver, "delete clickstream", VIEWER, registry, config)
    assert caught.value.answered and "polaris__project__delete" not in offered(url)


@pytest.mark.parametrize(("arguments", "reason"), [
    ({"target": "polaris-us"}, "invalid arguments"),  # the project is missing
    ({"target": "polaris-mars", "project": "clickstream"}, "invalid arguments"),  # not an offered target
    ({"target": "polaris-us", "project": "clickstream", "force": True}, "invalid arguments"),  # no such field
    ({"target": "polaris-us", "project": ""}, "invalid arguments"),
    ({"target": "polaris-us", "project": {"name": "clickstream"}}, "invalid arguments"),
    ("{\"target\": \"polaris-us\", \"project\": ", "malformed arguments"),
    ("[1, 2]", "malformed arguments"),
])
async def test_invalid_arguments_fall_back(resolver: ModelResolver, url: str, registry: Registry, config: AppConfig,
                                           arguments: Any, reason: str) -> None:
    script(url, call("polaris__project__pause", arguments))
    with pytest.raises(ModelUnavailable) as caught:
        await ask(resolver, "pause clickstream", ADMIN, registry, config)
    assert caught.value.reason == reason and caught.value.answered
    assert caught.value.notice == f"The model's answer could not be used ({reason}); I understood this offline."


async def test_too_many_calls_fall_back(resolver: ModelResolver, url: str, registry: Registry,
                                        config: AppConfig) -> None:
    calls = [{"name": "terraform__project__delete", "arguments": {"project": f"p{i}"}} for i in range(6)]
    script(url, {"tool_calls": calls})
    with pytest.raises(ModelUnavailable, match="too many requests"):
        await ask(resolver, "delete everything", ADMIN, registry, config)


# --- text answers -----------------------------------------------------------------------------------


async def test_sensible_text_is_an_answer(resolver: ModelResolver, url: str, registry: Registry,
                                          config: AppConfig) -> None:
    script(url, {"content": "projectops manages projects, not calendars. " + "x" * 600},
           {"content": "Which Polaris target do you mean, polaris-us or polaris-eu?"})
    result = await ask(resolver, "book a meeting room", VIEWER, registry, config)
    assert isinstance(result, CannotHelp) and result.resolver == f"model:{MODEL}"
    assert result.reason.startswith("projectops manages projects") and len(result.reason) <= 500
    question = await ask(resolver, "show clickstream", VIEWER, registry, config)
    assert isinstance(question, Clarify) and question.question.endswith("?") and question.choices == []


@pytest.mark.parametrize(("answer", "reason"), [
    ({"refusal": "I can't help with that."}, "refused"),
    ({"content": "Sorry, I cannot do that."}, "refused"),
    ({"content": ""}, "empty answer"),
    ({"content": "Done! I have paused clickstream for you."}, "claimed an action"),
    ({"content": "Clickstream has been deleted."}, "claimed an action"),
])
async def test_refusals_and_claims_fall_back(resolver: ModelResolver, url: str, registry: Registry,
                                             config: AppConfig, answer: dict[str, Any], reason: str) -> None:
    script(url, answer)
    with pytest.raises(ModelUnavailable) as caught:
        await ask(resolver, "pause clickstream", ADMIN, registry, config)
    assert caught.value.reason == reason


async def test_the_emulators_no_fitting_tool_is_a_refusal(resolver: ModelResolver, url: str, registry: Registry,
                                                           config: AppConfig) -> None:
    script(url, {"content": NO_FITTING_TOOL})
    with pytest.raises(ModelUnavailable, match="refused"):
        await ask(resolver, "zzz", VIEWER, registry, config)


# --- failures fall back quickly ---------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "reason"), [
    ({"status": 500, "count": 1}, "HTTP 500"),
    ({"status": 503, "count": 1}, "HTTP 503"),
    ({"status": 429, "count": 1, "retry_after": 30}, "rate limited (429)"),
    ({"malformed": True, "count": 1}, "malformed answer"),
    ({"drop": True, "count": 1}, "connection failed"),
])
async def test_model_errors_fall_back_at_once(resolver: ModelResolver, url: str, registry: Registry,
                                              config: AppConfig, fault: dict[str, Any], reason: str) -> None:
    faults(url, fault)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        await ask(resolver, "list polaris projects", VIEWER, registry, config)
    assert time.monotonic() - started < 1.5  # no retry, no Retry-After wait
    assert caught.value.reason == reason and not caught.value.answered
    assert len([r for r in recorded(url) if r["path"] == "/v1/chat/completions"]) == 1


async def test_slow_model_times_out(resolver: ModelResolver, url: str, registry: Registry, config: AppConfig) -> None:
    faults(url, {"latency_ms": 3000})
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as caught:
        await ask(resolver, "list polaris projects", VIEWER, registry, config, timeout=0.4)
    assert time.monotonic() - started < 1.5
    assert caught.value.reason == "timeout"
    assert caught.value.notice == "The model did not answer (timeout); I understood this offline."


async def test_wrong_key_falls_back(url: str, registry: Registry, config: AppConfig) -> None:
    async with ModelResolver(f"{url}/v1", MODEL, api_key="sk-wrong-key-000000000000") as model:
        with pytest.raises(ModelUnavailable) as caught:
            await ask(model, "list projects", VIEWER, registry, config)
    assert caught.value.reason == "not authorized (401)" and "sk-wrong" not in caught.value.detail


async def test_unreachable_model_falls_back(registry: Registry, config: AppConfig) -> None:
    async with ModelResolver("http://127.0.0.1:9/v1", MODEL) as model:
        with pytest.raises(ModelUnavailable, match="connection failed"):
            await ask(model, "list projects", VIEWER, registry, config)


# --- nothing secret is sent -------------------------------------------------------------------------


async def test_no_secret_credential_or_config_value_reaches_the_model(resolver: ModelResolver, url: str,
                                                                      registry: Registry, config: AppConfig) -> None:
    script(url, call("polaris__project__pause", {"target": "polaris-us", "project": "clickstream"}),
           {"content": "projectops runs projects."})
    await ask(resolver, "pause clickstream", ADMIN, registry, config)
    await ask(resolver, f"what is {SECRETS['TFC_TOKEN']} for? token xoxb-1234567890-abcdef", ADMIN, registry, config,
              history_text=f"earlier: the key is {API_KEY}")
    faults(url, {"status": 500, "count": 1})
    with pytest.raises(ModelUnavailable):
        await ask(resolver, "list projects", VIEWER, registry, config)
    requests = recorded(url)
    assert len(requests) == 3
    wire = json.dumps(requests)
    for secret in (API_KEY, *SECRETS.values(), *CONFIG_VALUES, "xoxb-1234567890"):
        assert secret not in wire, secret
    for request in requests:
        assert "authorization" not in {k.lower() for k in request["headers"]}
        assert request["body"]["tool_choice"] == "auto" and request["body"]["model"] == MODEL
    system = requests[0]["body"]["messages"][0]
    assert system["role"] == "system" and "only propose" in system["content"].lower()
    assert "never claim" in system["content"].lower() and "polaris-us: polaris" in system["content"]


async def test_api_key_is_registered_and_never_in_repr(url: str) -> None:
    key = "sk-registered-only-here-7777"
    model = ModelResolver(f"{url}/v1", MODEL, api_key=key)
    try:
        assert scrub(f"key={key}") == "key=***"
        assert key not in repr(model) and model.name == f"model:{MODEL}"
    finally:
        await model.aclose()


# --- settings ---------------------------------------------------------------------------------------


def test_from_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name in ("PROJECTOPS_LLM_BASE_URL", "PROJECTOPS_LLM_MODEL", "PROJECTOPS_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert ModelResolver.from_env() is None
    monkeypatch.setenv("PROJECTOPS_LLM_BASE_URL", f"{url}/v1")
    assert ModelResolver.from_env() is None  # a model name is needed too
    monkeypatch.setenv("PROJECTOPS_LLM_MODEL", "llama3.1")
    monkeypatch.setenv("PROJECTOPS_LLM_API_KEY", "sk-from-env-key-31415")
    env = Env()
    assert env.projectops_llm_api_key is not None and "sk-from-env" not in repr(env)
    model = ModelResolver.from_env(env)
    assert model is not None and model.name == "model:llama3.1" and model.timeout == DEFAULT_TIMEOUT
    assert scrub("sk-from-env-key-31415") == "***"
