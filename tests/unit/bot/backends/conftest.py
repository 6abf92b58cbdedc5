"""Phoenix servers for the client contract tests: the emulator, and the real `arize-phoenix` server.

`phoenix_env` is parametrized: every test using it runs once against the emulator and once
(marked slow) against real Phoenix servers, started on first use and shared by the session:
one without auth, one with auth (admin secret as a bearer token plus a MEMBER user's API key),
and one whose storage capacity is so small that inserts are refused with 507.

The real server is installed into `.cache/phoenix-venv` (about 60 s and 850 MB the first time, then reused; see
`phoenix_install.py`). Set `PROJECTOPS_PHOENIX_BIN` to use another `phoenix` executable (its venv's python runs
them).
The three servers are children of one launcher (`phoenix_launcher.py`) that imports Phoenix once: about half the
CPU of three separate `phoenix serve`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import loopback
import pytest
from phoenix_install import InstallFailed, phoenix_python
from starlette.applications import Starlette
from starlette.routing import Mount

from sandbox.backends.phoenix import create_app
from sandbox.serving import free_port, serve_in_thread

LAUNCHER = Path(__file__).with_name("phoenix_launcher.py")
START_TIMEOUT = 300  # three start at once, beside a busy test worker on 2 cores


@dataclass
class PhoenixEnv:
    """Where a Phoenix (real or emulated) answers, and with which tokens."""

    kind: str  # "emulator" | "real"
    url: str  # auth off
    auth_url: str  # auth on
    admin_token: str
    member_token: str
    full_url: str  # storage full: POST/PUT give 507
    logs: list[Path] = field(default_factory=list)

    @property
    def real(self) -> bool:
        return self.kind == "real"


# ---------------------------------------------------------------- the emulator


@pytest.fixture(scope="session")
def phoenix_emulator_env() -> Iterator[PhoenixEnv]:
    admin, member = f"admin-{uuid.uuid4().hex}", f"member-{uuid.uuid4().hex}"
    app = Starlette(routes=[
        Mount("/open", app=create_app(seed="empty")),
        Mount("/auth", app=create_app(seed="empty", admin_token=admin, member_tokens=[member])),
        Mount("/full", app=create_app(seed="empty", storage_full=True)),
    ])
    handle = serve_in_thread(app)
    yield PhoenixEnv("emulator", f"{handle.url}/open", f"{handle.url}/auth", admin, member, f"{handle.url}/full")
    handle.stop()


# ---------------------------------------------------------------- the real server


class PhoenixServer:
    """One real Phoenix server's configuration: a free loopback port, its own temporary folder and database."""

    def __init__(self, name: str, extra_env: dict[str, str]) -> None:
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"phoenix-{name}-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "server.log"
        self.env = {
            "PHOENIX_PORT": str(self.port),
            "PHOENIX_GRPC_PORT": str(free_port()),
            "PHOENIX_SQL_DATABASE_URL": f"sqlite:///{self.workdir / 'phoenix.db'}",
            **extra_env,
        }

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text()[-size:]
        except OSError:
            return ""


class PhoenixLauncher:
    """`phoenix_launcher.py`: the servers as children of one process that imports Phoenix once."""

    def __init__(self, python: Path, servers: list[PhoenixServer]) -> None:
        self.servers = servers
        self.workdir = Path(tempfile.mkdtemp(prefix="phoenix-launcher-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "OTEL_"))}
        env.update({
            "PHOENIX_WORKING_DIR": str(self.workdir),  # shared; each server has its own database above
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_TELEMETRY_ENABLED": "false",
            # what the contract tests never reach, and a third of the start-up's CPU
            "PHOENIX_ENABLE_MCP_SERVER": "false",
            "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
            "PHOENIX_LOG_MIGRATIONS": "false",
        })
        self.log_path = self.workdir / "launcher.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        configs = [json.dumps({"log": str(server.log_path), "env": server.env}) for server in servers]
        self.process = subprocess.Popen([str(python), str(LAUNCHER), *configs], env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, cwd=self.workdir)

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.servers)
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Phoenix launcher exited with {self.process.returncode}:\n{self.tails()}")
            for server in list(waiting):
                try:
                    if loopback.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                        waiting.remove(server)
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        if waiting:
            raise RuntimeError(f"Phoenix did not become healthy within {timeout:.0f} s:\n{self.tails()}")

    def tails(self) -> str:
        launcher = self.log_path.read_text()[-2000:] if self.log_path.exists() else ""
        return "\n".join([f"launcher: {launcher}"] + [f"{s.name}: {s.tail()}" for s in self.servers])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
        for folder in [self.workdir, *(server.workdir for server in self.servers)]:
            shutil.rmtree(folder, ignore_errors=True)


def _secret() -> str:
    """≥32 characters with a digit and a lowercase letter, as Phoenix requires."""
    return "s3cret" + secrets.token_hex(20)


def member_api_key(url: str, admin_token: str) -> str:
    """Create a MEMBER user, log in as them and mint a user API key (notes/backends.md 1e)."""
    email, password = f"member-{uuid.uuid4().hex[:8]}@example.com", "Member-pass-" + secrets.token_hex(6)
    with loopback.Client(base_url=url, timeout=20) as http:
        created = http.post(
            "/v1/users",
            headers={"Authorization": f"Bearer {admin_token}"},
            json={"user": {"email": email, "username": email.split("@")[0], "role": "MEMBER",
                           "auth_method": "LOCAL", "password": password},
                  "send_welcome_email": False},
        )
        created.raise_for_status()
        http.post("/auth/login", json={"email": email, "password": password}).raise_for_status()
        key = http.post("/v1/user/api_keys", json={"data": {"name": "projectops-tests"}})
        key.raise_for_status()
        return key.json()["data"]["key"]


@pytest.fixture(scope="session")
def real_phoenix_env() -> Iterator[PhoenixEnv]:
    if os.environ.get("PROJECTOPS_SKIP_REAL_PHOENIX"):
        pytest.skip("PROJECTOPS_SKIP_REAL_PHOENIX is set")
    try:
        python = phoenix_python()
    except InstallFailed as exc:
        pytest.fail(str(exc))
    admin_token = _secret()
    servers = {
        "open": PhoenixServer("open", {}),
        "auth": PhoenixServer("auth", {
            "PHOENIX_ENABLE_AUTH": "true",
            "PHOENIX_SECRET": _secret(),
            "PHOENIX_ADMIN_SECRET": admin_token,
            "PHOENIX_DISABLE_RATE_LIMIT": "true",
        }),
        "full": PhoenixServer("full", {
            "PHOENIX_DATABASE_ALLOCATED_STORAGE_CAPACITY_GIBIBYTES": "0.0001",
            "PHOENIX_DATABASE_USAGE_INSERTION_BLOCKING_THRESHOLD_PERCENTAGE": "50",
        }),
    }
    launcher = PhoenixLauncher(python, list(servers.values()))
    try:
        launcher.wait_healthy()
        member = member_api_key(servers["auth"].url, admin_token)
        yield PhoenixEnv("real", servers["open"].url, servers["auth"].url, admin_token, member,
                         servers["full"].url, [s.log_path for s in servers.values()])
    finally:
        launcher.stop()


# ---------------------------------------------------------------- both


@pytest.fixture(params=["emulator", pytest.param("real", marks=pytest.mark.slow)])
def phoenix_env(request: pytest.FixtureRequest) -> PhoenixEnv:
    """The same contract, run against the emulator and against the real server."""
    return request.getfixturevalue(f"{'phoenix_emulator' if request.param == 'emulator' else 'real_phoenix'}_env")
