"""Imply Polaris operations: projects, tables, jobs and connections (registered on import)."""

from bot.operations.polaris import connections, jobs, projects, tables

__all__ = ["connections", "jobs", "projects", "tables"]
