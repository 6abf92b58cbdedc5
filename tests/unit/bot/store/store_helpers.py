"""Helpers of the store's tests: SQL around the app, and the schema as each database describes it."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading

from bot.store import Store


def as_owner(store_url: str, *statements: str) -> None:
    """Run SQL straight on the database, around the app (someone with file access, or the database's owner)."""
    if store_url.startswith("postgresql://"):
        import psycopg  # only here: most runs have no PostgreSQL, and every xdist worker imports this module

        with psycopg.connect(store_url, autocommit=True) as pg:
            for statement in statements:
                pg.execute(statement)  # type: ignore[arg-type]  # test SQL, not user input
        return
    conn = sqlite3.connect(store_url)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def schema(store: Store) -> dict[str, list[str]]:
    """Every table of the store's database with its columns (what a query can rely on)."""
    db = store.database
    if store.kind == "sqlite":
        names = [r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
                 if not r["name"].startswith("sqlite_")]
        return {n: sorted(r["name"] for r in db.query(f"PRAGMA table_info([{n}])")) for n in names}
    rows = db.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'")
    tables: dict[str, list[str]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append(row["column_name"])
    tables.pop("schema_version", None)  # PostgreSQL's migration bookkeeping (SQLite's is PRAGMA user_version)
    return {name: sorted(columns) for name, columns in tables.items()}


def index_names(store: Store, table: str) -> set[str]:
    if store.kind == "sqlite":
        return {r["name"] for r in store.database.query(f"PRAGMA index_list([{table}])")}
    return {r["indexname"] for r in store.database.query("SELECT indexname FROM pg_indexes WHERE tablename = ?",
                                                         [table])}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proxy:
    """A TCP proxy to a local port that can be cut (a database outage, a partition) and restored."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.open = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.open = False
        with self.lock:
            for pair in self.pairs:
                for end in pair:
                    with contextlib.suppress(OSError):
                        end.shutdown(socket.SHUT_RDWR)
            self.pairs.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()
