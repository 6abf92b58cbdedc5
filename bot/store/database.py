"""The one owner of the projectops database: SQLite (one connection, one lock) or PostgreSQL (a pool).

Every store of `bot.store` works through a `Database` and nothing else in projectops opens the database. The
stores write their SQL once, with `?` placeholders and double-quoted names, in the dialect both databases share
(`INSERT … ON CONFLICT … DO UPDATE … WHERE`, `RETURNING`); the few fragments that differ (the database's clock,
greatest/least) are attributes of the `Database`. A statement runs on its own (`execute`, `query`) or in
`transaction()`, which is atomic against other threads *and* other processes on the same database.

The schema is `MIGRATIONS` (bot/store/migrations.py), applied in order: tracked in `PRAGMA user_version` on
SQLite, in the `schema_version` table on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.store.errors import StoreError, StoreUnavailable
from bot.store.migrations import MIGRATIONS

#: How long a writer waits for another process's write transaction before giving up.
BUSY_TIMEOUT_MS = 5000

Args = Sequence[Any]
Row = dict[str, Any]


class Session(ABC):
    """Runs statements: on their own (a `Database`) or inside one transaction (what `transaction()` yields)."""

    @abstractmethod
    def execute(self, sql: str, args: Args = ()) -> int:
        """Run one statement; returns how many rows it changed."""

    @abstractmethod
    def query(self, sql: str, args: Args = ()) -> list[Row]:
        """Run one statement (a SELECT, or a write with RETURNING) and return its rows as dicts."""

    def query_one(self, sql: str, args: Args = ()) -> Row | None:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def serialize(self, name: str) -> None:  # noqa: B027 (SQLite: a write transaction is already exclusive)
        """Inside a transaction: wait until no other transaction holds `name`, then hold it until commit."""


class Database(Session):
    """What every store needs from the database, whichever it is."""

    #: "sqlite" or "postgresql"
    kind: str
    #: Where the data lives, for messages and tools (a file path, or a URL without its password).
    path: str
    #: SQL for "now" on the database's clock, in seconds since the epoch (a float).
    now: str
    #: SQL names of the two-or-more-argument max and min.
    greatest: str
    least: str

    @abstractmethod
    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[Session]:
        """Run the block as one transaction (a nested block joins the outer one).

        A write transaction is atomic and isolated from every other writer; `readonly=True` reads one
        consistent snapshot of the whole database (for checks that read several tables).
        """

    @abstractmethod
    def ping(self) -> None:
        """A cheap round trip (`SELECT 1`); raises StoreUnavailable when the database cannot answer."""

    @property
    @abstractmethod
    def schema_version(self) -> int:
        """How many of MIGRATIONS this database has had."""

    @abstractmethod
    def close(self) -> None:
        ...


def _columns(cursor: sqlite3.Cursor) -> list[str]:
    return [d[0] for d in cursor.description or ()]


class _SqliteSession(Session):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Args = ()) -> int:
        return self.conn.execute(sql, list(args)).rowcount

    def query(self, sql: str, args: Args = ()) -> list[Row]:
        cursor = self.conn.execute(sql, list(args))
        names = _columns(cursor)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class SqliteDatabase(Database):
    """One SQLite connection (through sqlite-utils), shared by every thread of the process behind one lock.

    Several processes may open the same file (WAL): a write transaction takes SQLite's write lock up front
    (`BEGIN IMMEDIATE`), so it is serialized against every other process's.
    """

    kind = "sqlite"
    now = "((julianday('now') - 2440587.5) * 86400.0)"
    greatest = "max"
    least = "min"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self.lock = threading.RLock()
            if self.path != ":memory:":
                self.db.enable_wal()
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.execute("PRAGMA synchronous = NORMAL")  # durable with WAL, without an fsync per row
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        self._session = _SqliteSession(conn)
        self.migrate()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def _error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreUnavailable(f"the database file {self.path} stayed locked by another process for more than "
                                    f"{BUSY_TIMEOUT_MS // 1000} s; try again")
        if isinstance(exc, sqlite3.OperationalError) and ("unable to open" in text or "disk" in text):
            return StoreUnavailable(f"cannot use the database file {self.path} ({text}): check the path in "
                                    "PROJECTOPS_DB, its folder's permissions and free disk space")
        return StoreError(f"the database refused it: {text}")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with self.lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise self._error(exc) from exc

    def execute(self, sql: str, args: Args = ()) -> int:
        with self._guard():
            return self._session.execute(sql, args)

    def query(self, sql: str, args: Args = ()) -> list[Row]:
        with self._guard():
            return self._session.query(sql, args)

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        with self._guard():
            if self.conn.in_transaction:
                yield self._session
                return
            self.conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
            try:
                yield self._session
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def ping(self) -> None:
        self.query("SELECT 1")

    @property
    def schema_version(self) -> int:
        with self._guard():
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply the migrations this file has not had yet, all in one transaction (safe with other processes)."""
        with self.transaction():
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number > version:
                    migration.sqlite(self.db)
                    self.conn.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()
