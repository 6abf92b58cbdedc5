"""A Frame → requests of the registry's operations, a question with buttons, or a reasoned no.

The order of decisions: refuse what is never done here (secrets, roles, bulk changes, the default
projects that cannot be deleted); pick the family (help, whoami, targets, audit, digest,
provisioning, or a project/table/job/connection/workspace operation); pick the object and the act
(registry names, after the per-object synonyms below); find the thing it is about in the live
names (or the thread's memory for "it"); fill the params model's fields from what was said; and
prove the command with the parser. Whenever two readings are close or a required thing is missing,
ask with a button per candidate instead of guessing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.assistant.catalog import Catalog
from bot.assistant.commands import check, command_text
from bot.assistant.frame import Frame, Hit, Mention
from bot.assistant.grammar import Grammar, Shape
from bot.assistant.memory import Memory
from bot.assistant.results import CannotHelp, Clarify, ResolvedRequest
from bot.assistant.vocabulary import (
    DIGEST_KIND_WORDS,
    GENERAL_SUGGESTIONS,
    HEALTH_WORDS,
    JOB_TROUBLE,
    KIND_LABELS,
    OUTCOME_WORDS,
    PROJECT_STATES,
)
from bot.errors import UsageError
from bot.operations.base import Risk
from bot.operations.registry import Registry

ENTITY_OBJS = ("project", "table", "job", "connection", "workspace")
#: The registry objects the families below know; others are reached by their command word (`other`).
KNOWN_OBJS = frozenset({"project", "table", "job", "connection", "provision", "digest", "audit", "help", "whoami",
                        "targets"})
GENERIC_ACTS = ("show", "list", "check")
#: Buttons a question carries (Slack shows five in a row); with more candidates it says "…or give its name".
MAX_CHOICES = 5
MAX_REQUESTS = 5

#: How each object's operations are asked for: canonical act → the registry's act for that object.
ACTS_BY_OBJ: dict[str, dict[str, str]] = {
    "project": {"list": "list", "show": "show", "check": "show", "create": "create", "add": "create",
                "delete": "delete", "remove": "delete", "drop": "delete", "pause": "pause", "stop": "stop",
                "resume": "resume", "update": "update", "rename": "update", "protect": "update",
                "provision": "provision", "test": "show", "edit": "edit"},
    "table": {"list": "list", "show": "show", "check": "show", "create": "create", "add": "create",
              "drop": "drop", "delete": "drop", "remove": "drop", "purge": "delete-data"},
    "job": {"list": "list", "show": "show", "check": "show", "create": "create", "run": "create",
            "resume": "create", "add": "create", "cancel": "cancel", "stop": "cancel", "delete": "cancel",
            "remove": "cancel", "pause": "cancel", "reset": "reset", "logs": "logs", "metrics": "metrics",
            "purge": "delete-data"},
    "connection": {"list": "list", "show": "show", "create": "create", "add": "create", "delete": "delete",
                   "remove": "delete", "drop": "delete", "test": "test", "check": "test"},
    "workspace": {"list": "workspaces", "show": "workspaces", "check": "workspaces", "move": "move-workspaces"},
}

#: Projects a back end never deletes (the API refuses): explained, with no button.
UNDELETABLE = {("phoenix", "default"): "Phoenix's `default` project can never be deleted: Phoenix keeps it for "
                                       "traces sent without a project name.",
               ("terraform", "default project"): "HCP Terraform's `Default Project` can never be deleted: every "
                                                 "organization keeps it for workspaces created without a project."}
#: Words that happen to be allowed values somewhere but, said in passing, mean nothing of the kind.
_NOT_LITERALS = frozenset({"name", "all", "now", "ok", "unknown"})
WRITE_ACTS = {"delete", "remove", "drop", "pause", "stop", "cancel", "reset", "purge", "move", "update", "rename",
              "resume", "create", "add", "protect", "run"}


#: A button: its label, and the operation, target and field values its command is built from.
Option = tuple[str, "Shape", str | None, dict[str, Any]]
#: A request to build: operation, target, field values.
Plan = tuple["Shape", str | None, dict[str, Any]]


@dataclass
class Anchor:
    """What an operation is about: a target and, when it has one, a project and a thing in it."""

    target: str
    kind: str
    project: str | None = None
    thing: str | None = None
    loose: bool = False  # read from a part of a name ("sandbox"), not the name itself
    unknown: bool = False  # a name-shaped word the live lists do not hold


@dataclass
class Outcome:
    requests: list[ResolvedRequest] = field(default_factory=list)
    answer: Clarify | CannotHelp | None = None


def _plural(word: str) -> str:
    return word if word.endswith("s") else word + "s"


class Resolver:
    def __init__(self, grammar: Grammar, registry: Registry, catalog: Catalog, targets: Mapping[str, str],
                 memory: Memory, now: datetime) -> None:
        self.grammar = grammar
        self.registry = registry
        self.catalog = catalog
        self.targets = dict(targets)
        self.memory = memory
        self.now = now

    # ------------------------------------------------------------ helpers
    def targets_of(self, kind: str) -> list[str]:
        return [t for t, k in self.targets.items() if k == kind]

    def build(self, shape: Shape, target: str | None, values: Mapping[str, Any]) -> ResolvedRequest | UsageError:
        return check(shape, target, command_text(shape, target, values), self.registry, self.targets)

    def choices(self, options: Sequence[Option]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for label, shape, target, values in options:
            built = self.build(shape, target, values)
            if isinstance(built, ResolvedRequest) and all(text != built.command_text for _, text in out):
                out.append((label, built.command_text))
            if len(out) >= MAX_CHOICES:
                break
        return out

    def label(self, kind: str | None, target: str | None = None) -> str:
        name = KIND_LABELS.get(kind or "", kind or "")
        if target and len(self.targets_of(kind or "")) > 1:
            return target  # several targets of the kind: the target's own name tells them apart
        return name

    def cannot_general(self) -> CannotHelp:
        return CannotHelp(
            "That is outside what I do. I look after projects on Polaris, Phoenix, HCP Terraform and Matillion "
            "(list, show, create, change, pause, delete), Polaris tables, jobs and connections, Terraform "
            "workspaces, scheduled digests and the audit log.",
            GENERAL_SUGGESTIONS)

    # ------------------------------------------------------------ entry
    def resolve(self, f: Frame) -> Outcome:
        if "secret" in f.flags:
            return Outcome(answer=CannotHelp(
                "I never show, take or pass on secrets (API keys, passwords, tokens, private keys). Credentials "
                "live in the projectops config as environment references; Matillion secrets are typed only in "
                "the Provision form.", ["/projects targets"]))
        if "role" in f.objs and "whoami" not in f.words and not f.has("help") and (
                f.acts or f.has("give", "grant", "promote", "make")):
            return Outcome(answer=CannotHelp(
                "I can't change roles: they come from the projectops config, which an admin edits.",
                ["/projects whoami"]))
        family = self.family(f)
        if family == "help":
            return self.help(f)
        if family == "whoami":
            return self.single("whoami", "")
        if family == "targets":
            return self.single("targets", "")
        if family == "audit":
            return self.audit(f)
        if family == "digest":
            return self.digest(f)
        if family == "provision":
            return self.provision(f)
        if family == "other":
            return self.other(f)
        return self.entity(f)

    def single(self, obj: str, act: str, values: dict[str, Any] | None = None) -> Outcome:
        shapes = self.grammar.find(obj, act)
        if not shapes:
            return Outcome(answer=self.cannot_general())
        built = self.build(shapes[0], None, values or {})
        if isinstance(built, UsageError):
            return Outcome(answer=Clarify(f"{built.message} {built.hint}".strip()))
        return Outcome([built])

    def family(self, f: Frame) -> str:
        objs = f.primary_objs()
        if "whoami" in f.words:
            return "whoami"
        if "help" in f.acts and not f.mentions and not f.jobs and len(set(f.acts)) == 1:
            return "help"
        if self._others(f):
            return "other"  # a command of its own, named by its word ("misunderstood"), whatever the tense
        if (f.schedule and not f.has("description")) or "digest" in objs:
            return "digest"
        if "audit" in objs and "job" not in objs[:1] or "happened" in f.flags and not f.jobs:
            return "audit"
        if f.past and (f.words[:1] in (["who"], ["what"]) or "me" in f.flags or f.users):
            return "audit"
        if f.period and not [o for o in objs if o in ENTITY_OBJS] and not f.mentions and not f.jobs:
            return "audit"
        if f.users and not f.mentions:
            return "audit"
        if "target" in objs or ("up" in f.flags and (f.kinds or f.targets) and not f.mentions and not f.acts):
            return "target" + "s"
        if "provisioning" in objs or "provision" in f.acts or ("whole" in f.flags and "matillion" in f.every_kind):
            return "provision"
        return "entity"

    def _others(self, f: Frame) -> list[Shape]:
        """Operations outside the families above (added later to the registry), named by their command."""
        said = set(f.words) | set(f.acts)
        return [s for s in self.grammar.shapes if s.obj not in KNOWN_OBJS and not s.kind
                and all(w in said for w in s.op.command.split())]

    def other(self, f: Frame) -> Outcome:
        shape = self._others(f)[0]
        values: dict[str, Any] = {n: True for n in shape.bools if n in f.words or n in f.acts}
        for candidate in (values, {}):
            built = self.build(shape, None, candidate)
            if isinstance(built, ResolvedRequest):
                return Outcome([built])
        return self.single(shape.obj, shape.act)

    # ------------------------------------------------------------ core families
    def help(self, f: Frame) -> Outcome:
        command = ""
        for w in f.words:
            if w != "help" and (w in self.grammar.commands or w in self.grammar.command_words):
                command = w
                break
        return self.single("help", "", {"command": command} if command else {})

    def audit(self, f: Frame) -> Outcome:
        values: dict[str, Any] = {}
        if f.users:
            values["user"] = f.users[0]
        elif "me" in f.flags or any(f.words[i:i + 2] in (["for", "me"], ["by", "me"]) for i in range(len(f.words))):
            values["user"] = "me"
        if f.targets:
            values["target"] = f.targets[0]
        elif f.kinds and not f.mentions and len(self.targets_of(f.kinds[0])) == 1:
            values["target"] = self.targets_of(f.kinds[0])[0]
        act = next((a for a in f.past if a), "")
        if act:
            kinds = {h.entry.kind for m in f.mentions for h in m.best("project")} or set(f.every_kind)
            if len(kinds) == 1:
                kind = kinds.pop()
                obj = "table" if act == "drop" else "project"
                shapes = self.grammar.find(obj, ACTS_BY_OBJ[obj].get(act, act), kind)
                if shapes:
                    values["operation"] = shapes[0].qualified
                    values.pop("target", None)
        outcome = next((OUTCOME_WORDS[w] for w in f.words if w in OUTCOME_WORDS), None)
        if outcome:
            values["outcome"] = outcome
        if f.period:
            if f.period.since:
                values["since"] = f.period.since
            if f.period.until:
                values["until"] = f.period.until
        if "last" in f.values and "export" not in f.acts:
            values["last"] = min(int(f.values["last"]), 50)
        return self.single("audit", "export" if "export" in f.acts else "", values)

    def digest(self, f: Frame) -> Outcome:
        number = next((n for _, n in f.numbers), None)
        acts = set(f.acts)
        if f.schedule and not (acts & {"remove", "delete", "stop", "cancel"}):
            return self.digest_add(f)
        if number is not None and (acts & {"remove", "delete", "stop", "cancel"}):
            return self.single("digest", "remove", {"id": number})
        if number is not None and ("now" in f.flags or acts & {"run", "send"}):
            return self.single("digest", "now", {"id": number})
        if acts & {"remove", "delete", "stop", "cancel"}:
            return Outcome(answer=Clarify("Which digest? Its number is in the digest list.",
                                          self.choices([("List the digests", self.grammar.find("digest", "list")[0],
                                                         None, {})])))
        asks_what_exists = f.words[:1] in (["what"], ["which"], ["any"], ["are"], ["is"], ["_count"])
        if acts & {"send", "create", "add"} and "now" not in f.flags and not asks_what_exists:
            return Outcome(answer=Clarify(
                "When should it be posted? Say for example \"every weekday at 8:30\" or \"daily at 9\".",
                []))
        return self.single("digest", "list", {})

    def digest_add(self, f: Frame) -> Outcome:
        kinds = {DIGEST_KIND_WORDS[w] for w in f.words if w in DIGEST_KIND_WORDS}
        if "all" in kinds or {"storage", "job-health"} <= kinds:
            kind = "all"
        elif kinds:
            kind = kinds.pop()
        else:
            kind = "all"
        values: dict[str, Any] = {"kind": kind, "schedule": f.schedule}
        if f.channel:
            values["channel"] = f.channel
        targets = list(f.targets)
        for k in f.kinds:
            targets += [t for t in self.targets_of(k) if t not in targets]
        if targets:
            values["targets"] = targets
        if f.values.get("tz"):
            values["tz"] = f.values["tz"]
        if f.values.get("threshold"):
            values["threshold"] = f.values["threshold"]
        return self.single("digest", "add", values)

    def provision(self, f: Frame) -> Outcome:
        wants_status = ("provisioning" in f.objs and not (set(f.acts) & {"create", "provision", "add"})) or \
            "provision_id" in f.values
        if wants_status:
            shapes = self.grammar.find("provision", "status")
            if not shapes:
                return Outcome(answer=self.cannot_general())
            status = {"id": f.values["provision_id"]} if "provision_id" in f.values else {}
            return self.on_targets(shapes, f, status)
        shapes = self.grammar.find("project", "provision")
        values: dict[str, Any] = {}
        if f.values.get("new_name"):
            values["name"] = f.values["new_name"]
        if f.values.get("warehouse"):
            values["warehouse"] = f.values["warehouse"]
        return self.on_targets(shapes, f, values)

    # ------------------------------------------------------------ targets without a project
    def on_targets(self, shapes: list[Shape], f: Frame, values: dict[str, Any]) -> Outcome:
        """Run `shapes` (one per kind) on the targets the words name, or the only one that fits."""
        kinds = {s.kind for s in shapes if s.kind}
        untargeted = [s for s in shapes if not s.kind]
        named = list(dict.fromkeys(f.targets + [t for k in f.kinds for t in self.targets_of(k)]))
        if named:
            pool = [t for t in named if self.targets[t] in kinds]
            if not pool:
                what = shapes[0].op.command
                label = ", ".join(self.label(k) for k in sorted(kinds))
                return Outcome(answer=CannotHelp(f"`{what}` works on {label} only.",
                                                 [command_text(s, self.targets_of(s.kind)[0], {}) for s in shapes
                                                  if s.kind and self.targets_of(s.kind)][:3]))
        elif untargeted:
            return self.finish([(untargeted[0], None, values)])
        else:
            pool = [t for t, k in self.targets.items() if k in kinds]
        if not pool:
            return Outcome(answer=CannotHelp("No target of that kind is configured.", ["/projects targets"]))
        if len(pool) > 1 and not named:
            options = [(f"{t} ({self.label(self.targets[t])})", self.shape_for(shapes, self.targets[t]), t, values)
                       for t in pool]
            return self.ask_or_fail(f"Which back end? `{shapes[0].op.command}` can run on "
                                    + ", ".join(f"`{t}`" for t in pool) + ".", options, shapes[0], values)
        return self.finish([(self.shape_for(shapes, self.targets[t]), t, values) for t in pool[:MAX_REQUESTS]])

    @staticmethod
    def shape_for(shapes: list[Shape], kind: str) -> Shape:
        return next(s for s in shapes if s.kind == kind)

    def ask_or_fail(self, question: str, options: Sequence[Option],
                    shape: Shape, values: dict[str, Any], more: str = "or give its name") -> Outcome:
        choices = self.choices(options)
        if choices:
            if len({(o[2], str(sorted(o[3].items()))) for o in options}) > len(choices):
                question = f"{question.rstrip('?')}? The first {len(choices)} are below, {more}."
            return Outcome(answer=Clarify(question, choices))
        built = self.build(options[0][1], options[0][2], values) if options else None
        if isinstance(built, UsageError):
            return Outcome(answer=Clarify(self.usage_question(built)))
        return Outcome(answer=Clarify(question))

    @staticmethod
    def usage_question(error: UsageError) -> str:
        text = f"{error.message} {error.hint}".strip()
        return text + (f"\nUsage: `{error.usage}`" if error.usage else "")

    def finish(self, plans: Sequence[Plan]) -> Outcome:
        requests: list[ResolvedRequest] = []
        for shape, target, values in plans:
            built = self.build(shape, target, values)
            if isinstance(built, UsageError):
                return Outcome(answer=Clarify(self.usage_question(built)))
            requests.append(built)
        return Outcome(requests)

    # ------------------------------------------------------------ projects, tables, jobs, connections
    def pick_obj(self, f: Frame) -> str | None:
        prim = [o for o in f.primary_objs() if o in ENTITY_OBJS]
        acts = set(f.acts)
        if prim:
            obj = prim[0]
            if obj == "project" and (f.jobs or f.raw_job_ids) and acts & {"logs", "metrics", "cancel", "reset"}:
                return "job"
            if obj == "project" and "purge" in acts:
                return "table"
            return obj
        if "purge" in acts:
            return "table"
        if JOB_TROUBLE & set(f.words) and not (acts - {"show", "list", "check"}):
            return "job"
        if acts & {"logs", "metrics", "reset"} or (f.jobs or f.raw_job_ids):
            return "job"
        if "test" in acts and not self._mentions_of(f, "project"):
            return "connection"
        if "move" in acts or f.values.get("raw_workspaces"):
            return "workspace"
        if "add" in acts and "column" in f.aux:
            return "table"
        for what in ("connection", "table", "workspace"):
            if self._mentions_of(f, what) and not self._mentions_of(f, "project"):
                return what
        if self._mentions_of(f, "project") or f.values.get("raw_project") or f.kinds or f.targets:
            return "project"
        if "it" in f.flags and self.memory.obj:
            m = self.memory
            thing = {"job": m.job, "table": m.table, "connection": m.connection}.get(m.obj, "")
            if thing is None and m.project and ("storage" in f.flags or acts <= {"show", "check"}):
                return "project"  # "how big is it" after the jobs of a project: "it" is the project
            return m.obj if m.obj in ENTITY_OBJS else "project"
        if acts & (set(ACTS_BY_OBJ["project"]) | self.grammar.acts_of.get("project", set())) - {"check", "test"}:
            return "project"
        return None

    @staticmethod
    def _mentions_of(f: Frame, what: str) -> list[Mention]:
        return [m for m in f.mentions if m.best() and m.best()[0].entry.what == what
                or any(h.entry.what == what for h in m.best())]

    def pick_act(self, f: Frame, obj: str) -> str | None:
        if obj == "table" and "column" in f.aux and set(f.acts) & {"add", "update"}:
            return "add-columns"
        if obj in ("table", "job") and "purge" in f.acts:
            return "delete-data"
        if obj == "project" and ({"deletion_protection", "stop_protection"} & set(f.values)) and \
                "create" not in f.acts and self.grammar.has("project", "update"):
            return "update"
        mapped = [m for a in f.acts if (m := self._map_act(obj, a))]
        if obj == "job" and (f.jobs or f.raw_job_ids) and "resume" in f.acts:
            mapped = [m for a in f.acts if a != "resume" and (m := self._map_act(obj, a))]
            if not mapped:
                return None  # "restart job X": a job is not restarted; its offset is reset or a new job made
        if obj == "job" and "row" in f.aux and (f.jobs or f.raw_job_ids):
            mapped = [m for m in mapped if m not in GENERIC_ACTS] or ["metrics"]
        specific = [a for a in mapped if a not in GENERIC_ACTS]
        if specific:
            return specific[0]
        unmapped = [a for a in f.acts if not self._map_act(obj, a) and a not in ("help", "send", "export")]
        if unmapped and not mapped:
            return None
        has_thing = self._has_thing(f, obj)
        if obj == "workspace":
            return "workspaces" if not (set(f.acts) & {"move"}) else "move-workspaces"
        if mapped and mapped[0] == "list":
            return "list"
        if has_thing:
            if obj == "connection" and "test" in f.acts:
                return "test"
            return "show"
        return "list"

    def _map_act(self, obj: str, act: str) -> str | None:
        """The registry's act for a canonical one: the per-object synonym, or the registry's own verb."""
        if act in ACTS_BY_OBJ[obj]:
            return ACTS_BY_OBJ[obj][act]
        return act if act in self.grammar.acts_of.get(self.registry_key(obj, act)[0], set()) else None

    def _has_thing(self, f: Frame, obj: str) -> bool:
        if obj == "job":
            return bool(f.jobs or f.raw_job_ids) or ("it" in f.flags and bool(self.memory.job))
        if obj == "project":
            return bool(self._mentions_of(f, "project") or f.values.get("raw_project") or f.raw_names) or (
                "it" in f.flags and bool(self.memory.project))
        return bool(self._mentions_of(f, obj)) or (bool(f.raw_names) and bool(self._mentions_of(f, "project")))

    def registry_key(self, obj: str, act: str) -> tuple[str, str]:
        if obj == "workspace":
            return "project", act
        if act == "delete-data":
            return "job", "delete-data"
        return obj, act

    def entity(self, f: Frame) -> Outcome:
        if (f.words[:1] == ["and"] or "whatabout" in f.flags) and self.memory.project and not (
                f.mentions or f.jobs or f.raw_job_ids or f.kinds or f.targets or f.raw_names
                or f.values.get("raw_project")):
            f.flags.add("it")  # "and the tables?": of what the thread is about
        follow = self._follow_up(f)
        if follow is not None:
            reg_obj, reg_act = follow
            obj = "workspace" if reg_act in ("workspaces", "move-workspaces") else reg_obj
        else:
            picked = self.pick_obj(f)
            loose_only = bool(f.mentions) and all(h.score <= 70 for m in f.mentions for h in m.hits)
            anchored = bool(f.mentions or f.jobs or f.raw_job_ids or f.kinds or f.targets or f.raw_names
                            or f.values.get("raw_project") or "it" in f.flags)
            if picked is None or (f.unknown and not f.primary_objs() and (not anchored or loose_only)):
                return Outcome(answer=self.cannot_general())
            obj = picked
            act = self.pick_act(f, obj)
            if act is None:
                verbs = ", ".join(sorted(a for a in self.grammar.acts_of.get(obj, set()) if a))
                return Outcome(answer=CannotHelp(
                    f"I can't do that to {_plural(obj)}. For {_plural(obj)} I can: {verbs}.",
                    [f"/projects help {self.grammar.find(*self.registry_key(obj, 'list'))[0].op.command}"]
                    if self.grammar.find(*self.registry_key(obj, "list")) else GENERAL_SUGGESTIONS))
            reg_obj, reg_act = self.registry_key(obj, act)
        shapes = self.grammar.find(reg_obj, reg_act)
        if not shapes:
            return Outcome(answer=self.cannot_general())
        risky = any(s.op.risk != Risk.READ for s in shapes)
        if risky and "all" in f.flags and not self._names_own_thing(f, obj) and "alldata" not in f.flags:
            return Outcome(answer=self.bulk(f, shapes))
        return self.anchored(f, obj, shapes)

    def _follow_up(self, f: Frame) -> tuple[str, str] | None:
        m = self.memory
        if not m.obj or f.acts or (f.primary_objs() and "ones" not in f.flags):
            return None
        if not ("whatabout" in f.flags or "ones" in f.flags or f.words[:1] == ["and"]):
            return None
        if not (f.mentions or f.kinds or f.targets or f.jobs):
            return None
        return m.obj, m.act

    def _names_own_thing(self, f: Frame, obj: str) -> bool:
        if obj == "job":
            return bool(f.jobs or f.raw_job_ids)
        if obj == "workspace":
            return bool(self._mentions_of(f, "workspace") or f.values.get("raw_workspaces"))
        return bool(self._mentions_of(f, obj))

    def bulk(self, f: Frame, shapes: list[Shape]) -> CannotHelp:
        verb = shapes[0].op.command
        suggestions: list[str] = []
        obj = shapes[0].obj
        projects = self._project_anchor_groups(f, self._pool(f, shapes))
        if obj in ("table", "job", "connection") and projects:
            a = projects[0][0]
            lister = self.grammar.find(obj if shapes[0].act != "delete-data" else "table", "list", a.kind)
            suggestions = [command_text(s, a.target, {"project": a.project}) for s in lister]
        else:
            kinds = [k for k in f.every_kind if any(s.kind == k for s in shapes)]
            lister = self.grammar.find("project", "workspaces" if shapes[0].act == "move-workspaces" else "list")
            suggestions = [command_text(s, t, {}) for s in lister for k in kinds[:2] if s.kind == k
                           for t in self.targets_of(k)[:1]]
        return CannotHelp(
            f"I don't run `{verb}` on everything at once: changes go one at a time, each with its own preview, "
            "confirmation and approval. Tell me which one.", suggestions or ["/projects list"])

    # ------------------------------------------------------------ anchors
    def _pool(self, f: Frame, shapes: list[Shape]) -> list[str]:
        kinds = {s.kind for s in shapes if s.kind}
        named = list(dict.fromkeys(f.targets + [t for k in f.kinds for t in self.targets_of(k)]))
        if named:
            return [t for t in named if self.targets[t] in kinds]
        return [t for t, k in self.targets.items() if k in kinds]

    def _hits_to_anchors(self, hits: list[Hit], what: str, pool: list[str], typed: str = "") -> list[Anchor]:
        out = []
        for h in hits:
            e = h.entry
            if e.what != what or e.target not in pool:
                continue
            thing = None if what == "project" else (typed.lower() if what == "job" and typed else e.value)
            out.append(Anchor(e.target, e.kind, e.project, thing, h.score <= 70))
        return out

    def _project_filter(self, f: Frame, pool: list[str]) -> set[tuple[str, str]]:
        """(target, project) pairs the words name as projects, to narrow a table/job/connection name."""
        pairs = set()
        for m in self._mentions_of(f, "project"):
            for h in m.best("project"):
                if h.entry.target in pool:
                    pairs.add((h.entry.target, h.entry.value))
        return pairs

    def anchored(self, f: Frame, obj: str, shapes: list[Shape]) -> Outcome:
        shape0 = shapes[0]
        pool = self._pool(f, shapes)
        kinds = {s.kind for s in shapes if s.kind}
        if not pool:
            return self.kind_mismatch(f, shapes)
        thing_what = self._thing_what(shape0)
        needs_project = "project" in shape0.required
        groups: list[list[Anchor]] = []
        if thing_what:
            projects = self._project_filter(f, pool)
            mentions = f.jobs if thing_what == "job" else self._mentions_of(f, thing_what)
            for m in mentions:
                anchors = self._hits_to_anchors(m.best(thing_what) or m.hits, thing_what, pool, m.text)
                if projects:
                    anchors = [a for a in anchors if (a.target, a.project) in projects] or anchors
                if anchors:
                    groups.append(anchors)
            if thing_what == "job" and not groups and f.raw_job_ids:
                base = self._project_anchor_groups(f, pool)
                if base:
                    groups = [[Anchor(a.target, a.kind, a.project, f.raw_job_ids[0]) for a in base[0]]]
            if not groups and f.raw_names:
                base = [g for g in self._project_anchor_groups(f, pool) if g and g[0].project != f.raw_names[-1]]
                if base:
                    groups = [[Anchor(a.target, a.kind, a.project, f.raw_names[-1]) for a in base[0]]]
                elif thing_what in ("connection", "table") and not self._mentions_of(f, "project") and \
                        not ("it" in f.flags and self.memory.project):
                    return self.unlisted_thing(f, shapes, pool, thing_what, f.raw_names[-1])
            if not groups and "it" in f.flags and self.memory.target in pool:
                remembered = {"job": self.memory.job, "table": self.memory.table,
                              "connection": self.memory.connection}.get(thing_what)
                if remembered and self.memory.project:
                    groups = [[Anchor(self.memory.target, self.memory.kind or "", self.memory.project,
                                      remembered)]]
            if not groups:
                return self.missing_thing(f, shapes, pool, thing_what)
        elif needs_project or "project" in shape0.fields:
            groups = self._project_anchor_groups(f, pool)
            if not groups and obj != "project":
                groups = self._groups_from_things(f, pool)
            if not groups and ("it" in f.flags or self._follow_up(f)) and self.memory.project and \
                    self.memory.target in pool:
                groups = [[Anchor(self.memory.target, self.memory.kind or "", self.memory.project)]]
            if not groups:
                mismatch = self._mismatch_names(f, kinds)
                if mismatch:
                    return mismatch
                if needs_project:
                    return self.missing_project(f, shapes, pool)
                return self.on_targets(shapes, f, self.fill(f, shapes[0], None))
        else:
            mismatch = self._mismatch_names(f, kinds) if not (f.kinds or f.targets) else None
            if mismatch:
                return mismatch
            return self._on_pool(f, shapes, pool, bool(f.targets or f.kinds))

        plans: list[Plan] = []
        for group in groups[:MAX_REQUESTS]:
            if self._all_undeletable(shape0, group):
                a = group[0]
                return Outcome(answer=CannotHelp(UNDELETABLE[(a.kind, (a.project or "").casefold())], []))
            group = [a for a in group if not self._undeletable(shape0, a)] if shape0.act == "delete" else group
            risky = shape0.op.risk != Risk.READ
            if len(group) > 1 or (risky and group and group[0].loose):
                return self.ask_which(f, shapes, group)
            a = group[0]
            shape = self.shape_for(shapes, a.kind)
            values = self.fill(f, shape, a)
            edit = self.grammar.find("project", "edit", a.kind)
            if shape.obj == "project" and shape.act in ("update", "edit") and edit and set(values) <= {"project"}:
                shape = edit[0]  # nothing to change was said: the form, filled with the current values
            elif shape.act == "edit":
                shape = self.shape_for(self.grammar.find("project", "update"), a.kind)
                values = self.fill(f, shape, a)
            plans.append((shape, a.target, values))
        return self.finish_checked(f, plans)

    def _on_pool(self, f: Frame, shapes: list[Shape], pool: list[str], named: bool) -> Outcome:
        if not named and any(not s.kind for s in shapes):
            return self.finish([(next(s for s in shapes if not s.kind), None, self.fill(f, shapes[0], None))])
        if len(pool) == 1 or named:
            return self.finish([(self.shape_for(shapes, self.targets[t]), t,
                                 self.fill(f, self.shape_for(shapes, self.targets[t]), None))
                                for t in pool[:MAX_REQUESTS]])
        options: list[Option] = []
        for t in pool:
            shape = self.shape_for(shapes, self.targets[t])
            options.append((f"{t} ({self.label(self.targets[t])})", shape, t, self.fill(f, shape, None)))
        what = f.values.get("new_name")
        question = f"Where should I create `{what}`?" if what else f"Which back end for `{shapes[0].op.command}`?"
        if shapes[0].act == "create" and not what:
            return Outcome(answer=Clarify("What should the new project be called, and on which back end? For "
                                          "example: create a Phoenix project called support-bot."))
        return self.ask_or_fail(question, options, shapes[0], {})

    def _thing_what(self, shape: Shape) -> str | None:
        if "job" in shape.required:
            return "job"
        if "table" in shape.required and shape.act != "create":
            return "table"
        if shape.obj == "connection" and "name" in shape.required and shape.act != "create":
            return "connection"
        return None

    def _project_anchor_groups(self, f: Frame, pool: list[str]) -> list[list[Anchor]]:
        groups = []
        raw = f.values.get("raw_project")
        if raw and any(self.targets[t] == raw[0] for t in pool):
            groups.append([Anchor(t, raw[0], raw[1]) for t in pool if self.targets[t] == raw[0]])
        for m in self._mentions_of(f, "project"):
            anchors = self._hits_to_anchors(m.best("project"), "project", pool)
            if anchors:
                groups.append(anchors)
        if not groups and f.raw_names:
            # a name the live lists do not know (a new project, or a back end that did not answer):
            # the typed command would try it, and the back end says whether it exists
            groups.append([Anchor(t, self.targets[t], f.raw_names[0], unknown=True) for t in pool])
        return groups

    def _groups_from_things(self, f: Frame, pool: list[str]) -> list[list[Anchor]]:
        """A table/job/connection named without its project gives the project ("jobs of the clicks table")."""
        for what in ("table", "connection", "job"):
            mentions = f.jobs if what == "job" else self._mentions_of(f, what)
            for m in mentions:
                anchors = [Anchor(a.target, a.kind, a.project, None, a.loose)
                           for a in self._hits_to_anchors(m.best(what), what, pool)]
                if anchors:
                    uniq = {(a.target, a.project): a for a in anchors}
                    return [list(uniq.values())]
        return []

    def _undeletable(self, shape: Shape, a: Anchor) -> bool:
        return shape.act == "delete" and (a.kind, (a.project or "").casefold()) in UNDELETABLE

    def _all_undeletable(self, shape: Shape, group: list[Anchor]) -> bool:
        return bool(group) and all(self._undeletable(shape, a) for a in group)

    def _mismatch_names(self, f: Frame, kinds: Collection[str | None]) -> Outcome | None:
        """The words name a project, but on a back end this operation does not run on."""
        for m in self._mentions_of(f, "project"):
            others = [h for h in m.best("project") if h.entry.kind not in kinds]
            if others and len(others) == len(m.best("project")):
                h = others[0]
                return Outcome(answer=self._kind_mismatch_answer(h.entry.value, h.entry.kind, h.entry.target, kinds))
        return None

    def _kind_mismatch_answer(self, name: str, kind: str, target: str, kinds: Collection[str | None]) -> CannotHelp:
        works_on = " and ".join(self.label(k) for k in sorted(k for k in kinds if k))
        possible = sorted(a for a in self.grammar.acts_of.get("project", set())
                          if self.grammar.find("project", a, kind) and a not in ("create", "list", "provision"))
        suggestions = [command_text(self.grammar.find("project", a, kind)[0], target, {"project": name})
                       for a in possible if a in ("show", "update", "delete")]
        return CannotHelp(f"That works on {works_on} projects, and `{name}` is a {self.label(kind)} project. "
                          f"On it I can: {', '.join(possible)}.", suggestions)

    def kind_mismatch(self, f: Frame, shapes: list[Shape]) -> Outcome:
        kinds = {s.kind for s in shapes if s.kind}
        named = f.targets or [t for k in f.kinds for t in self.targets_of(k)]
        works_on = " and ".join(self.label(k) for k in sorted(k for k in kinds if k))
        if named:
            return Outcome(answer=CannotHelp(
                f"`{shapes[0].op.command}` works on {works_on} only, not on `{named[0]}` "
                f"({self.label(self.targets.get(named[0]))}).", ["/projects help " + shapes[0].op.command]))
        return Outcome(answer=CannotHelp(f"No {works_on} target is configured.", ["/projects targets"]))

    def ask_which(self, f: Frame, shapes: list[Shape], group: list[Anchor]) -> Outcome:
        options: list[Option] = []
        for a in group:
            shape = self.shape_for(shapes, a.kind)
            label = a.thing or a.project or a.target
            where = f"{a.project}, {self.label(a.kind, a.target)}" if a.thing else self.label(a.kind, a.target)
            options.append((f"{label} ({where})", shape, a.target, self.fill(f, shape, a)))
        question = "Did you mean this one?" if len(group) == 1 else "Which one do you mean?"
        if all(a.unknown for a in group):
            question = f"I don't see `{group[0].project}` in the live lists. Which back end is it on?"
        return self.ask_or_fail(question, options, shapes[0], {})

    def missing_project(self, f: Frame, shapes: list[Shape], pool: list[str]) -> Outcome:
        mismatch = self._mismatch_names(f, {s.kind for s in shapes})
        if mismatch:
            return mismatch
        options: list[Option] = []
        fits = self._fitting_states(f, shapes[0])
        left_out = 0
        for t in pool:
            shape = self.shape_for(shapes, self.targets[t])
            for p in self.catalog.projects_of(t):
                a = Anchor(t, self.targets[t], p)
                if self._undeletable(shape, a):
                    continue
                state = (names.state if (names := self.catalog.project(t, p)) else "").casefold()
                if fits and state and state not in fits:
                    left_out += 1  # already paused (or stopped…): offering it would only fail
                    continue
                options.append((f"{p} ({self.label(self.targets[t], t)})", shape, t, self.fill(f, shape, a)))
        what = shapes[0].op.command
        if not options and left_out:
            return Outcome(answer=Clarify(f"None of the projects I see is {' or '.join(sorted(fits))}. Which project "
                                          f"should `{what}` run on? Give its name."))
        if not options:
            return Outcome(answer=Clarify(f"Which project should `{what}` run on? Give its name."))
        return self.ask_or_fail(f"Which project should `{what}` run on?", options, shapes[0], {})

    @staticmethod
    def _fitting_states(f: Frame, shape: Shape) -> set[str]:
        """The project states an operation can start from ("pause": a running one), or the state said."""
        said = {PROJECT_STATES[w] for w in f.words if w in PROJECT_STATES}
        if said:
            return said
        if shape.obj != "project":
            return set()
        return {"pause": {"running"}, "stop": {"running", "paused"},
                "resume": {"paused", "stopped", "suspended"}}.get(shape.act, set())

    def missing_thing(self, f: Frame, shapes: list[Shape], pool: list[str], what: str) -> Outcome:
        projects = self._project_anchor_groups(f, pool)
        if not projects and "it" in f.flags and self.memory.project and self.memory.target in pool:
            projects = [[Anchor(self.memory.target, self.memory.kind or "", self.memory.project)]]
        label = {"job": "job", "table": "table", "connection": "connection"}[what]
        if not projects:
            return self.missing_project(f, shapes, pool) if what != "job" else self.job_from_thread(f, shapes, pool)
        options: list[Option] = []
        for a in projects[0]:
            names = self.catalog.of(a.target)
            project = next((p for p in names.projects if p.name == a.project), None) if names else None
            things = {"job": project.jobs, "table": project.tables, "connection": project.connections}[what] \
                if project else ()
            shape = self.shape_for(shapes, a.kind)
            for thing in things:
                shown = thing[:8] if what == "job" else thing
                options.append((f"{shown} ({a.project})", shape, a.target,
                                self.fill(f, shape, Anchor(a.target, a.kind, a.project, shown))))
        return self.ask_or_fail(f"Which {label} in `{projects[0][0].project}`?", options, shapes[0], {})

    def job_from_thread(self, f: Frame, shapes: list[Shape], pool: list[str]) -> Outcome:
        """"show me the logs" after a job list: the jobs that list was about (its project, its health or
        status filter when the live lists tell them); one is used, several are offered."""
        m = self.memory
        ask = "Which job? Give its id (the first 8 characters are enough) and its project."
        if m.obj != "job":
            return Outcome(answer=Clarify(ask))
        filters = dict(m.job_filters)
        anchors: list[Anchor] = []
        for t in pool:
            names = self.catalog.of(t)
            if names is None or (m.target and t != m.target):
                continue
            for p in names.projects:
                if m.project and p.name != m.project:
                    continue
                states = {j: (status, health) for j, status, health in p.job_states}
                for job in p.jobs:
                    status, health = states.get(job, ("", ""))
                    if job in states and (("health" in filters and health not in filters["health"]) or
                                          ("status" in filters and status not in filters["status"])):
                        continue
                    anchors.append(Anchor(t, names.kind, p.name, job[:8]))
        if len(anchors) == 1 and all(s.op.risk == Risk.READ for s in shapes):
            a = anchors[0]
            shape = self.shape_for(shapes, a.kind)
            return self.finish([(shape, a.target, self.fill(f, shape, a))])
        if not anchors:
            return Outcome(answer=Clarify(ask))
        options: list[Option] = []
        for a in anchors:
            shape = self.shape_for(shapes, a.kind)
            options.append((f"{a.thing} ({a.project})", shape, a.target, self.fill(f, shape, a)))
        return self.ask_or_fail("Which job?" if len(anchors) > 1 else "Did you mean this one?", options,
                                shapes[0], {}, more="or give its id")

    def unlisted_thing(self, f: Frame, shapes: list[Shape], pool: list[str], what: str, name: str) -> Outcome:
        """A connection or table the live lists do not hold (yet): ask its project, likeliest first
        (the project its name starts with: clickstream-archive → clickstream)."""
        anchors = [Anchor(t, self.targets[t], p, name) for t in pool for p in self.catalog.projects_of(t)]
        folded = name.casefold()
        anchors.sort(key=lambda a: not folded.startswith((a.project or "").casefold()))
        options: list[Option] = []
        for a in anchors:
            shape = self.shape_for(shapes, a.kind)
            options.append((f"{a.project} ({self.label(a.kind, a.target)})", shape, a.target, self.fill(f, shape, a)))
        if not options:
            return Outcome(answer=Clarify(f"Which project is the {what} `{name}` in? Give its name."))
        return self.ask_or_fail(f"Which project is the {what} `{name}` in?", options, shapes[0], {})

    def finish_checked(self, f: Frame, plans: Sequence[Plan]) -> Outcome:
        for shape, _target, values in plans:
            missing = [n for n in shape.required if n not in values]
            if missing:
                return Outcome(answer=self.ask_missing(f, shape, _target, values, missing[0]))
        return self.finish(plans)

    def ask_missing(self, f: Frame, shape: Shape, target: str | None, values: dict[str, Any],
                    name: str) -> Clarify:
        lits = shape.literals.get(name)
        if lits:
            options = [(v, shape, target, {**values, name: [v] if name in shape.lists else v}) for v in lits]
            choices = self.choices(options)
            if choices:
                return Clarify(f"Which {name.replace('_', ' ')}?", choices)
        if name == "warehouse":
            choices = self.choices([(w, shape, target, {**values, "warehouse": w})
                                    for w in ("snowflake", "redshift")])
            return Clarify("Which warehouse: Snowflake or Redshift?", choices)
        what = {"name": "name", "description": "description", "workspaces": "workspaces", "column": "columns "
                "(name:type)", "table": "table name"}.get(name, name.replace("_", " "))
        return Clarify(f"`{shape.op.command}` needs the {what}. For example: `{shape.op.examples[0]}`"
                       if shape.op.examples else f"`{shape.op.command}` needs the {what}.")

    # ------------------------------------------------------------ params
    def fill(self, f: Frame, shape: Shape, a: Anchor | None) -> dict[str, Any]:
        """The params model's fields, from what the words said and what the anchor resolved to."""
        v: dict[str, Any] = {}
        fields = set(shape.fields)
        vals = f.values
        if a is not None and a.project and "project" in fields:
            v["project"] = a.project
        if shape.act in ("create", "provision") and "name" in fields and vals.get("new_name"):
            v["name"] = vals["new_name"]
        if shape.obj == "table" and shape.act == "create" and vals.get("new_name"):
            v["table"] = vals["new_name"]
        thing = self._thing_what(shape)
        if a is not None and a.thing and thing:
            v[{"job": "job", "table": "table", "connection": "name"}[thing]] = a.thing
        if shape.obj == "connection" and shape.act == "create" and vals.get("new_name"):
            v["name"] = vals["new_name"]
        if "name" in fields and shape.act == "update" and vals.get("rename_to"):
            v["name"] = vals["rename_to"]
        if "description" in fields and shape.act in ("update", "create"):
            desc = vals.get("quoted_description") or next(
                (q for _, q in f.quoted if q != vals.get("new_name") and q != vals.get("query")), None)
            if desc:
                v["description"] = desc
        for name in ("plan", "region", "auto_destroy", "bucket", "stream", "role_arn", "warehouse", "page"):
            if name in fields and name in vals and name not in v:
                v[name] = vals[name]
        for name in ("deletion_protection", "stop_protection"):
            if name in fields and name in vals:
                v[name] = vals[name]
        if "prefix" in fields and vals.get("prefix"):
            v["prefix"] = vals["prefix"] if "prefix" in shape.lists else vals["prefix"][0]
        if "column" in fields and vals.get("column"):
            v["column"] = list(vals["column"])
        if "interval" in fields and vals.get("interval"):
            v["interval"] = list(vals["interval"])
        if "all" in fields and shape.act == "delete-data" and not vals.get("interval"):
            v["all"] = True
        if "query" in fields and vals.get("query"):
            v["query"] = vals["query"]
        if "name_contains" in fields and vals.get("name_filter"):
            v["name_contains"] = vals["name_filter"]
        if "search" in fields and vals.get("name_filter"):
            v["search"] = vals["name_filter"]
        if "sort" in fields and vals.get("sort"):
            v["sort"] = vals["sort"]
        if "limit" in fields and vals.get("last"):
            v["limit"] = vals["last"]
        if "state" in fields:
            state = next((PROJECT_STATES[w] for w in f.words if w in PROJECT_STATES), None)
            if state:
                v["state"] = state
        if "workspaces" in fields:
            ws = [h.entry.value for m in self._mentions_of(f, "workspace") for h in m.best("workspace")[:1]]
            ws += list(vals.get("raw_workspaces", []))
            if not ws and shape.act == "move-workspaces":
                ws = self._unlisted_workspaces(f)
            if ws:
                v["workspaces"] = list(dict.fromkeys(ws))
        if shape.obj == "job" and shape.act in ("list", "create"):
            self._fill_job_filters(f, shape, v, a)
        for name, lits in shape.literals.items():
            if name in v or name in ("health", "status", "sort"):
                continue
            found = [w for i, w in enumerate(f.words) if w in lits and w not in _NOT_LITERALS and i not in f.used]
            found = list(dict.fromkeys(found))
            if found:
                v[name] = found if name in shape.lists else found[0]
        if "id" in fields and shape.obj == "provision" and vals.get("provision_id"):
            v["id"] = vals["provision_id"]
        return v

    @staticmethod
    def _unlisted_workspaces(f: Frame) -> list[str]:
        """"move scratch to sandbox-playground" when the live lists hold no workspaces: the words the
        lists do not know, between the verb and the "to"/"into" before the project, are the workspaces."""
        end = next((i for i in range(len(f.words) - 1, -1, -1) if f.words[i] in ("to", "into")), None)
        if end is None:
            return []
        return [f.tokens[i].text for i in range(end)
                if (f.tokens[i].plain and f.words[i] in f.unknown) or (f.tokens[i].quoted and i not in f.used)]

    def _fill_job_filters(self, f: Frame, shape: Shape, v: dict[str, Any], a: Anchor | None) -> None:
        if shape.act == "list":
            for w in f.words:
                if w in HEALTH_WORDS:
                    name, values = HEALTH_WORDS[w]
                    if name in shape.fields:
                        v.setdefault(name, [])
                        v[name] += [x for x in values if x not in v[name]]
        project = a.project if a else None
        for what, name in (("table", "table"), ("connection", "connection")):
            if name not in shape.fields or name in v:
                continue
            for m in self._mentions_of(f, what):
                hit = next((h for h in m.best(what) if project is None or h.entry.project == project), None)
                if hit:
                    v[name] = hit.entry.value
                    break
        if shape.act == "create" and "table" in shape.fields and "table" not in v and f.values.get("new_name"):
            v["table"] = f.values["new_name"]
