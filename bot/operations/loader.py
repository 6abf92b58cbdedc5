"""Every operations module projectops ships, imported for real, and the registry built from them.

Adding an operations module: import it here and list it in `MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from bot.operations import audit, core, digest, edit, feedback, matillion, multi, phoenix, polaris, terraform
from bot.operations.registry import Registry, declared

#: The modules whose operations a built app offers (each declares them at import).
MODULES: tuple[ModuleType, ...] = (core, audit, polaris, phoenix, terraform, matillion, multi, digest, edit, feedback)


def load_operations() -> Registry:
    """A new registry holding every declared operation: one per built app, never shared."""
    return Registry(declared())
