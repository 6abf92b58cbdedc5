"""Everything projectops keeps, behind one small interface: `Store.open(…)` and one attribute per concern.

The database is SQLite (a file, through sqlite-utils) by default, or PostgreSQL when a URL is given
(`PROJECTOPS_DATABASE_URL`, for several replicas); nothing outside this package knows which. One `Database`
owns the connection(s) (`bot/store/database.py`, `bot/store/postgres.py`), one numbered list of migrations
serves both (`bot/store/migrations.py`), one module per concern. SQL lives here and nowhere else in projectops;
every failure of the database reaches callers as a `StoreError`.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.approvals import Approval, ApprovalStore
from bot.store.audit import AuditEntry, AuditLog, AuditQuery, VerifyReport
from bot.store.confirmations import Confirmation, ConfirmationStore
from bot.store.database import Database, SqliteDatabase
from bot.store.deliveries import Deliveries
from bot.store.digests import DigestStore, Subscription
from bot.store.errors import StoreError, StoreUnavailable
from bot.store.leases import Lease, LeaseStore
from bot.store.pacing import PacingStore
from bot.store.provisioning import Provisioning, ProvisioningStore

__all__ = [
    "Approval", "ApprovalStore", "AuditEntry", "AuditLog", "AuditQuery", "Confirmation", "ConfirmationStore",
    "Deliveries", "DigestStore", "Lease",
    "LeaseStore", "PacingStore", "Provisioning", "ProvisioningStore", "Store", "StoreError", "StoreUnavailable",
    "Subscription", "VerifyReport", "is_database_url",
]


def is_database_url(where: str | Path) -> bool:
    """True for a PostgreSQL URL (`postgresql://…`, `postgres://…`), False for a file path."""
    return isinstance(where, str) and where.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def open_database(where: str | Path) -> Database:
    """A PostgreSQL URL or a SQLite file's path, migrated to the last version."""
    if is_database_url(where):
        from bot.store.postgres import PostgresDatabase  # psycopg is loaded only when PostgreSQL is used

        return PostgresDatabase(str(where))
    return SqliteDatabase(where)


class Store:
    """The projectops database: audit log, approvals, deliveries, digests, leases, provisioning and pacing."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.audit = AuditLog(database)
        self.approvals = ApprovalStore(database)
        self.confirmations = ConfirmationStore(database)
        self.deliveries = Deliveries(database)
        self.digests = DigestStore(database)
        self.leases = LeaseStore(database)
        self.provisioning = ProvisioningStore(database)
        self.pacing = PacingStore(database)

    @classmethod
    def open(cls, where: str | Path) -> Store:
        """Open (creating or upgrading as needed) a PostgreSQL database by URL or a SQLite file by path.

        Raises StoreError (StoreUnavailable when it cannot be reached) with a message a person can act on.
        """
        return cls(open_database(where))

    @classmethod
    def connect(cls, *, database_url: str | None = None, sqlite_path: str | Path = "./projectops.db") -> Store:
        """PostgreSQL at `database_url` when it is given (no SQLite file is touched), else SQLite at `sqlite_path`."""
        return cls.open(database_url) if database_url else cls.open(Path(sqlite_path))

    @property
    def kind(self) -> str:
        """"sqlite" or "postgresql"."""
        return self.database.kind

    @property
    def path(self) -> str:
        """Where the data lives, for messages and tools (a file path, or the URL without its password)."""
        return self.database.path

    @property
    def schema_version(self) -> int:
        return self.database.schema_version

    def ping(self) -> None:
        """A cheap round trip to the database (`SELECT 1`); raises StoreUnavailable when it cannot answer."""
        self.database.ping()

    def close(self) -> None:
        self.database.close()
