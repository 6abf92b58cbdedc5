"""Pending confirmations: what a Confirm button or a typed-name form stands for, kept server-side.

Buttons and form metadata round-trip through Slack clients, so they carry only an opaque id. Who asked, the
command and where to answer live here; `use` spends a confirmation once (atomically, across replicas), so a
double click, a retry or the same form submitted under another view id runs — or asks for approval — once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from bot.store.database import Database

#: How long a confirmation can be pressed (Slack's response_url lasts 30 minutes).
TTL_SECONDS = 1800.0


@dataclass(frozen=True)
class Confirmation:
    id: str
    command: str
    requester: str
    team: str
    channel: str
    surface: str
    response_url: str
    expires_at: float
    used: bool

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Confirmation:
        return cls(id=str(row["id"]), command=str(row["command"]), requester=str(row["requester"]),
                   team=str(row.get("team") or ""), channel=str(row.get("channel") or ""),
                   surface=str(row.get("surface") or ""), response_url=str(row.get("response_url") or ""),
                   expires_at=float(row["expires_at"]), used=row.get("used_at") is not None)


class ConfirmationStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, *, command: str, requester: str, team: str, channel: str, surface: str,
               ttl_seconds: float = TTL_SECONDS) -> Confirmation:
        now = time.time()
        confirmation_id = secrets.token_urlsafe(12)
        self.database.execute(
            "INSERT INTO confirmations (id, command, requester, team, channel, surface, response_url, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)",
            [confirmation_id, command, requester, team, channel, surface, now, now + ttl_seconds])
        self.database.execute("DELETE FROM confirmations WHERE expires_at < ?", [now - 86400])
        found = self.get(confirmation_id)
        assert found is not None
        return found

    def get(self, confirmation_id: str) -> Confirmation | None:
        row = self.database.query_one("SELECT * FROM confirmations WHERE id = ?", [confirmation_id])
        return Confirmation.from_row(row) if row else None

    def remember_reply(self, confirmation_id: str, response_url: str) -> None:
        """Where the answers go: the response_url Slack sent with the click (checked by the caller)."""
        self.database.execute("UPDATE confirmations SET response_url = ? WHERE id = ? AND used_at IS NULL",
                              [response_url, confirmation_id])

    def use(self, confirmation_id: str) -> bool:
        """Spend it: True for exactly one caller, while it is unused and unexpired."""
        now = time.time()
        return self.database.execute(
            "UPDATE confirmations SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?",
            [now, confirmation_id, now]) == 1
