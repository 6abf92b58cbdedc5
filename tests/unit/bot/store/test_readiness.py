"""The app's database seam: PROJECTOPS_DATABASE_URL picks PostgreSQL (no SQLite file), /healthz is liveness,
/readyz answers 503 while the database cannot be reached and 200 again once it is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient
from store_helpers import Proxy, free_port

from bot.app import StartupError, build, http_app, open_store
from bot.settings import AppConfig, Env
from bot.store import Store


def env_for(tmp_path: Path, database_url: str | None) -> Env:
    return Env(slack_bot_token=SecretStr("xoxb-test"), slack_signing_secret=SecretStr("s" * 32),
               slack_api_url="http://127.0.0.1:9/", projectops_db=tmp_path / "projectops.db",
               projectops_database_url=SecretStr(database_url) if database_url is not None else None)


def test_the_url_puts_the_state_in_postgresql_and_no_sqlite_file_is_made(pg_url: str, tmp_path: Path) -> None:
    store = open_store(env_for(tmp_path, pg_url))
    try:
        assert store.kind == "postgresql"
    finally:
        store.close()
    assert not (tmp_path / "projectops.db").exists()
    sqlite = open_store(env_for(tmp_path, ""))  # empty: the SQLite default
    assert sqlite.kind == "sqlite" and (tmp_path / "projectops.db").exists()
    sqlite.close()


def test_an_unreachable_database_stops_start_up_with_a_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://ops:s3cret-pw@127.0.0.1:{free_port()}/projectops"
    with pytest.raises(StartupError, match="cannot open the database: the database postgresql://ops@127.0.0.1:") as e:
        open_store(env_for(tmp_path, url))
    assert "s3cret-pw" not in str(e.value)


def test_readyz_follows_the_database_and_healthz_stays_alive(pg_url: str, tmp_path: Path) -> None:
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    proxy = Proxy(port)
    store = Store.open(pg_url.replace(f":{port}/", f":{proxy.port}/"))
    project = build(env_for(tmp_path, None), AppConfig(), store=store)
    client = TestClient(http_app(project))  # no `with`: the background duties (lifespan) are not started
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"ready": True, "db": "ok", "database": "postgresql"}
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["ok"] is True
        assert set(health.json()) == {"ok", "db", "targets", "operations"}
        proxy.cut()
        down = client.get("/readyz")
        assert down.status_code == 503 and down.json()["ready"] is False
        assert "PROJECTOPS_DATABASE_URL" in down.json()["error"]
        assert client.get("/healthz").status_code == 200  # alive: a load balancer must not restart it for this
        proxy.restore()
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "/readyz did not come back with the database"
            time.sleep(0.1)
    finally:
        client.close()
        store.close()
        proxy.close()
    assert not (tmp_path / "projectops.db").exists()
