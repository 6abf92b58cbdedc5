"""Imply Polaris v1 client: `PolarisClient` plus the payload models (see `client.py`, `models.py`)."""

from bot.backends.polaris.client import PolarisClient
from bot.backends.polaris.errors import parse_error
from bot.backends.polaris.models import (
    Connection,
    ConnectionTest,
    Job,
    JobLogEntry,
    JobMetrics,
    JobPage,
    Project,
    Table,
)

__all__ = [
    "Connection",
    "ConnectionTest",
    "Job",
    "JobLogEntry",
    "JobMetrics",
    "JobPage",
    "PolarisClient",
    "Project",
    "Table",
    "parse_error",
]
