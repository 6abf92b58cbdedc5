"""Each input rule lives once, in a params model: the typed command and the forms refuse the same input with the
same words, before any back-end call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from bot import modals
from bot import provision_modal as pm
from bot.errors import UsageError
from bot.operations import rules
from bot.operations.loader import load_operations
from bot.operations.parser import parse_command
from bot.operations.registry import Registry
from bot.settings import AppConfig, parse_config
from sandbox.backends.server import demo_config


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_operations()


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return parse_config(demo_config("http://127.0.0.1:9"), "demo.yml", {})


@pytest.fixture
def no_http(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any HTTP request at all fails the test (and is recorded)."""
    sent: list[str] = []

    async def refuse(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(str(request.url))
        raise AssertionError(f"no request expected, got {request.url}")

    monkeypatch.setattr(httpx.AsyncClient, "send", refuse)
    return sent


def typed_refusal(text: str, registry: Registry, config: AppConfig) -> str:
    with pytest.raises(UsageError) as refused:
        parse_command(text, registry, config)
    return refused.value.message


def form_refusal(kind: str, values: dict[str, Any], registry: Registry, command: str = "project.create",
                 fields: tuple[modals.Field, ...] | None = None) -> dict[str, str]:
    op = registry.get(command, kind)
    assert op is not None
    params, errors = modals.validate(op.params, kind, values, fields or modals.CREATE_FIELDS[kind])
    assert params is None
    return errors


def test_typed_create_and_the_create_form_refuse_x_with_the_same_words(
    registry: Registry, config: AppConfig, no_http: list[str]
) -> None:
    typed = typed_refusal("create terraform x", registry, config)
    form = form_refusal("terraform", {"name": "x"}, registry)
    assert typed == form["name"]
    assert typed == ("`x` is not a valid HCP Terraform project name: it is shorter than 3 characters. "
                     "Use 3 to 40 letters, digits, spaces, - or _ (no space at either end).")
    assert no_http == []


@pytest.mark.parametrize(("command", "kind", "values", "field"), [
    ("create terraform team.blue", "terraform", {"name": "team.blue"}, "name"),
    ("create terraform " + "x" * 41, "terraform", {"name": "x" * 41}, "name"),
    ("create terraform fine --auto-destroy soon", "terraform", {"name": "fine", "auto_destroy": "soon"},
     "auto_destroy"),
    ("create terraform fine --description " + "d" * 257, "terraform", {"name": "fine", "description": "d" * 257},
     "description"),
    ('create phoenix "team/a"', "phoenix", {"name": "team/a"}, "name"),
    ("create phoenix what?", "phoenix", {"name": "what?"}, "name"),
    ("create polaris web --region mars-1", "polaris", {"name": "web", "plan": "starter", "region": "mars-1"},
     "region"),
])
def test_every_create_rule_reads_the_same_typed_and_in_the_form(
    command: str, kind: str, values: dict[str, Any], field: str, registry: Registry, config: AppConfig,
    no_http: list[str],
) -> None:
    typed = typed_refusal(command, registry, config)
    form = form_refusal(kind, values, registry)
    assert set(form) == {field}
    assert form[field] == typed  # the rule's sentence, word for word
    assert no_http == []


def test_edit_form_and_typed_update_share_the_terraform_rules(registry: Registry, config: AppConfig) -> None:
    typed = typed_refusal("update terraform platform-core --name a/b", registry, config)
    form = form_refusal("terraform", {"project": "platform-core", "name": "a/b"}, registry, "project.update",
                        modals.EDIT_FIELDS["terraform"])
    assert typed == form["name"] and "it contains `/`" in typed
    assert "none" in str(parse_command("update terraform p --auto-destroy none", registry, config).params)


def test_phoenix_names_that_cannot_be_addressed_are_refused_before_any_call(
    registry: Registry, config: AppConfig, no_http: list[str]
) -> None:
    assert "cannot contain `/`" in typed_refusal('create phoenix "team/a"', registry, config)
    assert "team-a" in typed_refusal('create phoenix "team/a"', registry, config)
    for text in ("show phoenix a/b", 'update phoenix "a#b" --description x', "delete phoenix a?b"):
        assert "cannot be used to address a Phoenix project" in typed_refusal(text, registry, config)
    assert no_http == []


def test_form_limits_and_choices_come_from_the_params_models() -> None:
    from bot.operations import terraform
    from bot.operations.polaris.projects import REGIONS

    fields = {f.name: f for f in modals.CREATE_FIELDS["terraform"]}
    assert fields["name"].max_length == terraform.NAME_MAX and fields["description"].max_length == 256
    assert {f.name: f for f in modals.CREATE_FIELDS["polaris"]}["region"].choices == REGIONS
    assert modals.POLARIS_REGIONS is REGIONS  # one list of regions


def test_provision_steps_use_the_provision_params_rules() -> None:
    from bot.operations.matillion.provision import AGENT_RULE, PORT_RULE, REPOSITORY_RULE, ProvisionParams

    assert pm.check_step(3, {"environment": "dev", "agent": "nope", "access_level": "default"}, {}) == {
        "agent": AGENT_RULE}
    assert pm.check_step(2, {"endpoint": "h", "username": "u", "port": "99999"}, {"warehouse": "redshift"}) == {
        "port": PORT_RULE}
    assert pm.check_step(4, {"password": "p", "repository": "bad name"}, {"warehouse": "redshift"}) == {
        "repository": REPOSITORY_RULE}
    with pytest.raises(ValidationError) as refused:
        ProvisionParams(agent="nope", port="99999", repository="bad name")
    assert rules.problems(refused.value) == {"agent": AGENT_RULE, "port": PORT_RULE, "repository": REPOSITORY_RULE}


def test_rule_helpers() -> None:
    from pydantic import Field, field_validator

    class Sample(BaseModel):
        word: str = Field(default="", max_length=4)

        @field_validator("word")
        @classmethod
        def _word(cls, value: str) -> str:
            if "{" in value:
                raise rules.rule_error("No {braces} in a word.")
            return value

    assert rules.max_length(Sample, "word") == 4 and rules.max_length(Sample, "other") is None
    assert rules.field_problem(Sample, "word", "{x}") == "No {braces} in a word."
    assert rules.field_problem(Sample, "word", "toolong") == "String should have at most 4 characters"
    assert rules.field_problem(Sample, "word", "ok") is None


@pytest.mark.parametrize(("command", "kind", "values"), [
    ('create phoenix "<!here>"', "phoenix", {"name": "<!here>"}),
    ('create terraform "<!channel> team"', "terraform", {"name": "<!channel> team"}),
    ('create polaris "<@U0ADMIN>"', "polaris", {"name": "<@U0ADMIN>", "plan": "starter"}),
    ('create matillion "<!everyone>" snowflake', "matillion", {"name": "<!everyone>", "warehouse": "snowflake",
                                                              "deployment_type": "hybrid"}),
])
def test_names_slack_would_read_as_pings_are_refused_on_create(
    command: str, kind: str, values: dict[str, Any], registry: Registry, config: AppConfig, no_http: list[str],
) -> None:
    typed = typed_refusal(command, registry, config)
    assert typed.startswith("A name cannot contain < or >: Slack would read them as a mention or a link")
    assert form_refusal(kind, values, registry) == {"name": typed}
    assert no_http == []


@pytest.mark.parametrize("command", [
    'table create polaris clickstream "<!here>" --column page:string',
    'table create polaris clickstream pageviews --column "<!here>:string"',
    'table add-columns polaris clickstream clicks "<#C0OPS>:string"',
    'connection create polaris clickstream "<!channel>" s3 --bucket b',
    'update terraform platform-core --name "a<b"',
    'provision matillion sales snowflake --connection "<!here>" --environment dev',
])
def test_every_other_created_name_follows_the_same_rule(command: str, registry: Registry, config: AppConfig,
                                                        no_http: list[str]) -> None:
    assert "cannot contain < or >" in typed_refusal(command, registry, config)
    assert no_http == []


def test_the_slack_rule_leaves_ordinary_names_alone() -> None:
    assert rules.slack_safe_name("clickstream & co!") == "clickstream & co!"
    assert rules.slack_safe_name(["a:string", None]) == ["a:string", None]
    with pytest.raises(Exception, match="e.g. `!here`"):
        rules.slack_safe_name("<!here>")
