"""Everything projectops keeps, behind one small interface: `Store.open(path)` and one attribute per concern.

One connection and one lock (`Database`), one numbered list of migrations for every table
(`bot/store/migrations.py`), one module per concern. SQL lives here and nowhere else in projectops.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.approvals import Approval, ApprovalStore
from bot.store.audit import AuditEntry, AuditLog, AuditQuery, VerifyReport
from bot.store.database import Database
from bot.store.deliveries import Deliveries
from bot.store.digests import DigestStore, Subscription
from bot.store.errors import StoreError
from bot.store.pacing import PacingStore
from bot.store.provisioning import Provisioning, ProvisioningStore

__all__ = [
    "Approval", "ApprovalStore", "AuditEntry", "AuditLog", "AuditQuery", "Deliveries", "DigestStore", "PacingStore",
    "Provisioning", "ProvisioningStore", "Store", "StoreError", "Subscription", "VerifyReport",
]


class Store:
    """The projectops database: audit log, approvals, deliveries, digests, provisioning and pacing."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.audit = AuditLog(database)
        self.approvals = ApprovalStore(database)
        self.deliveries = Deliveries(database)
        self.digests = DigestStore(database)
        self.provisioning = ProvisioningStore(database)
        self.pacing = PacingStore(database)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open (creating or upgrading as needed) the database at `path`."""
        return cls(Database(path))

    @property
    def path(self) -> str:
        """Where the data lives, for messages and tools."""
        return self.database.path

    @property
    def schema_version(self) -> int:
        return self.database.schema_version

    def close(self) -> None:
        self.database.close()
