"""A real PostgreSQL for the tests: Debian's binaries, one throwaway server per test session on 127.0.0.1.

`initdb` into a temporary folder, `pg_ctl start` on a free port (fsync off: nothing here must survive a crash),
one migrated template database, and a fresh database per test cloned from it (`CREATE DATABASE … TEMPLATE`,
made ahead by a background thread while the previous test runs, so a test waits for none).
As root (CI, these machines) the server runs as the `postgres` user through `runuser`, since PostgreSQL refuses
to run as root. No binaries: the tests that need PostgreSQL are skipped on a developer's machine, but fail where
PostgreSQL is required (`CI` set, or `PROJECTOPS_REQUIRE_POSTGRES=1`, as `.ci/run` does), since `.ci/run`
installs Debian's `postgresql` package.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
TEMPLATE = "projectops_template"


def required() -> bool:
    """True where a missing PostgreSQL must fail the tests instead of skipping them (CI, `.ci/run`)."""
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("PROJECTOPS_REQUIRE_POSTGRES") == "1"


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: $PROJECTOPS_PG_BINDIR, Debian's newest, or the PATH."""
    given = os.environ.get("PROJECTOPS_PG_BINDIR")
    candidates = [Path(given)] if given else []

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    candidates += sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin")), key=version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary folder; `database()` hands out fresh databases."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
        self.root = Path(tempfile.mkdtemp(prefix="projectops-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._names = itertools.count(1)
        self._ready: queue.Queue[str] = queue.Queue(maxsize=2)
        self._stopping = threading.Event()
        if self.as_postgres:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(self.root, user.pw_uid, user.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
                  "--no-sync")
        for attempt in range(3):
            self.port = free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
                       "-c shared_buffers=32MB")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "30",
                          "-o", options, "start")
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        from bot.store import Store

        Store.open(self.url(TEMPLATE)).close()  # migrated once; every test's database is a copy
        threading.Thread(target=self._make_ahead, name="pg-databases", daemon=True).start()
        return self

    def _make_ahead(self) -> None:
        while not self._stopping.is_set():
            try:
                url = self._create(TEMPLATE)
            except Exception:  # the server is stopping, or broken: database() makes its own and says why
                return
            while not self._stopping.is_set():
                try:
                    self._ready.put(url, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _create(self, template: str) -> str:
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def database(self, *, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or an empty one); returns its URL."""
        if migrated:
            try:
                return self._ready.get(timeout=30)
            except queue.Empty:
                pass
        return self._create(TEMPLATE if migrated else "template0")

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer | None]:
    """A started server, or None when there are no binaries and PostgreSQL is not required here."""
    bindir = find_bindir()
    if bindir is None:
        if required():
            raise RuntimeError(
                "PostgreSQL is required here (CI) but initdb/pg_ctl/postgres were not found: install Debian's "
                "postgresql package (`apt-get install -y postgresql`; .ci/run does it) or set PROJECTOPS_PG_BINDIR")
        yield None
        return
    server = PostgresServer(bindir)
    try:
        yield server.start()
    finally:
        server.stop()
