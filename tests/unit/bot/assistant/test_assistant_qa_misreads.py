"""QA's misreads of the offline understanding, each pinned: free-text values, several deletions at once,
questions read as changes, names the live lists do not hold, thread follow-ups and the buttons offered."""

from __future__ import annotations

import dataclasses

import pytest
from understanding_checks import assert_parses, only, texts

from bot.assistant import CannotHelp, Catalog, Clarify, ProjectNames, Understanding, Understood
from bot.operations.registry import Registry


def commands(result: Understanding) -> list[str]:
    assert isinstance(result, Clarify), result
    return [c for _, c in result.choices]


def without_connections_and_workspaces(catalog: Catalog) -> Catalog:
    """What the live loader reads today: projects (and Polaris tables and jobs), no connections or workspaces."""
    return Catalog(tuple(dataclasses.replace(t, projects=tuple(
        dataclasses.replace(p, connections=(), workspaces=()) for p in t.projects)) for t in catalog.targets))


# ---------------------------------------------------------------- 1. free text after "description … to"
@pytest.mark.parametrize(("text", "description"), [
    ("set the description of rag-eval to nightly eval runs", "nightly eval runs"),
    ("set the description of rag-eval to <!channel> hi *there*", "@channel hi *there*"),
    ("change rag-eval's description to runs every morning at 9, then deletes old traces",
     "runs every morning at 9, then deletes old traces"),
    ("set description for rag-eval to: nightly", "nightly"),
    ("set the description of rag-eval to latency < 200ms and errors > 0", "latency < 200ms and errors > 0"),
    ("set the description of rag-eval to see <https://wiki.example/rag|the wiki>",
     "see the wiki (https://wiki.example/rag)"),
    ('set the description of rag-eval to "Nightly RAG evaluations"', "Nightly RAG evaluations"),
])
def test_free_text_after_description_is_the_value_and_picks_no_operation(ask, registry: Registry, text: str,
                                                                         description: str) -> None:
    request = only(ask(text))
    assert request.qualified_name == "phoenix.project.update", request
    assert request.params == {"project": "rag-eval", "description": description}
    assert_parses(request, registry)


# ---------------------------------------------------------------- 2. several destructive changes: one at a time
@pytest.mark.parametrize("text", [
    "delete clickstream and analytics-prod",
    "delete clickstream, then delete analytics-prod",
    "nuke sandbox-playground and ml-experiments",
    "drop the clicks table and the users table",
])
def test_several_destructive_changes_get_the_same_no_as_delete_everything(ask, text: str) -> None:
    result = ask(text)
    assert isinstance(result, CannotHelp), result
    assert "one at a time" in result.reason
    assert not any(s.startswith(("/projects delete", "/projects table drop")) for s in result.suggestions)


def test_one_deletion_and_a_read_still_resolve(ask) -> None:
    assert texts(ask("delete clickstream and show analytics-prod")) == [
        "/projects delete polaris clickstream", "/projects show polaris analytics-prod"]


# ---------------------------------------------------------------- 3. misreads
@pytest.mark.parametrize(("text", "command"), [
    ("what digests are set up", "/projects digest list"),
    ("how many digests are set up", "/projects digest list"),
    ("what did people say you misunderstood", "/projects misunderstood"),
    ("what did <@U0OPERATOR> do", "/projects audit <@U0OPERATOR>"),
    ("what did @U0OPERATOR do", "/projects audit <@U0OPERATOR>"),
    ("which jobs are stuck", "/projects job list polaris --health warn"),
    ("test the clickstream-archive connection", "/projects connection test polaris clickstream clickstream-archive"),
])
def test_questions_read_as_what_they_ask(ask, registry: Registry, text: str, command: str) -> None:
    request = only(ask(text))
    assert request.command_text == command
    assert_parses(request, registry)


def test_setting_up_a_digest_still_asks_when(ask) -> None:
    result = ask("can you set up a digest")
    assert isinstance(result, Clarify) and "When should it be posted" in result.question


@pytest.mark.parametrize("text", ["move scratch to sandbox-playground",
                                  "move workspace scratch into sandbox-playground"])
def test_a_workspace_the_live_lists_do_not_hold_is_still_moved(ask, catalog: Catalog, text: str) -> None:
    for names in (catalog, without_connections_and_workspaces(catalog)):
        assert texts(ask(text, names=names)) == ["/projects move-workspaces terraform sandbox-playground scratch"]


def test_a_connection_the_live_lists_do_not_hold_asks_its_project_likeliest_first(ask, catalog: Catalog) -> None:
    result = ask("test the clickstream-archive connection", names=without_connections_and_workspaces(catalog))
    choices = commands(result)
    assert choices[0] == "/projects connection test polaris clickstream clickstream-archive"
    assert "clickstream-archive" in result.question and "give its name" in result.question  # 6 projects, 5 buttons


# ---------------------------------------------------------------- 4. follow-ups in a thread
def test_it_after_a_projects_job_list_is_the_project(ask) -> None:
    thread = ("show clickstream", "what jobs does it have")
    assert texts(ask("how big is it", *thread)) == ["/projects show polaris clickstream"]
    assert texts(ask("and the tables?", *thread)) == ["/projects table list polaris clickstream"]


def _with_job_states(catalog: Catalog) -> Catalog:
    def states(p: ProjectNames) -> ProjectNames:
        return dataclasses.replace(p, job_states=tuple(
            (j, "running", "error" if j.startswith("0b376ddb") else "ok") for j in p.jobs))
    return Catalog(tuple(dataclasses.replace(t, projects=tuple(states(p) for p in t.projects))
                         for t in catalog.targets))


def test_the_logs_after_a_failing_job_list_are_that_jobs(ask, catalog: Catalog) -> None:
    result = ask("show me the logs", "which jobs are failing?", names=_with_job_states(catalog))
    assert texts(result) == ["/projects job logs polaris clickstream 0b376ddb"]


def test_without_job_health_the_logs_offer_the_jobs(ask) -> None:
    result = ask("show me the logs", "which jobs are failing?")
    assert len(commands(result)) == 5 and "give its id" in result.question  # type: ignore[union-attr]
    fresh = ask("show me the logs")
    assert isinstance(fresh, Clarify) and "Which job?" in fresh.question


# ---------------------------------------------------------------- 5. which project: the ones that fit, and a hint
def test_more_projects_than_buttons_says_give_its_name(ask) -> None:
    result = ask("list the tables")
    assert len(commands(result)) == 5
    assert "give its name" in result.question  # type: ignore[union-attr]


def _with_states(catalog: Catalog) -> Catalog:
    states = {"clickstream": "paused", "iot-telemetry": "stopped", "finance-archive": "paused"}
    return Catalog(tuple(dataclasses.replace(t, projects=tuple(
        dataclasses.replace(p, state=states.get(p.name, "running" if t.kind == "polaris" else "")) for p in t.projects))
        for t in catalog.targets))


def test_pause_and_resume_offer_only_the_projects_whose_state_fits(ask, catalog: Catalog) -> None:
    names = _with_states(catalog)
    paused_or_stopped = {"clickstream", "iot-telemetry", "finance-archive"}
    pause = commands(ask("pause", names=names))
    assert pause and not any(c.split()[-1] in paused_or_stopped for c in pause)
    assert "give its name" not in ask("pause", names=names).question  # type: ignore[union-attr]
    assert commands(ask("resume the paused one", names=names)) == [
        "/projects resume polaris clickstream", "/projects resume polaris finance-archive"]
    assert sorted(c.split()[-1] for c in commands(ask("resume", names=names))) == sorted(paused_or_stopped)


def test_states_unknown_offer_every_project(ask) -> None:
    result = ask("pause")
    assert isinstance(result, Clarify) and len(result.choices) == 5
    assert not isinstance(result, Understood)
