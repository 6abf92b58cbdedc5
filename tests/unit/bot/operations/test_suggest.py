"""The hints that name `/projects` commands are worded in the operations layer, from the data back-end errors carry."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from bot.errors import BackendError, ConflictError, NotFoundError, Reason
from bot.operations.base import Actor
from bot.operations.context import OpContext
from bot.operations.suggest import explain, suggest_project
from bot.settings import Target


class Named(SimpleNamespace):
    name: str


class FakeClient:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.calls: list[str] = []

    async def _listed(self, what: str) -> list[Named]:
        self.calls.append(what)
        return [Named(name=n) for n in self.names]

    async def list_projects(self) -> list[Named]:
        return await self._listed("projects")

    async def list_tables(self, project_id: str) -> list[Named]:
        return await self._listed(f"tables of {project_id}")

    async def list_workspaces(self) -> list[Named]:
        return await self._listed("workspaces")


class Params(BaseModel):
    project: str = ""


def context(client: FakeClient, target: str = "polaris") -> OpContext:
    async def get(_: Target) -> FakeClient:
        return client

    services: Any = SimpleNamespace(clients=SimpleNamespace(get=get))
    return OpContext(services=services, actor=Actor("U1"), target=Target(name=target, kind="polaris",
                                                                           url="http://polaris.test"))


async def test_candidates_carried_by_the_error_need_no_second_listing() -> None:
    client = FakeClient(["never read"])
    error = NotFoundError("There is no project `clikstream` on `polaris`.", resource="project", name="clikstream",
                          candidates=["clickstream", "web-analytics"])
    await suggest_project(context(client), Params(project="clikstream"), error)
    assert error.hint == "Did you mean `clickstream`? `/projects list polaris` shows the projects."
    assert client.calls == []


async def test_without_candidates_the_list_is_read_once_and_nothing_close_means_no_guess() -> None:
    client = FakeClient(["platform-core", "data-pipelines"])
    error = NotFoundError("No project named `platform-cor`.", resource="project", name="platform-cor")
    await suggest_project(context(client, "terraform"), Params(project="platform-cor"), error)
    assert error.hint == "Did you mean `platform-core`? `/projects list terraform` shows the projects."
    await suggest_project(context(client, "terraform"), Params(), error)  # explained once only
    assert client.calls == ["projects"]
    far = NotFoundError("No project named `zzzzzz`.", resource="project", name="zzzzzz")
    await suggest_project(context(client, "terraform"), Params(project="zzzzzz"), far)
    assert far.hint == "`/projects list terraform` shows the projects."


async def test_a_back_ends_own_advice_stays_between_the_guess_and_the_listing() -> None:
    client = FakeClient(["clicks", "events"])
    error = NotFoundError("Table click was not found in this project.", "Names are case-sensitive.",
                          resource="table", name="click", within="uid-1")
    await explain(context(client), Params(project="clickstream"), error)
    assert error.hint == ("Did you mean `clicks`? Names are case-sensitive. "
                          "`/projects table list polaris clickstream` shows its tables.")
    assert client.calls == ["tables of uid-1"]


async def test_gone_and_job_errors_are_not_guessed_at() -> None:
    client = FakeClient(["rag-eval"])
    gone = NotFoundError("Phoenix project `rag-evals` no longer exists.", resource="project", name="rag-evals",
                         reason=Reason.GONE)
    await explain(context(client, "phoenix"), Params(project="rag-evals"), gone)
    assert gone.hint == "`/projects list phoenix` shows what is there now."
    job = NotFoundError("Job 1234 was not found in this project.", resource="job", name="1234", within="uid-1")
    await explain(context(client), Params(project="my project"), job)
    assert job.hint == '`/projects job list polaris "my project"` shows its jobs.'
    assert client.calls == []


async def test_a_target_that_does_not_answer_points_at_the_targets_command() -> None:
    error = BackendError("Could not reach Polaris at http://x (ConnectError).",
                         "Check the target's URL and that the service is up.", reason=Reason.UNREACHABLE)
    await explain(context(FakeClient([])), Params(), error)
    assert error.hint == ("Check the target's URL and that the service is up. "
                          "`/projects targets` shows each target's URL and whether it answers.")
    conflict = ConflictError("Project p has deletion protection on.", reason=Reason.DELETION_PROTECTION, name="p")
    await explain(context(FakeClient([])), Params(), conflict)
    assert conflict.hint == ""  # worded by the operation that met it (polaris project delete)


async def test_a_failing_listing_leaves_the_error_as_it_was() -> None:
    class Broken(FakeClient):
        async def list_projects(self) -> list[Named]:
            raise BackendError("Polaris is down.")

    error = NotFoundError("Project x was not found.", resource="project", name="x")
    await explain(context(Broken([])), Params(), error)
    assert error.hint == "`/projects list polaris` shows the projects."
