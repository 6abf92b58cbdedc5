"""The one connection to the projectops database: opened once, one lock, one numbered list of migrations.

Every store of `bot.store` works through a `Database`; nothing else in projectops opens the file. The schema
is `MIGRATIONS` (bot/store/migrations.py), applied in order and tracked in `PRAGMA user_version`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from bot.store.migrations import MIGRATIONS

#: How long a writer waits for another process's write transaction before giving up.
BUSY_TIMEOUT_MS = 5000


class Database:
    """One SQLite connection, shared by every thread of the process behind one re-entrant lock.

    Several processes may open the same file (WAL): writes that must be atomic run in `transaction()`,
    which takes SQLite's write lock up front (`BEGIN IMMEDIATE`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.execute("PRAGMA synchronous = NORMAL")  # durable with WAL, without an fsync per row
        self.migrate()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Hold the lock and run the block as one write transaction; a nested block joins the outer one."""
        with self.lock:
            if self.conn.in_transaction:
                yield self.db
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self.lock:
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply the migrations this file has not had yet, all in one transaction (safe with other processes)."""
        with self.transaction() as db:
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number > version:
                    migration(db)
                    self.conn.execute(f"PRAGMA user_version = {number}")

    def close(self) -> None:
        with self.lock:
            self.conn.close()
