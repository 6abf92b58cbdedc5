"""Plain words → the same requests the typed commands make (offline understanding, no Slack, no back ends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from understanding_checks import assert_parses, only, texts

from bench.assistant import TARGETS
from bot.assistant import CannotHelp, Catalog, Clarify, ProjectNames, Understood
from bot.assistant.commands import config_for
from bot.operations.parser import parse_command
from bot.operations.registry import Registry


# ---------------------------------------------------------------- the issue's own examples
@pytest.mark.parametrize(("text", "command"), [
    ("is clickstream running?", "/projects show polaris clickstream"),
    ("how many phoenix projects are there", "/projects list phoenix"),
    ("which terraform project has the most workspaces", "/projects list terraform"),
    ("what's eating disk in polaris", "/projects list polaris"),
    ("how full is clickstream", "/projects show polaris clickstream"),
    ("nuke sandbox-playground", "/projects delete terraform sandbox-playground"),
    ("get rid of rag-eval", "/projects delete phoenix rag-eval"),
    ("shut down clickstream", "/projects stop polaris clickstream"),
    ("pls pause clickstream thx", "/projects pause polaris clickstream"),
    ("lsit projcts", "/projects list"),
    ("list TFC projects", "/projects list terraform"),
    ("projects on HCP", "/projects list terraform"),
    ("imply projects", "/projects list polaris"),
    ("arize projects", "/projects list phoenix"),
    ("show CLICKSTREAM", "/projects show polaris clickstream"),
    ('show "rag-eval"', "/projects show phoenix rag-eval"),
    ("who deleted stuff yesterday?", "/projects audit since 2026-11-15 until 2026-11-16"),
    ("what did I do today", "/projects audit me since 2026-11-16"),
    ("send a storage report here every morning at 9", "/projects digest add storage daily 09:00"),
    ("job-health digest to #ops every weekday at 8:30", "/projects digest add job-health #ops weekdays 08:30"),
    ("which jobs are failing in clickstream?", "/projects job list polaris clickstream --health error"),
    ("logs of 0b376ddb", "/projects job logs polaris clickstream 0b376ddb"),
])
def test_issue_examples(ask, registry: Registry, text: str, command: str) -> None:
    request = only(ask(text))
    assert request.command_text == command
    assert_parses(request, registry)


def test_a_name_finds_its_target_without_naming_it(ask) -> None:
    request = only(ask("pause clickstream"))
    assert (request.operation_name, request.kind, request.target) == ("project.pause", "polaris", "polaris")
    assert request.params == {"project": "clickstream"}
    assert request.qualified_name == "polaris.project.pause"
    assert request.risk == "destructive"


def test_typos_in_words_and_names_are_read_and_noted(ask) -> None:
    result = ask("shwo clikstream")
    assert texts(result) == ["/projects show polaris clickstream"]
    assert isinstance(result, Understood)
    assert any("clikstream" in note for note in result.notes)


def test_job_short_ids_find_their_project(ask, registry: Registry) -> None:
    request = only(ask("cancel job 26dce515"))
    assert request.command_text == "/projects job cancel polaris clickstream 26dce515"
    assert_parses(request, registry)
    full = only(ask("show job 0b376ddb-f87f-570b-a20a-6423dfadca0a"))
    assert full.params["job"] == "0b376ddb-f87f-570b-a20a-6423dfadca0a"


def test_tables_and_connections_find_their_project(ask) -> None:
    assert texts(ask("drop bot_traffic")) == ["/projects table drop polaris clickstream bot_traffic"]
    assert texts(ask("test the iot-kinesis connection")) == [
        "/projects connection test polaris iot-telemetry iot-kinesis"]
    assert texts(ask("delete all data in bot_traffic")) == [
        "/projects job delete-data polaris clickstream bot_traffic --all"]


def test_values_in_words(ask) -> None:
    assert texts(ask("turn off deletion protection for analytics-prod")) == [
        "/projects update polaris analytics-prod --no-deletion-protection"]
    assert texts(ask("create a polaris project called web-2 in eu-west-1 on plan a.01")) == [
        "/projects create polaris web-2 --plan a.01 --region eu-west-1"]
    assert texts(ask('set the description of rag-eval to "Nightly evals"')) == [
        '/projects update phoenix rag-eval --description "Nightly evals"']
    assert texts(ask("rename ml-experiments to ml-lab")) == ["/projects update terraform ml-experiments --name ml-lab"]


def test_two_asks_in_one_message(ask) -> None:
    assert texts(ask("list polaris and phoenix projects")) == ["/projects list polaris", "/projects list phoenix"]
    assert texts(ask("pause clickstream and then show me its tables")) == [
        "/projects pause polaris clickstream", "/projects table list polaris clickstream"]
    assert texts(ask("who am i, then list terraform projects")) == ["/projects whoami", "/projects list terraform"]


def test_one_ask_needing_a_question_keeps_the_others(ask) -> None:
    result = ask("list phoenix projects and then pause it")
    assert isinstance(result, Clarify)
    assert "`/projects list phoenix`" in result.question
    refused = ask("tell me a joke and list projects")
    assert isinstance(refused, CannotHelp)
    assert refused.suggestions[0] == "/projects list"
    assert len(refused.suggestions) == len(set(refused.suggestions))


def test_follow_ups_use_the_threads_last_subject(ask) -> None:
    assert texts(ask("pause it", "how full is clickstream?")) == ["/projects pause polaris clickstream"]
    assert texts(ask("delete that one", "show rag-eval")) == ["/projects delete phoenix rag-eval"]
    assert texts(ask("what about analytics-prod?", "list tables in clickstream")) == [
        "/projects table list polaris analytics-prod"]
    assert texts(ask("show me its logs", "show job 0b376ddb")) == [
        "/projects job logs polaris clickstream 0b376ddb"]


def test_it_with_no_thread_asks(ask) -> None:
    result = ask("pause it")
    assert isinstance(result, Clarify)
    assert ("clickstream (Polaris)", "/projects pause polaris clickstream") in result.choices


# ---------------------------------------------------------------- asking instead of guessing
def test_two_close_readings_ask_with_a_button_each(ask, registry: Registry) -> None:
    result = ask("show analytics")
    assert isinstance(result, Clarify)
    assert [c for _, c in result.choices] == ["/projects show polaris analytics-prod",
                                              "/projects show matillion analytics-dwh"]
    for _, command in result.choices:
        parse_command(command.removeprefix("/projects "), registry, config_for(TARGETS))


def test_a_part_of_a_name_is_confirmed_before_a_change(ask) -> None:
    result = ask("pause sandbox")
    assert isinstance(result, Clarify)
    assert result.choices == [("marketing-sandbox (Polaris)", "/projects pause polaris marketing-sandbox")]


def test_a_missing_project_is_asked_for(ask) -> None:
    result = ask("list the tables")
    assert isinstance(result, Clarify)
    assert ("clickstream (Polaris)", "/projects table list polaris clickstream") in result.choices
    missing_name = ask("create a phoenix project")
    assert isinstance(missing_name, Clarify)
    assert "needs `name`" in missing_name.question


def test_failing_jobs_with_no_project_are_read_across_every_project(ask) -> None:
    assert texts(ask("which jobs are failing?")) == ["/projects job list polaris --health error"]
    assert texts(ask("which jobs are failing in clickstream?")) == [
        "/projects job list polaris clickstream --health error"]


def test_a_new_name_with_no_back_end_asks_where(ask) -> None:
    result = ask("create a project called scratchpad")
    assert isinstance(result, Clarify)
    assert [c for _, c in result.choices] == ["/projects create polaris scratchpad",
                                              "/projects create phoenix scratchpad",
                                              "/projects create terraform scratchpad"]


def test_choices_parse_for_every_clarification(ask, registry: Registry) -> None:
    for text in ("delete a project", "drop a table in clickstream", "list tables", "pause", "show support",
                 "delete analytics", "metrics for a job in clickstream"):
        result = ask(text)
        assert isinstance(result, Clarify), (text, result)
        for _, command in result.choices:
            parsed = parse_command(command.removeprefix("/projects "), registry, config_for(TARGETS))
            assert parsed.operation is not None


# ---------------------------------------------------------------- refusing and narrowing
@pytest.mark.parametrize("text", ["delete everything", "stop all polaris projects", "drop every table in clickstream",
                                  "cancel all jobs", "nuke every terraform project",
                                  "move all workspaces to platform-core"])
def test_bulk_changes_are_refused(ask, text: str) -> None:
    result = ask(text)
    assert isinstance(result, CannotHelp), result
    assert "one at a time" in result.reason


def test_bulk_reads_are_fine(ask) -> None:
    assert texts(ask("list all projects")) == ["/projects list"]


def test_the_default_phoenix_project_is_explained_without_a_button(ask) -> None:
    result = ask("delete the default Phoenix project")
    assert isinstance(result, CannotHelp)
    assert "never be deleted" in result.reason
    assert result.suggestions == []


@pytest.mark.parametrize("text", ["what's the weather like", "tell me a joke", "create a github repo",
                                  "restart the kubernetes cluster", "order pizza"])
def test_out_of_scope(ask, text: str) -> None:
    result = ask(text)
    assert isinstance(result, CannotHelp), result
    assert "/projects help" in result.suggestions


def test_secrets_are_never_asked_for_or_shown(ask) -> None:
    result = ask("show me the polaris api key")
    assert isinstance(result, CannotHelp)
    assert "secrets" in result.reason


def test_an_operation_on_the_wrong_back_end_says_what_works(ask) -> None:
    result = ask("pause rag-eval")
    assert isinstance(result, CannotHelp)
    assert "Phoenix" in result.reason
    assert "/projects show phoenix rag-eval" in result.suggestions


# ---------------------------------------------------------------- the registry is the source of intents
def test_exact_commands_pass_through(ask) -> None:
    assert texts(ask("/projects job list polaris clickstream --health error")) == [
        "/projects job list polaris clickstream --health error"]


def test_unknown_names_are_tried_like_a_typed_command(ask) -> None:
    assert texts(ask("pause web-2")) == ["/projects pause polaris web-2"]
    result = ask("delete old-sandbox")
    assert isinstance(result, Clarify)
    assert "don't see `old-sandbox`" in result.question


def test_a_new_operation_in_the_registry_is_understood(ask, registry: Registry) -> None:
    from pydantic import BaseModel, ConfigDict

    from bot.operations.base import Operation, Rendered, Risk

    class SnapshotParams(BaseModel):
        model_config = ConfigDict(extra="forbid")
        project: str

    async def run(ctx: Any, params: Any) -> None:
        return None

    registry.register(Operation(name="project.snapshot", summary="snapshot a Polaris project", params=SnapshotParams,
                                risk=Risk.WRITE, run=run, render=lambda v, c: Rendered(text=""), kind="polaris"))
    request = only(ask("snapshot clickstream"))
    assert request.command_text == "/projects snapshot polaris clickstream"
    assert_parses(request, registry)


def test_several_targets_of_a_kind(ask, registry: Registry) -> None:
    targets = {"polaris-us": "polaris", "polaris-eu": "polaris", "phoenix": "phoenix"}
    names = Catalog.build({"polaris-us": ("polaris", [ProjectNames("clickstream"), ProjectNames("billing")]),
                           "polaris-eu": ("polaris", [ProjectNames("clickstream"), ProjectNames("gdpr-logs")]),
                           "phoenix": ("phoenix", [ProjectNames("rag-eval")])})
    result = ask("pause clickstream", targets=targets, names=names)
    assert isinstance(result, Clarify)
    assert [c for _, c in result.choices] == ["/projects pause polaris-us clickstream",
                                              "/projects pause polaris-eu clickstream"]
    request = only(ask("pause gdpr-logs", targets=targets, names=names))
    assert request.target == "polaris-eu"
    assert_parses(request, registry, targets)
    assert texts(ask("pause clickstream on polaris-eu", targets=targets, names=names)) == [
        "/projects pause polaris-eu clickstream"]
    assert texts(ask("list polaris projects", targets=targets, names=names)) == [
        "/projects list polaris-us", "/projects list polaris-eu"]


def test_a_back_end_that_did_not_answer_still_understands_typed_names(ask) -> None:
    targets = {"polaris": "polaris", "phoenix": "phoenix"}
    names = Catalog(Catalog.build({"phoenix": ("phoenix", [ProjectNames("rag-eval")])}).targets,
                    unavailable=frozenset({"polaris"}))
    result = ask("show clickstream-v2", targets=targets, names=names)
    assert isinstance(result, Clarify)
    assert [c for _, c in result.choices] == ["/projects show polaris clickstream-v2",
                                              "/projects show phoenix clickstream-v2"]
    assert texts(ask("pause clickstream-v2", targets=targets, names=names)) == [
        "/projects pause polaris clickstream-v2"]


def test_times_in_the_persons_zone(ask) -> None:
    request = only(ask("who deleted stuff yesterday", tz="Europe/Paris"))
    assert request.command_text == "/projects audit since 2026-11-15T00:00+01:00 until 2026-11-16T00:00+01:00"
    since = datetime.fromisoformat(request.params["since"].replace("Z", "+00:00"))
    assert since == datetime.fromisoformat("2026-11-15T00:00:00+01:00")  # the same instant, in any notation
