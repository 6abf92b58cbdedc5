"""The console script as a user runs it: start-up errors, config check, and HTTP mode answering Slack."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import loopback
import yaml

from sandbox.serving import free_port
from sandbox.slack import SlackEmulator, SlackRequestBuilder

PROJECTOPS = [sys.executable, "-m", "bot.cli"]


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without SLACK_* and PROJECTOPS_*, plus `env`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROJECTOPS_"))}, **env}


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([*PROJECTOPS, *args], capture_output=True, text=True, env=clean_env(**(env or {})),
                          timeout=timeout)


@dataclass
class Served:
    url: str
    stderr: str = ""  # what the process wrote to stderr, once it has stopped


@contextmanager
def serving_http(env: dict[str, str], *args: str) -> Iterator[Served]:
    """`projectops run --http` with `env` (and more `args`) on a free port of 127.0.0.1, once /healthz answers;
    stopped on leaving, its stderr kept in `Served.stderr`."""
    port = free_port()
    process = subprocess.Popen([*PROJECTOPS, "run", "--http", "--port", str(port), "--host", "127.0.0.1", *args],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if loopback.get(f"{served.url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "projectops did not start"
            time.sleep(0.1)
        yield served
    finally:
        process.terminate()
        _, served.stderr = process.communicate(timeout=10)


def test_missing_signing_secret_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("run", "--http", env={"SLACK_BOT_TOKEN": "xoxb-1", "PROJECTOPS_DB": str(tmp_path / "d.db")})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "SLACK_SIGNING_SECRET" in result.stderr


def test_bad_config_names_file_key_and_expectation(tmp_path: Path) -> None:
    config = tmp_path / "bad.yml"
    config.write_text(yaml.safe_dump({"targets": {"pol": {"kind": "polaris", "url": "http://x",
                                                           "credentials": {"api_key": "inline-secret"}}}}))
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PROJECTOPS_CONFIG": str(config)}
    result = run_cli("run", "--http", env=env)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and str(config) in line and "targets.pol.credentials.api_key" in line
    assert "inline-secret" not in line


def test_config_check_redacts_secrets(tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(yaml.safe_dump({"targets": {"pol": {"kind": "polaris", "url": "http://x",
                                                           "credentials": {"api_key": "${POL_KEY}"}}}}))
    result = run_cli("config", "check", env={"PROJECTOPS_CONFIG": str(config), "POL_KEY": "very-secret-key"})
    assert result.returncode == 0, result.stderr
    assert '"api_key": "***"' in result.stdout and "very-secret-key" not in result.stdout


def test_run_http_answers_a_signed_help(slack: SlackEmulator, tmp_path: Path) -> None:
    env = clean_env(SLACK_BOT_TOKEN="xoxb-cli-test", SLACK_SIGNING_SECRET="cli-secret", SLACK_API_URL=slack.api_url,
                    PROJECTOPS_DB=str(tmp_path / "cli.db"))
    with serving_http(env) as served:
        builder = SlackRequestBuilder("cli-secret", response_url_base=slack.response_url_base)
        signed = builder.slash_command("help")
        response = loopback.post(f"{served.url}/slack/events", content=signed.body, headers=signed.headers)
        assert response.status_code == 200
        rid = builder.last_response_url_id
        call = slack.wait_for_sync("response_url", lambda c: c.path == f"/response_url/{rid}", 10)
        assert call.params["response_type"] == "ephemeral" and "/projects whoami" in str(call.params["blocks"])


def test_socket_mode_answers_help(slack: SlackEmulator, tmp_path: Path) -> None:
    env = clean_env(SLACK_BOT_TOKEN="xoxb-socket-test", SLACK_SIGNING_SECRET="unused-in-socket-mode",
                    SLACK_APP_TOKEN="xapp-1-A0PROJECTOPS-socket-test", SLACK_API_URL=slack.api_url,
                    PROJECTOPS_DB=str(tmp_path / "socket.db"))
    process = subprocess.Popen([*PROJECTOPS, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not slack.socket_mode.connected:
            assert time.monotonic() < deadline and process.poll() is None, "projectops did not connect"
            time.sleep(0.1)
        payload = {"team_id": "T0TEAM", "channel_id": "C0OPS", "user_id": "U0ADMIN", "command": "/projects",
                   "text": "help", "response_url": slack.response_url("socket1"), "trigger_id": "1.2.abc"}
        envelope_id = slack.socket_mode.send("slash_commands", payload)
        call = slack.wait_for_sync("response_url", lambda c: c.path == "/response_url/socket1", 30)
        assert "/projects whoami" in str(call.params["blocks"])
        deadline = time.monotonic() + 10
        while envelope_id not in slack.socket_mode.acks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert envelope_id in slack.socket_mode.acks
    finally:
        process.terminate()
        process.wait(10)


def test_a_taken_port_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PROJECTOPS_DB": str(tmp_path / "d.db"),
               "PROJECTOPS_DEMO_DIR": str(tmp_path / "demo")}
        for args in (["run", "--http", "--port", port],  # the default host, 0.0.0.0, overlaps 127.0.0.1
                     ["run", "--http", "--port", port, "--host", "127.0.0.1"],
                     ["emulate", "--port", port],
                     ["demo", "--port", port]):
            result = run_cli(*args, env=env)
            assert result.returncode != 0, (args, result.stdout)
            assert result.stderr.strip() == f"projectops: port {port} is in use: pass --port or stop what is using it"
            assert "Traceback" not in result.stdout + result.stderr


def test_run_log_format_json_writes_one_object_a_line(slack: SlackEmulator, tmp_path: Path) -> None:
    import json
    from urllib.parse import parse_qs

    env = clean_env(SLACK_BOT_TOKEN="xoxb-json-log-test-token", SLACK_SIGNING_SECRET="json-log-secret",
                    SLACK_API_URL=slack.api_url, PROJECTOPS_DB=str(tmp_path / "json.db"), PROJECTOPS_LOG_FORMAT="json")
    with serving_http(env, "--log-level", "debug") as served:
        builder = SlackRequestBuilder("json-log-secret", response_url_base=slack.response_url_base)
        signed = builder.slash_command("help")
        trigger_id = parse_qs(signed.body if isinstance(signed.body, str) else signed.body.decode())["trigger_id"][0]
        assert loopback.post(f"{served.url}/slack/events", content=signed.body,
                             headers=signed.headers).status_code == 200
        rid = builder.last_response_url_id
        slack.wait_for_sync("response_url", lambda c: c.path == f"/response_url/{rid}", 10)
    stderr = served.stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # every line is a JSON object
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["message"].startswith("projectops: HTTP on") for line in lines)
    assert any(line.get("slack_request_id") == trigger_id for line in lines)  # Bolt's own debug lines, at least
    assert "xoxb-json-log-test-token" not in stderr and "json-log-secret" not in stderr
