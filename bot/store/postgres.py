"""PostgreSQL behind the same `Database` as SQLite: psycopg 3, a small thread-safe pool, no driver error upward.

Callers run the store's methods in threads (`asyncio.to_thread`), so the pool is psycopg-pool's synchronous one:
each thread borrows a connection per statement or transaction. Connections are autocommit (a lone statement is
its own transaction) and never prepare statements (`prepare_threshold=None`), so PgBouncer's transaction pooling
works in front of the database. Every driver error becomes a `StoreError` (`StoreUnavailable` when the server
cannot be reached) whose message names the database without its password.

Migrations run under a transaction-level advisory lock, so replicas starting together apply each one once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.store.database import Args, Database, Row, Session
from bot.store.errors import StoreError, StoreUnavailable
from bot.store.migrations import MIGRATIONS

#: Seconds to wait for a connection (TCP connect, or a free one in the pool) before saying the database is down.
CONNECT_TIMEOUT = 5
POOL_TIMEOUT = 5.0
#: A readiness probe answers faster than that.
PING_TIMEOUT = 2.0
#: While the database is known to be down, calls fail this fast instead of each holding a thread for
#: POOL_TIMEOUT; the first connection the pool gets back ends that.
DOWN_TIMEOUT = 0.5
#: The pool retries a lost connection with a growing delay for this long, then afresh on the next demand:
#: a database back from an outage is in use again within a few seconds.
RECONNECT_TIMEOUT = 10.0
POOL_MIN, POOL_MAX = 1, 10

Connection = psycopg.Connection[Row]


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_xact_lock` from a readable name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


MIGRATION_LOCK = lock_key("projectops.migrations")


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """The store's `?` placeholders as psycopg's `%s` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def describe(url: str) -> str:
    """The URL without its password (or any other parameter), for messages and logs."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host') or 'localhost'}{port}/{parts.get('dbname') or ''}"


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _unreachable(exc: psycopg.OperationalError) -> bool:
    """The server cannot be reached or used at all (vs a statement it refused: a deadlock, a timeout)."""
    state = exc.sqlstate or ""
    # no SQLSTATE: the client side (refused, reset, timed out); 08: connection; 28: credentials;
    # 3D000: no such database; 53: out of connections or memory; 57P0x: shutting down or starting up
    return not state or state[:2] in ("08", "28", "53") or state == "3D000" or state.startswith("57P0")


class _PgSession(Session):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _run(self, sql: str, args: Args) -> psycopg.Cursor[Row]:
        if args:
            return self.conn.execute(_pg_sql(sql), list(args))
        return self.conn.execute(sql)

    def execute(self, sql: str, args: Args = ()) -> int:
        return self._run(sql, args).rowcount

    def query(self, sql: str, args: Args = ()) -> list[Row]:
        return self._run(sql, args).fetchall()

    def serialize(self, name: str) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])


class PostgresDatabase(Database):
    kind = "postgresql"
    now = "CAST(extract(epoch FROM now()) AS double precision)"
    greatest = "greatest"
    least = "least"

    def __init__(self, url: str) -> None:
        scheme, sep, rest = url.partition("://")
        self.url = f"{scheme.split('+', 1)[0]}{sep}{rest}"  # postgresql+psycopg://… as SQLAlchemy spells it
        self.path = describe(self.url)
        self._local = threading.local()
        self._down = False
        try:
            given = conninfo_to_dict(self.url)
        except psycopg.Error as exc:
            raise StoreError(f"PROJECTOPS_DATABASE_URL is not a PostgreSQL URL libpq can read ({_first_line(exc)}); "
                             "expected postgresql://user:password@host:5432/database") from exc
        self._kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": None, "row_factory": dict_row}
        if "connect_timeout" not in given:
            self._kwargs["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in given:
            self._kwargs["application_name"] = "projectops"
        try:
            with psycopg.connect(self.url, **self._kwargs) as conn:
                self._migrate(conn)
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            self.url, kwargs=self._kwargs, min_size=POOL_MIN, max_size=POOL_MAX, timeout=POOL_TIMEOUT,
            check=ConnectionPool.check_connection,  # a connection broken by a restart is replaced, not used
            reconnect_timeout=RECONNECT_TIMEOUT, name="projectops", open=False,
        )
        self.pool.open()

    # ------------------------------------------------------------ errors

    def _error(self, exc: Exception) -> StoreError:
        if isinstance(exc, PoolTimeout):
            return StoreUnavailable(
                f"no connection to the database {self.path} within {POOL_TIMEOUT:.0f} s: check that PostgreSQL is "
                "running and reachable from here (PROJECTOPS_DATABASE_URL), then try again")
        if isinstance(exc, psycopg.OperationalError) and _unreachable(exc):
            return StoreUnavailable(
                f"the database {self.path} is unreachable ({_first_line(exc)}): check that PostgreSQL is running "
                "and that PROJECTOPS_DATABASE_URL names the right host, port, user and password")
        return StoreError(f"the database refused it: {_first_line(exc)}")

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[Connection]:
        wait = min(timeout or POOL_TIMEOUT, DOWN_TIMEOUT) if self._down else (timeout or POOL_TIMEOUT)
        try:
            with self.pool.connection(timeout=wait) as conn:
                self._down = False
                yield conn
        except psycopg.Error as exc:  # PoolTimeout and PoolClosed are psycopg errors too
            error = self._error(exc)
            self._down = isinstance(error, StoreUnavailable)
            raise error from exc

    # ------------------------------------------------------------ statements

    def _current(self) -> _PgSession | None:
        session: _PgSession | None = getattr(self._local, "session", None)
        return session

    def execute(self, sql: str, args: Args = ()) -> int:
        session = self._current()
        if session is not None:
            return session.execute(sql, args)
        with self._connection() as conn:
            return _PgSession(conn).execute(sql, args)

    def query(self, sql: str, args: Args = ()) -> list[Row]:
        session = self._current()
        if session is not None:
            return session.query(sql, args)
        with self._connection() as conn:
            return _PgSession(conn).query(sql, args)

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Session]:
        outer = self._current()
        if outer is not None:
            yield outer
            return
        with self._connection() as conn:
            try:
                with conn.transaction():
                    if readonly:
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    session = self._local.session = _PgSession(conn)
                    yield session
            finally:
                self._local.session = None

    def ping(self) -> None:
        with self._connection(timeout=PING_TIMEOUT) as conn:
            conn.execute("SELECT 1")

    # ------------------------------------------------------------ schema

    @staticmethod
    def _migrate(conn: Connection) -> None:
        """Apply the missing migrations in one transaction, under an advisory lock: replicas starting at once
        wait for each other, and the second finds nothing left to do."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                         "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            row = conn.execute("SELECT coalesce(max(version), 0) AS version FROM schema_version").fetchone()
            version = int(row["version"]) if row else 0
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number > version:
                    conn.execute(migration.postgres)  # no parameters: several statements in one go
                    conn.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                                 [number, migration.name])

    @property
    def schema_version(self) -> int:
        row = self.query_one("SELECT coalesce(max(version), 0) AS version FROM schema_version")
        return int(row["version"]) if row else 0

    def close(self) -> None:
        self.pool.close()
