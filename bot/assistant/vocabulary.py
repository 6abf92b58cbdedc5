"""The small hand-kept part: how people say things, not what projectops can do.

Operations, their verbs, params and literal values all come from the registry (see `grammar`).
What lives here is only language: synonyms and slang for the registry's verbs ("nuke" → delete),
nicknames of the back ends ("TFC" → terraform), filler words, and a few phrases that mark a kind of
question ("how full" → storage). Canonical words are the registry's own command words where one
exists; the few extra markers start with `_`.
"""

from __future__ import annotations

# ---------------------------------------------------------------- back ends
#: Nicknames of back-end kinds (single words; multi-word ones are in PHRASES).
KIND_WORDS: dict[str, str] = {
    "polaris": "polaris", "imply": "polaris", "druid": "polaris",
    "phoenix": "phoenix", "arize": "phoenix",
    "terraform": "terraform", "tfc": "terraform", "hcp": "terraform", "tf": "terraform", "hashicorp": "terraform",
    "matillion": "matillion", "dpc": "matillion",
}
KIND_LABELS: dict[str, str] = {"polaris": "Polaris", "phoenix": "Phoenix", "terraform": "HCP Terraform",
                               "matillion": "Matillion"}

# ---------------------------------------------------------------- verbs
#: Word → canonical act. Canonical acts are registry command words, plus `check`, `rename`, `run`,
#: `send`, `purge` (delete data), `protect`, which the resolver maps per object.
ACT_WORDS: dict[str, str] = {
    "list": "list", "ls": "list", "enumerate": "list",
    "show": "show", "display": "show", "view": "show", "open": "show", "describe": "show", "details": "show",
    "detail": "show", "info": "show", "inspect": "show", "see": "show", "get": "show", "fetch": "show",
    "look": "show", "status": "show", "state": "show",
    "create": "create", "make": "create", "new": "create", "build": "create", "add": "add",
    "delete": "delete", "del": "delete", "rm": "delete", "nuke": "delete", "trash": "delete", "destroy": "delete",
    "erase": "delete", "wipe": "delete", "kill": "delete", "scrap": "delete", "ditch": "delete", "axe": "delete",
    "zap": "delete", "deleted": "delete", "deleting": "delete",
    "remove": "remove", "unsubscribe": "remove", "unschedule": "remove",
    "pause": "pause", "suspend": "pause", "hibernate": "pause", "freeze": "pause",
    "stop": "stop", "shutdown": "stop", "halt": "stop",
    "resume": "resume", "start": "resume", "restart": "resume", "unpause": "resume", "unfreeze": "resume",
    "wake": "resume", "reactivate": "resume",
    "update": "update", "change": "update", "set": "update", "modify": "update", "edit": "edit",
    "upgrade": "update", "downgrade": "update", "switch": "update", "bump": "update", "alter": "update",
    "rename": "rename", "enable": "update", "disable": "update", "unprotect": "update",
    "drop": "drop",
    "cancel": "cancel", "abort": "cancel", "terminate": "cancel",
    "reset": "reset", "rewind": "reset", "replay": "reset",
    "logs": "logs", "log": "logs",
    "metrics": "metrics", "stats": "metrics", "statistics": "metrics", "throughput": "metrics",
    "test": "test", "verify": "test", "ping": "test", "reach": "test", "working": "test", "reachable": "test",
    "check": "check",
    "purge": "purge", "truncate": "purge", "empty": "purge", "clear": "purge",
    "move": "move", "transfer": "move", "migrate": "move",
    "export": "export", "download": "export", "csv": "export",
    "run": "run", "execute": "run", "trigger": "run", "launch": "run",
    "send": "send", "post": "send", "deliver": "send", "schedule": "send", "subscribe": "send",
    "provision": "provision",
    "protect": "protect",
    "help": "help", "usage": "help",
    "whoami": "whoami",
}

#: Past tenses that make a question about who did something (an audit question).
PAST_ACTS: dict[str, str] = {
    "deleted": "delete", "removed": "delete", "nuked": "delete", "dropped": "drop", "paused": "pause",
    "stopped": "stop", "resumed": "resume", "started": "resume", "created": "create", "changed": "update",
    "updated": "update", "canceled": "cancel", "cancelled": "cancel", "reset": "reset", "did": "",
    "touched": "", "ran": "", "moved": "move", "renamed": "update", "modified": "update",
}

# ---------------------------------------------------------------- things
OBJ_WORDS: dict[str, str] = {
    "project": "project", "projects": "project", "projs": "project", "ones": "_ones",
    "table": "table", "tables": "table", "datasource": "table", "datasources": "table",
    "job": "job", "jobs": "job", "ingestion": "job", "ingestions": "job", "task": "job", "tasks": "job",
    "connection": "connection", "connections": "connection", "conn": "connection", "conns": "connection",
    "source": "connection", "sources": "connection",
    "workspace": "workspace", "workspaces": "workspace",
    "digest": "digest", "digests": "digest", "report": "digest", "reports": "digest", "summary": "digest",
    "summaries": "digest", "subscription": "digest", "subscriptions": "digest",
    "audit": "audit", "history": "audit", "activity": "audit", "actions": "audit", "trail": "audit",
    "requests": "audit",
    "provisioning": "provisioning", "provisionings": "provisioning",
    "target": "target", "targets": "target", "backend": "target", "backends": "target", "accounts": "target",
    "integrations": "target",
    "role": "role", "roles": "role", "permissions": "role", "admin": "role",
    "column": "column", "columns": "column", "field": "column", "fields": "column",
    "row": "row", "rows": "row", "records": "row", "data": "data", "bytes": "row",
    "lines": "lines",
}

#: Multi-word phrases, rewritten before anything else. A `*` may stand for one word (a name):
#: "bring finance-archive back up". The replacement keeps the `*` word in its place.
PHRASES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("get", "rid", "of"), ("delete",)),
    (("blow", "*", "away"), ("delete", "*")), (("blow", "away"), ("delete",)),
    (("tear", "down"), ("delete",)), (("throw", "away"), ("delete",)),
    (("deletion", "protection"), ("_delprot",)), (("delete", "protection"), ("_delprot",)),
    (("stop", "protection"), ("_stopprot",)),
    (("from", "deletion"), ("_delprot",)), (("from", "being", "deleted"), ("_delprot",)),
    (("shut", "*", "down"), ("stop", "*")), (("shut", "down"), ("stop",)),
    (("turn", "*", "off"), ("stop", "*")), (("turn", "off"), ("stop",)),
    (("switch", "*", "off"), ("stop", "*")), (("switch", "off"), ("stop",)), (("power", "off"), ("stop",)),
    (("spin", "down"), ("stop",)),
    (("put", "*", "to", "sleep"), ("pause", "*")), (("to", "sleep"), ("pause",)),
    (("wake", "*", "up"), ("resume", "*")), (("wake", "up"), ("resume",)),
    (("bring", "*", "back", "up"), ("resume", "*")), (("bring", "*", "back", "online"), ("resume", "*")),
    (("bring", "*", "back"), ("resume", "*")), (("bring", "back", "up"), ("resume",)),
    (("bring", "back"), ("resume",)), (("bring", "up"), ("resume",)),
    (("turn", "*", "on"), ("resume", "*")), (("turn", "on"), ("resume",)), (("switch", "on"), ("resume",)),
    (("start", "up"), ("resume",)), (("spin", "back", "up"), ("resume",)), (("power", "on"), ("resume",)),
    (("spin", "up"), ("create",)), (("set", "up"), ("create",)), (("stand", "up"), ("create",)),
    (("how", "full"), ("show", "_storage")), (("how", "much", "storage"), ("show", "_storage")),
    (("how", "much", "space"), ("show", "_storage")), (("how", "much", "disk"), ("show", "_storage")),
    (("how", "big"), ("show", "_storage")), (("how", "large"), ("show", "_storage")),
    (("eating", "disk"), ("_storage",)), (("eating", "space"), ("_storage",)),
    (("eating", "storage"), ("_storage",)), (("disk", "space"), ("_storage",)), (("disk", "usage"), ("_storage",)),
    (("storage", "use"), ("_storage",)), (("storage", "usage"), ("_storage",)),
    (("the", "most", "storage"), ("_storage", "_most")), (("most", "storage"), ("_storage", "_most")),
    (("how", "many"), ("_count",)), (("number", "of"), ("_count",)), (("count", "of"), ("_count",)),
    (("what", "about"), ("_whatabout",)), (("how", "about"), ("_whatabout",)),
    (("who", "am", "i"), ("whoami",)), (("my", "role"), ("whoami",)), (("what", "role"), ("whoami",)),
    (("which", "role"), ("whoami",)), (("who", "i", "am"), ("whoami",)),
    (("what", "can", "you", "do"), ("help",)), (("what", "can", "i", "ask"), ("help",)),
    (("what", "can", "i", "do"), ("help",)), (("what", "do", "you", "do"), ("help",)),
    (("how", "do", "i", "use"), ("help",)), (("how", "to", "use"), ("help",)), (("how", "do", "i"), ("help",)),
    (("help", "me"), ("help",)), (("what", "commands"), ("help",)),
    (("back", "ends"), ("target",)), (("back", "end"), ("target",)), (("back-ends",), ("target",)),
    (("back-end",), ("target",)),
    (("data", "sources"), ("connection",)), (("data", "source"), ("connection",)),
    (("audit", "log"), ("audit",)), (("audit", "trail"), ("audit",)), (("activity", "log"), ("audit",)),
    (("log", "lines"), ("logs",)), (("log", "entries"), ("logs",)),
    (("delete", "all", "the", "data"), ("purge", "_alldata")), (("delete", "all", "data"), ("purge", "_alldata")),
    (("delete", "all", "rows"), ("purge", "_alldata")), (("delete", "the", "data"), ("purge",)),
    (("delete", "data"), ("purge",)), (("delete", "rows"), ("purge",)), (("remove", "data"), ("purge",)),
    (("remove", "rows"), ("purge",)), (("delete", "the", "rows"), ("purge",)),
    (("job", "health"), ("_jobhealth",)), (("job-health",), ("_jobhealth",)),
    (("right", "now"), ("now",)), (("straight", "away"), ("now",)),
    (("auto", "destroy"), ("_autodestroy",)), (("auto-destroy",), ("_autodestroy",)),
    (("auto-destroys",), ("_autodestroy",)), (("autodestroy",), ("_autodestroy",)),
    (("destroy", "after"), ("_autodestroy",)), (("destroyed", "after"), ("_autodestroy",)),
    (("what", "happened"), ("_happened",)), (("been", "up", "to"), ("_happened",)),
    (("been", "doing"), ("_happened",)),
    (("tell", "me", "about"), ("show",)), (("look", "at"), ("show",)), (("going", "on", "with"), ("show",)),
    (("up", "with"), ("show",)), (("what", "is", "in"), ("show",)), (("what", "is", "inside"), ("show",)),
    (("sorted", "by", "name"), ("_sortname",)), (("sort", "by", "name"), ("_sortname",)),
    (("by", "name"), ("_sortname",)), (("a", "to", "z"), ("_sortname",)),
    (("that", "one"), ("_it",)), (("this", "one"), ("_it",)), (("the", "same", "one"), ("_it",)),
    (("this", "channel"), ("_here",)), (("in", "here"), ("_here",)),
    (("the", "whole", "lot"), ("_all",)), (("whole", "thing"), ("_all",)),
    (("every", "single"), ("_all",)), (("all", "of", "them"), ("_all", "_it")),
    (("why", "did"), ("logs",)), (("why", "is"), ("logs",)),
    (("api", "key"), ("_secret",)), (("api", "keys"), ("_secret",)), (("access", "token"), ("_secret",)),
    (("private", "key"), ("_secret",)), (("client", "secret"), ("_secret",)),
]

#: Single secret-ish words: the assistant never shows, takes or sends one.
SECRET_WORDS = frozenset({"password", "passwords", "passphrase", "credential", "credentials", "secret", "secrets",
                          "token", "tokens", "apikey", "pat"})

#: Words that ask for everything at once (bulk).
ALL_WORDS = frozenset({"all", "every", "everything", "each", "_all", "everyone", "anything"})

#: Pronouns that point at the thread's last project (or job, table…).
PRONOUNS = frozenset({"it", "its", "_it", "them", "there", "that", "this", "same"})

#: Question words at the start of a sentence.
QUESTION_WORDS = frozenset({"what", "which", "who", "how", "is", "are", "any", "do", "does", "did", "can",
                            "where", "why", "when", "whats", "has", "have", "was", "were", "should"})

#: Words that carry no meaning for understanding (politeness, filler).
FILLER = frozenset({
    "please", "pls", "plz", "pleaes", "thx", "thanks", "thank", "ty", "kthx", "tia", "cheers", "ok", "okay", "hey",
    "hi", "hello", "yo", "bot", "projectops", "kindly", "would", "could", "you", "u", "just", "quickly", "quick",
    "real", "asap", "me", "for", "the", "a", "an", "some", "our", "we", "us", "let", "lets", "mind", "maybe",
    "actually", "again", "really", "now", "there", "all", "every", "of", "on", "in", "at", "to", "from", "with",
    "into", "about", "is", "are", "be", "been", "being", "was", "were", "do", "does", "did", "can", "will",
    "shall", "should", "have", "has", "had", "what", "which", "who", "how", "why", "when", "where", "any", "this",
    "that", "it", "its", "and", "or", "then", "also", "so", "my", "i", "your", "yours", "one", "ones", "currently",
    "right", "go", "ahead", "want", "need", "like", "id", "named", "called", "up", "out", "by", "as", "not",
    "doing", "going", "there's", "here", "whole", "entire", "stuff", "things", "thing", "else", "more", "much",
})

#: Common English words: never "corrected" into a command word or a name by the typo matcher.
ENGLISH = FILLER | frozenset({
    "last", "past", "next", "first", "page", "today", "yesterday", "week", "weeks", "day", "days", "hour", "hours",
    "minute", "minutes", "month", "months", "morning", "evening", "night", "noon", "midnight", "daily", "hourly",
    "weekly", "weekdays", "weekday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "since", "until", "between", "before", "after", "over", "under", "above", "below", "most", "least", "top",
    "biggest", "largest", "smallest", "full", "space", "disk", "storage", "size", "big", "many", "rows", "name",
    "names", "description", "described", "plan", "region", "failing", "failed", "running", "paused", "stopped",
    "healthy", "unhealthy", "broken", "warnings", "warning", "errors", "error", "ok", "new", "old", "weather",
    "joke", "poem", "pizza", "team", "deploy", "frontend", "backend", "server", "database", "cluster", "bucket",
    "repo", "github", "kubernetes", "email", "write", "order", "tell", "give", "make", "take", "find", "know",
    "think", "say", "said", "word", "words", "good", "bad", "yes", "no", "nope", "yep", "sure", "thanks",
    "containing", "contains", "matching", "match", "sorted", "sort", "flag", "flagged", "percent", "threshold",
    "offset", "streaming", "batch", "sql", "query", "stream", "prefix", "type", "kind", "columns",
    "aggregate", "detail", "start", "into", "writing", "ingest", "ingested", "use", "using", "used",
    "configured", "up", "down", "online", "offline", "alive", "answering", "responding", "whole",
    "channel", "everyone", "everybody", "anybody", "somebody", "someone", "people", "person", "user", "users",
    "access", "rights", "password", "key", "keys", "secret", "token", "health", "both", "fine",
    "done", "happen", "happened", "ask", "lot", "lots", "quickly", "asap", "soon", "later", "once", "twice",
    "hello", "world", "test", "tests", "default", "scratch", "events", "support", "analytics", "marketing",
    "warehouse", "tickets", "campaigns", "clicks",
})

#: Words of a question about whether a back end answers.
UP_WORDS = frozenset({"up", "down", "online", "offline", "alive", "answering", "responding", "reachable"})

#: Job-health and job-status words → (field, values) of the job list's params.
HEALTH_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "failing": ("health", ("error",)), "erroring": ("health", ("error",)), "broken": ("health", ("error",)),
    "errors": ("health", ("error",)), "error": ("health", ("error",)), "red": ("health", ("error",)),
    "unhealthy": ("health", ("error", "warn")), "sick": ("health", ("error", "warn")),
    "warnings": ("health", ("warn",)), "warning": ("health", ("warn",)), "warn": ("health", ("warn",)),
    "degraded": ("health", ("warn",)), "healthy": ("health", ("ok",)),
    "failed": ("status", ("failed",)), "running": ("status", ("running",)), "active": ("status", ("running",)),
    "completed": ("status", ("completed",)), "finished": ("status", ("completed",)),
    "done": ("status", ("completed",)), "pending": ("status", ("pending",)), "queued": ("status", ("pending",)),
    "canceled": ("status", ("canceled",)), "cancelled": ("status", ("canceled",)), "idle": ("status", ("idle",)),
    "suspended": ("status", ("suspended",)),
    # a stuck job still runs but makes no progress: Polaris marks it with a warning
    "stuck": ("health", ("warn",)), "stalled": ("health", ("warn",)), "lagging": ("health", ("warn",)),
}

#: Words that say jobs are in trouble: a question about a project with one of them is about its jobs.
JOB_TROUBLE = frozenset({"failing", "broken", "erroring", "unhealthy", "errors", "warnings", "sick", "stuck",
                         "stalled", "lagging"})

#: Polaris project states a listing can filter by.
PROJECT_STATES: dict[str, str] = {"running": "running", "paused": "paused", "stopped": "stopped",
                                  "creating": "creating", "suspended": "suspended"}

#: Audit outcomes in words.
OUTCOME_WORDS: dict[str, str] = {"failed": "failed", "failures": "failed", "failure": "failed", "failing": "failed",
                                 "errors": "failed", "refused": "refused", "denied": "refused", "rejected": "refused",
                                 "succeeded": "succeeded", "successful": "succeeded", "worked": "succeeded"}

#: Digest kinds in words.
DIGEST_KIND_WORDS: dict[str, str] = {
    "storage": "storage", "_storage": "storage", "disk": "storage", "space": "storage", "capacity": "storage",
    "_jobhealth": "job-health", "health": "job-health", "failing": "job-health", "unhealthy": "job-health",
    "jobs": "job-health", "job": "job-health", "both": "all", "all": "all", "everything": "all", "full": "all",
}

#: Contractions and chat spellings, expanded before anything else.
CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "what's": ("what", "is"), "whats": ("what", "is"), "how's": ("how", "is"), "hows": ("how", "is"),
    "who's": ("who", "is"), "whos": ("who", "is"), "isn't": ("is", "not"), "it's": ("it", "is"),
    "that's": ("that", "is"), "where's": ("where", "is"), "there's": ("there", "is"), "don't": ("do", "not"),
    "can't": ("can", "not"), "i'm": ("i", "am"), "let's": ("let", "us"), "u": ("you",), "ur": ("your",),
    "r": ("are",), "wat": ("what",), "wut": ("what",), "whcih": ("which",), "pls": ("please",),
    "plz": ("please",), "thx": ("thanks",), "ty": ("thanks",), "kthx": ("thanks",), "i'd": ("i", "would"),
    "what're": ("what", "are"), "who're": ("who", "are"), "we've": ("we", "have"), "i've": ("i", "have"),
    "doesn't": ("does", "not"), "didn't": ("did", "not"), "won't": ("will", "not"), "whatre": ("what", "are"),
}

#: Parts of the day → the time a schedule uses when none is given.
DAY_PARTS: dict[str, str] = {"morning": "09:00", "mornings": "09:00", "noon": "12:00", "lunchtime": "12:00",
                             "afternoon": "14:00", "afternoons": "14:00", "evening": "18:00", "evenings": "18:00",
                             "night": "21:00", "nightly": "21:00", "nights": "21:00", "midnight": "00:00"}

WEEKDAYS: dict[str, str] = {
    "monday": "mon", "mondays": "mon", "mon": "mon", "tuesday": "tue", "tuesdays": "tue", "tue": "tue",
    "tues": "tue", "wednesday": "wed", "wednesdays": "wed", "wed": "wed", "thursday": "thu", "thursdays": "thu",
    "thu": "thu", "thurs": "thu", "friday": "fri", "fridays": "fri", "fri": "fri", "saturday": "sat",
    "saturdays": "sat", "sat": "sat", "sunday": "sun", "sundays": "sun", "sun": "sun",
}

#: What the assistant offers when it cannot help.
GENERAL_SUGGESTIONS = ["/projects help", "/projects list", "/projects audit"]
