"""Helpers of the store's tests: SQL around the app, and the schema as each database describes it."""

from __future__ import annotations

import sqlite3

import psycopg

from bot.store import Store


def as_owner(store_url: str, *statements: str) -> None:
    """Run SQL straight on the database, around the app (someone with file access, or the database's owner)."""
    if store_url.startswith("postgresql://"):
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
