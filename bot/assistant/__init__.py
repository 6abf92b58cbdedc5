"""Plain words → operation requests, offline: the assistant's understanding core (no Slack, no I/O).

    from bot.assistant import understand, Catalog, CatalogCache, Understood, Clarify, CannotHelp

    result = understand("pls pause clickstream thx", registry, {"polaris": "polaris", ...}, catalog)
    # Understood(requests=[ResolvedRequest("project.pause", "polaris", "polaris", {"project": "clickstream"},
    #                                      "/projects pause polaris clickstream", "destructive")])

How it understands, and why this way. Operations, their verbs, fields, required and positional
arguments and `Literal` values are read from the registry (`grammar`); the only hand-kept lists are
language (`vocabulary`: synonyms, slang, back-end nicknames, filler). Names are matched against the
live `Catalog` with **rapidfuzz** (exact in any case or spacing, close spellings, parts of names,
job-id prefixes), typos in command words are corrected with rapidfuzz too, and every result is
proved by `bot.operations.parser.parse_command`, so it is exactly what the typed command would do.

Considered and not used:
- `hassil` (Home Assistant's sentence templates): exact template matching with slots. It would
  need a second, hand-written list of sentences per operation (what the registry already says),
  and it has no typo tolerance; people's word order and slang would each need a template.
- `wordllama` (static embeddings, weights in the wheel): 0.4.0's offline load looks for its
  tokenizer in a folder the wheel does not ship (`tokenizer/` vs `tokenizers/`) and needs a copied
  cache to start; once loaded, ranking operation summaries against seven sample messages picked the
  right operation once ("nuke sandbox-playground" → list projects). The structure of a request
  (verb + thing + name) carries the meaning here, not word similarity.
"""

from bot.assistant.catalog import Catalog, CatalogCache, NameEntry, ProjectNames, TargetLoader, TargetNames
from bot.assistant.memory import Memory
from bot.assistant.results import OFFLINE, CannotHelp, Clarify, ResolvedRequest, Understanding, Understood
from bot.assistant.understand import understand

__all__ = [
    "OFFLINE",
    "CannotHelp",
    "Catalog",
    "CatalogCache",
    "Clarify",
    "Memory",
    "NameEntry",
    "ProjectNames",
    "ResolvedRequest",
    "TargetLoader",
    "TargetNames",
    "Understanding",
    "Understood",
    "understand",
]
