"""How much an operation can change: the one fact policy, confirmation and approval all key on."""

from __future__ import annotations

from enum import StrEnum


class Risk(StrEnum):
    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"
