"""Matillion DPC operations: project list / show / create / delete and guided provisioning (registered on import)."""

from bot.operations.matillion import projects, provision

__all__ = ["projects", "provision"]
