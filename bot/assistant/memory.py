"""What a thread has been about: "it" and "that one" point at the last thing a turn resolved to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.assistant.results import ResolvedRequest, Understanding, Understood


@dataclass(frozen=True)
class Memory:
    """The last resolved operation of a thread and the things it named."""

    obj: str = ""
    act: str = ""
    kind: str | None = None
    target: str | None = None
    project: str | None = None
    table: str | None = None
    job: str | None = None
    connection: str | None = None
    #: The job list's filters ({"health": ["error"]}): which jobs "the logs" of a later turn is about.
    job_filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def remember(self, request: ResolvedRequest) -> Memory:
        parts = request.operation_name.split(".")
        obj, act = (parts[0], "") if len(parts) == 1 else (parts[0], parts[1])
        if not request.kind:  # core operations (audit, help…) leave the thread's subject as it was
            return self
        p = request.params
        project = p.get("project")
        if obj == "project" and act in ("create", "provision"):
            project = p.get("name")
        same_project = project == self.project and request.target == self.target
        return Memory(
            obj=obj, act=act, kind=request.kind, target=request.target,
            project=project if isinstance(project, str) else (self.project if obj != "project" else None),
            table=p.get("table") if isinstance(p.get("table"), str) else (self.table if same_project else None),
            job=p.get("job") or (self.job if same_project else None),
            connection=(p.get("name") if obj == "connection" else None) or (self.connection if same_project else None),
            job_filters=tuple((k, tuple(p[k])) for k in ("health", "status") if isinstance(p.get(k), list))
            if (obj, act) == ("job", "list") else (),
        )

    def after(self, result: Understanding) -> Memory:
        memory = self
        if isinstance(result, Understood):
            for request in result.requests:
                memory = memory.remember(request)
        return memory

    @classmethod
    def of(cls, history: Sequence[Understanding]) -> Memory:
        """The memory after the thread's earlier turns (oldest first)."""
        memory = cls()
        for result in history:
            memory = memory.after(result)
        return memory

    def without_subject(self) -> Memory:
        return replace(self, project=None, table=None, job=None, connection=None)
