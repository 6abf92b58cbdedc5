"""The assistant on Slack's surfaces: plain words in a mention, a DM or the agent view become the same
requests a typed command makes, through the same choke point.

Reads run and answer. Anything that changes something is answered with the exact `/projects …` command it
resolved to, the live preview and Confirm / Cancel (then the usual typed name and approval). Close readings
or missing things get a question with a button per candidate; out of scope gets a clear no. Every message is
audited (`assistant.message`: the words, redacted; what they resolved to; who resolved them), and every
answer carries Good / Misunderstood feedback buttons.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from typing import Any

from bot.assistant import (
    OFFLINE,
    CannotHelp,
    Catalog,
    CatalogCache,
    Clarify,
    ProjectNames,
    ResolvedRequest,
    TargetNames,
    Understanding,
    Understood,
    understand,
)
from bot.assistant.model import ModelResolver, ModelUnavailable
from bot.assistant.tools import allowed_operations
from bot.errors import UsageError
from bot.operations.base import Actor, Risk
from bot.operations.context import Services
from bot.operations.executor import record_event
from bot.operations.feedback import FEEDBACK_EVENT, MESSAGE_EVENT, MISUNDERSTOOD
from bot.operations.parser import ParsedCommand
from bot.redact import scrub
from bot.slack import dispatch
from bot.slack.broken import broken_button
from bot.slack.runner import parse_or_usage, read_value
from bot.store.audit import AuditQuery, params_of
from bot.ui import blocks as bk
from bot.ui.blocks import Rendered
from bot.ui.ids import ASSIST_CHOICE_ACTION, ASSIST_CHOICE_BLOCK, ASSIST_FEEDBACK_ACTION, ASSIST_FEEDBACK_BLOCK
from bot.ui.mrkdwn import Mrkdwn, code, md

log = logging.getLogger("projectops.assistant")

Say = Callable[..., Awaitable[Any]]
#: What the person sees while projectops works (agent view / thread status).
THINKING = "is looking into it…"
#: Turns of a thread read back so "it" and "that one" mean what the thread was about.
HISTORY_TURNS = 10
#: Polaris projects whose tables and jobs are loaded for name resolution, per target.
CATALOG_PROJECTS = 50
CATALOG_READ_TIMEOUT = 2.0
WORDS_KEPT = 500

#: Who is asking while the catalog refills: names are read with the asker's own permissions.
_asker: contextvars.ContextVar[Actor] = contextvars.ContextVar("projectops_asker")


def thread_key(channel: str, thread_ts: str) -> str:
    return f"{channel}:{thread_ts}"


class Assistant:
    """One per app: the live-name cache and the conversation workflow."""

    def __init__(self, services: Services, model: ModelResolver | None = None) -> None:
        self.services = services
        self.model = model
        self.catalog = CatalogCache(self._load_target)

    # ------------------------------------------------------------------ live names
    async def _read(self, name: str, kind: str, target: str, params: dict[str, Any] | None = None) -> Any:
        actor = _asker.get(Actor(user_id="", surface="assistant"))
        reader = Actor(user_id=actor.user_id, team_id=actor.team_id, channel_id=actor.channel_id, surface="assistant")
        return await read_value(self.services, reader, name, kind, target, params, timeout=CATALOG_READ_TIMEOUT)

    async def _load_target(self, target: str, kind: str) -> TargetNames:
        """A target's names through READ operations (the choke point), with the asker's permissions."""
        listing = await self._read("project.list", kind, target)
        if listing is None:
            raise LookupError(f"the projects of {target} could not be read")
        projects = [p for p in getattr(listing, "projects", None) or [] if getattr(p, "name", None)]
        if kind == "terraform":
            return await self._load_terraform(target, kind, projects)
        if kind != "polaris":
            return TargetNames(target, kind, tuple(
                ProjectNames(p.name, str(getattr(p, "id", "") or "")) for p in projects))
        chosen = projects[:CATALOG_PROJECTS]
        tables, jobs, connections = await asyncio.gather(
            asyncio.gather(*(self._read("table.list", kind, target, {"project": p.name}) for p in chosen)),
            asyncio.gather(*(self._read("job.list", kind, target, {"project": p.name}) for p in chosen)),
            asyncio.gather(*(self._read("connection.list", kind, target, {"project": p.name}) for p in chosen)),
        )
        names = []
        for i, p in enumerate(projects):
            listed_tables = getattr(tables[i], "tables", None) or [] if i < len(chosen) else []
            listed_jobs = [j for j in (getattr(jobs[i], "jobs", None) or [] if i < len(chosen) else [])
                           if getattr(j, "id", None)]
            listed_connections = getattr(connections[i], "connections", None) or [] if i < len(chosen) else []
            names.append(ProjectNames(
                p.name, str(getattr(p, "uid", "") or ""),
                tables=tuple(t.name for t in listed_tables if getattr(t, "name", None)),
                jobs=tuple(j.id for j in listed_jobs),
                connections=tuple(c.name for c in listed_connections if getattr(c, "name", None)),
                state=str(getattr(p, "state", "") or ""),
                job_states=tuple((j.id, str(j.execution_status or ""), str(getattr(j.health, "status", "") or ""))
                                 for j in listed_jobs),
            ))
        return TargetNames(target, kind, tuple(names))

    async def _load_terraform(self, target: str, kind: str, projects: list[Any]) -> TargetNames:
        """Terraform projects with their workspaces' names (one listing of the organization's workspaces)."""
        listing = await self._read("project.workspaces", kind, target)
        held: dict[str, list[str]] = {}
        for w in getattr(listing, "workspaces", None) or []:
            if getattr(w, "name", None) and getattr(w, "project_id", None):
                held.setdefault(w.project_id, []).append(w.name)
        return TargetNames(target, kind, tuple(
            ProjectNames(p.name, str(getattr(p, "id", "") or ""), workspaces=tuple(held.get(getattr(p, "id", ""), ())))
            for p in projects))

    # ------------------------------------------------------------------ understanding
    async def history(self, actor: Actor, key: str) -> list[Understanding]:
        """The thread's earlier resolved turns (oldest first), read back from the audit log."""
        rows = await asyncio.to_thread(self.services.audit.query,
                                       AuditQuery(user=actor.user_id, operation=MESSAGE_EVENT, limit=200))
        turns: list[Understanding] = []
        for row in rows:
            params = params_of(row.get("params"))
            if params.get("thread") != key:
                continue
            requests = [ResolvedRequest(**r) for r in params.get("requests") or [] if isinstance(r, dict)]
            if requests:
                turns.append(Understood(requests=requests, resolver=str(params.get("resolver") or OFFLINE)))
            if len(turns) >= HISTORY_TURNS:
                break
        return list(reversed(turns))

    def _targets(self) -> dict[str, str]:
        return {t.name: t.kind for t in self.services.config.targets.values()}

    async def understand(self, actor: Actor, text: str, key: str) -> Understanding:
        """The model's reading when one is configured (it only proposes), else or on its failure the offline one."""
        history = await self.history(actor, key)
        notice = ""
        if self.model is not None:
            try:
                return await self._ask_model(actor, text, history)
            except ModelUnavailable as exc:
                notice = exc.notice
        targets = self._targets()
        token = _asker.set(actor)
        try:
            catalog = await self.catalog.get(targets)
        finally:
            _asker.reset(token)
        offline = understand(text, self.services.registry, targets, catalog, history)
        return _with_notice(offline, notice) if notice else offline

    async def _ask_model(self, actor: Actor, text: str, history: list[Understanding]) -> Understanding:
        assert self.model is not None
        services = self.services
        allowed = await allowed_operations(services.policy, actor.user_id, services.registry, services.config)
        earlier = [r.command_text for turn in history if isinstance(turn, Understood) for r in turn.requests]
        history_text = ("Earlier in this thread the person asked for: " + "; ".join(earlier[-5:])) if earlier else ""
        return await self.model.resolve(text, registry=services.registry, config=services.config,
                                        allowed_ops=allowed, history_text=history_text)

    # ------------------------------------------------------------------ answering
    async def converse(self, actor: Actor, text: str, *, channel: str, thread_ts: str, client: Any) -> None:
        """Answer one message in its thread: status while working, then the answer (with feedback buttons when
        the words had to be understood rather than parsed)."""
        await _set_status(client, channel, thread_ts, THINKING)
        key = thread_key(channel, thread_ts)
        exact = parse_or_usage(self.services, text)
        understanding: Understanding | None = None
        if isinstance(exact, ParsedCommand):  # the grammar itself, unless the thread gives the words more meaning
            plain = understand(text, self.services.registry, self._targets(), Catalog(),
                               await self.history(actor, key))
            if text.lstrip().startswith("/projects") or self._same(plain, exact):
                understanding = Understood(requests=[_resolved(exact, text)], resolver="typed")
        if understanding is None:
            understanding = await self.understand(actor, text, key)
        outbox = Outbox(self.services, client, channel, thread_ts)
        if understanding.resolver == "typed":  # not audited as a message (it runs as the command), but counted
            self.services.metrics.assistant_request("typed", "understood")
        message_id = None if understanding.resolver == "typed" else await self.record(actor, text, key, understanding)
        if isinstance(understanding, Understood):
            await self.run_understood(actor, understanding, outbox, client)
        elif isinstance(understanding, Clarify):
            await outbox.add(**_payload(clarify_message(understanding)))
        else:
            await outbox.add(**_payload(cannot_help_message(understanding)))
        await outbox.send(feedback_block(message_id) if message_id is not None else None)

    async def run_understood(self, actor: Actor, understood: Understood, outbox: Outbox, client: Any) -> None:
        """Each request as the typed command would run it: reads answer, changes ask for the button."""
        if understood.notes:
            outbox.note(bk.context(md(":mag: {}", Mrkdwn("; ").join(understood.notes[:5]))))
        for request in understood.requests:
            parsed = parse_or_usage(self.services, request.command_args)
            if isinstance(parsed, UsageError):
                await outbox.add(**_payload(bk.error_message(parsed)))
                continue
            if parsed.operation.risk is not Risk.READ:
                by = "" if understood.resolver in (OFFLINE, "typed", "choice") else f" ({understood.resolver})"
                outbox.note(bk.context(md(":speech_balloon: I read this as {}{}", code(request.command_text), by)))
            await dispatch.answer(self.services, client, actor, parsed, request.command_args, outbox.add,
                                  share=False, confirm_writes=True)

    def _same(self, understanding: Understanding, parsed: ParsedCommand) -> bool:
        """The words mean exactly what the `/projects` grammar reads in them (a command typed in a DM)."""
        if not isinstance(understanding, Understood) or len(understanding.requests) != 1:
            return False
        again = parse_or_usage(self.services, understanding.requests[0].command_args)
        return (isinstance(again, ParsedCommand) and again.operation is parsed.operation
                and again.target == parsed.target and again.params == parsed.params)

    async def record(self, actor: Actor, text: str, key: str, understanding: Understanding) -> int:
        """The audit row of one message: the words (redacted), what they resolved to, and who resolved them."""
        answer = type(understanding).__name__.lower()
        self.services.metrics.assistant_request(understanding.resolver, ANSWERS.get(answer, answer))
        params: dict[str, Any] = {"words": scrub(text)[:WORDS_KEPT], "thread": key,
                                  "resolver": understanding.resolver, "answer": answer}
        if isinstance(understanding, Understood):
            params["resolved"] = [r.command_text for r in understanding.requests]
            params["requests"] = [asdict(r) for r in understanding.requests]
        elif isinstance(understanding, Clarify):
            params["resolved"] = []
            params["question"] = understanding.question[:300]
        else:
            params["resolved"] = []
            params["reason"] = understanding.reason[:300]
        return await record_event(self.services, actor, MESSAGE_EVENT, "succeeded", params=params)

    async def choice_clicked(self, actor: Actor, value: Any, *, channel: str, thread_ts: str, client: Any) -> None:
        """A clarifying question's candidate: as if the person had typed that command."""
        text = value.removeprefix("/projects").strip() if isinstance(value, str) else ""
        parsed = parse_or_usage(self.services, text)
        outbox = Outbox(self.services, client, channel, thread_ts)
        if isinstance(parsed, UsageError):
            await outbox.add(**_payload(bk.error_message(parsed)))
        else:
            understood = Understood(requests=[_resolved(parsed, text)], resolver="choice")
            await self.record(actor, f"/projects {text}", thread_key(channel, thread_ts), understood)
            await self.run_understood(actor, understood, outbox, client)
        await outbox.send()

    async def feedback_clicked(self, actor: Actor, value: Any, respond: Say) -> None:
        verdict, _, message = (value if isinstance(value, str) else "").partition(":")
        audit_id = int(message) if re.fullmatch(r"[0-9]{1,18}", message) else None  # not "²", nor 5,000 digits
        row = await asyncio.to_thread(self.services.audit.get, audit_id) if audit_id is not None else None
        if verdict not in ("good", MISUNDERSTOOD) or row is None or row.get("operation") != MESSAGE_EVENT:
            await broken_button(self.services, actor, ASSIST_FEEDBACK_ACTION, respond,
                                "not a feedback button projectops made")
            return
        await record_event(self.services, actor, FEEDBACK_EVENT, "succeeded", surface="button",
                           params={"message": int(message), "verdict": verdict})
        thanks = ("Thanks! Noted as misunderstood; an admin reviews these with `/projects misunderstood`."
                  if verdict == MISUNDERSTOOD else "Thanks for the feedback!")
        await respond(response_type="ephemeral", replace_original=False, text=thanks)

    async def suggest_prompts(self, client: Any, user_id: str, channel: str) -> None:
        """The Messages tab opened: suggested prompts fitted to what the person may do."""
        role = await self.services.policy.role_of(user_id)
        prompts = [{"title": "Back ends", "message": "are all back ends up?"},
                   {"title": "Storage", "message": "what's eating disk in polaris?"},
                   {"title": "All projects", "message": "list all projects"}]
        if role in ("operator", "admin"):
            prompts.append({"title": "Start a change", "message": "create a phoenix project called my-app"})
        else:
            prompts.append({"title": "Who did what", "message": "who changed things today?"})
        try:
            await client.assistant_threads_setSuggestedPrompts(channel_id=channel, prompts=prompts,
                                                               title="Ask about your projects")
        except Exception as exc:  # prompts are a nicety: the tab works without them
            log.info("could not set suggested prompts: %s", exc)


class Outbox:
    """An answer's messages, posted in the thread once complete; the last one carries the feedback buttons."""

    def __init__(self, services: Services, client: Any, channel: str, thread_ts: str) -> None:
        self.services, self.client, self.channel, self.thread_ts = services, client, channel, thread_ts
        self.messages: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []

    def note(self, block: dict[str, Any]) -> None:
        """A line that leads the next message ("I read this as …")."""
        self.notes.append(block)

    async def add(self, **payload: Any) -> None:
        payload.pop("response_type", None)
        payload.pop("replace_original", None)
        if self.notes:
            payload["blocks"] = bk.fit_message([*self.notes, *(payload.get("blocks") or [])])
            self.notes = []
        self.messages.append(payload)

    async def send(self, footer: dict[str, Any] | None = None) -> None:
        if footer is not None:
            if self.messages and len(self.messages[-1].get("blocks") or []) < bk.MAX_MESSAGE_BLOCKS:
                self.messages[-1]["blocks"] = [*self.messages[-1].get("blocks", []), footer]
            else:
                self.messages.append({"text": "Was this what you meant?", "blocks": [footer]})
        for message in self.messages:
            await self.services.pacer.turn(self.channel)
            await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **message)


#: Understanding class name -> the `answer` label of projectops_assistant_requests_total
ANSWERS = {"understood": "understood", "clarify": "clarify", "cannothelp": "cannot"}


def _resolved(parsed: ParsedCommand, text: str) -> ResolvedRequest:
    op = parsed.operation
    return ResolvedRequest(op.name, op.kind, parsed.target.name if parsed.target else None,
                           parsed.params.model_dump(mode="json", exclude_defaults=True),
                           f"/projects {text.strip()}", str(op.risk))


def _with_notice(understanding: Understanding, notice: str) -> Understanding:
    """Say that the model failed and the offline understanding answered instead."""
    if isinstance(understanding, Understood):
        return replace(understanding, notes=[notice, *understanding.notes])
    if isinstance(understanding, Clarify):
        return replace(understanding, question=f"{notice} {understanding.question}")
    return replace(understanding, reason=f"{notice} {understanding.reason}")


def _payload(rendered: Rendered) -> dict[str, Any]:
    return {"text": bk.fallback(rendered.text), "blocks": bk.fit_message(rendered.blocks)}


async def _set_status(client: Any, channel: str, thread_ts: str, status: str) -> None:
    try:
        await client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
    except Exception as exc:  # a status outside an agent thread is refused; the answer still comes
        log.debug("no assistant status in %s: %s", channel, exc)


def clarify_message(clarify: Clarify) -> Rendered:
    blocks = [bk.section(md(":thinking_face: {}", clarify.question))]
    if clarify.choices:
        blocks.append(bk.actions(*(bk.button(bk.clip(label, 75), ASSIST_CHOICE_ACTION + f"_{i}", value=command)
                                   for i, (label, command) in enumerate(clarify.choices[:5])),
                                 block_id=ASSIST_CHOICE_BLOCK))
    return Rendered(text=clarify.question, blocks=blocks)


def cannot_help_message(cannot: CannotHelp) -> Rendered:
    blocks = [bk.section(md(":no_entry_sign: {}", cannot.reason))]
    if cannot.suggestions:
        blocks.append(bk.context(md("Try: {}", Mrkdwn(", ").join(code(s) for s in cannot.suggestions[:5]))))
    return Rendered(text=cannot.reason, blocks=blocks)


def feedback_block(message_id: int) -> dict[str, Any]:
    return {"type": "context_actions", "block_id": ASSIST_FEEDBACK_BLOCK, "elements": [{
        "type": "feedback_buttons", "action_id": ASSIST_FEEDBACK_ACTION,
        "positive_button": {"text": bk.plain("Good", 75), "value": f"good:{message_id}",
                            "accessibility_label": "This answer was what I meant"},
        "negative_button": {"text": bk.plain("Misunderstood", 75), "value": f"{MISUNDERSTOOD}:{message_id}",
                            "accessibility_label": "This answer misunderstood me"},
    }]}
