"""`projectops run | config check | emulate | demo`."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
import yaml

from bot.settings import AppConfig, ConfigError, Env, load_config

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="projectops: run projects from Slack.")
config_cli = typer.Typer(no_args_is_help=True, help="Inspect the configuration.")
cli.add_typer(config_cli, name="config")
audit_cli = typer.Typer(no_args_is_help=True, help="Work with the audit log.")
cli.add_typer(audit_cli, name="audit")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"projectops: {message}", err=True)
    raise typer.Exit(code)


def load_env_and_config() -> tuple[Env, AppConfig]:
    env = Env()
    try:
        return env, load_config(env.projectops_config)
    except ConfigError as exc:
        fail(f"config error in {exc.source}: {exc.key}: expected {exc.expected}")
    raise AssertionError("unreachable")


def setup_logging(level: str, fmt: str = "text") -> None:
    """Secrets scrubbed from every line; `fmt` json: one object a line with the audit and Slack request ids."""
    from bot.logs import FORMATS
    from bot.logs import setup_logging as configure

    if fmt not in FORMATS:
        fail(f"--log-format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    configure(level, fmt)


def say(line: str, log_format: str) -> None:
    """A start-up line on stderr: as it is in the text format, a log line (JSON) in the json one."""
    if log_format == "json":
        from bot.logs import announce

        announce(line)
    else:
        typer.echo(line, err=True)


def ensure_port_free(host: str, port: int) -> None:
    """Exit with one line, not uvicorn's traceback, when something already listens on `port`."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except PermissionError:
            fail(f"port {port} needs privileges to bind: pass --port with a port above 1023")
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} is in use: pass --port or stop what is using it")
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


@cli.command()
def run(
    http: Annotated[bool, typer.Option("--http", help="Serve HTTP even if SLACK_APP_TOKEN is set.")] = False,
    port: Annotated[int, typer.Option(help="HTTP port.")] = 3000,
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "0.0.0.0",
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
    log_format: Annotated[str, typer.Option(
        envvar="PROJECTOPS_LOG_FORMAT",
        help="text, or json: one JSON object a line (time, level, logger, message, audit_id, slack_request_id).",
    )] = "text",
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on /slack/events."""
    from bot.app import StartupError, build, http_app, settle_heap, start_background, stop_background

    setup_logging(log_level, log_format)
    env, config = load_env_and_config()
    if http or env.slack_app_token is None:
        ensure_port_free(host, port)  # before anything is built: a taken port is one line, not a traceback
    try:
        project = build(env, config)
    except StartupError as exc:
        fail(str(exc))
    settle_heap()
    if env.slack_app_token is not None and not http:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        if not env.slack_app_token.get_secret_value().startswith("xapp-"):
            fail("SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write.")
        say("projectops: Socket Mode", log_format)
        app_token = env.slack_app_token.get_secret_value()

        async def socket_mode() -> None:
            handler = AsyncSocketModeHandler(project.bolt, app_token)  # needs the running loop
            background = start_background(project)
            stopping = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stopping.set)
            try:
                await handler.connect_async()
                await stopping.wait()
                typer.echo("projectops: stopping (finishing the work in flight)", err=True)
                await handler.close_async()  # no new envelopes; Slack sends them to the other connections
            finally:
                await stop_background(project, background)

        asyncio.run(socket_mode())
        return
    say(f"projectops: HTTP on {host}:{port} (POST /slack/events, GET /healthz, /readyz, /metrics)", log_format)
    # json: uvicorn's own loggers go through the handler above instead of its text ones
    uvicorn.run(http_app(project), host=host, port=port, log_level="warning",
                log_config=None if log_format == "json" else uvicorn.config.LOGGING_CONFIG)


@config_cli.command("check")
def config_check() -> None:
    """Validate the config and print the targets with secrets redacted."""
    env, config = load_env_and_config()
    typer.echo(f"config: {env.projectops_config or '(none: no targets)'}")
    database = "PostgreSQL (PROJECTOPS_DATABASE_URL)" if env.projectops_database_url else env.projectops_db
    typer.echo(f"database: {database}")
    for target in config.targets.values():
        typer.echo(json.dumps(target.redacted(), sort_keys=True))
    roles = config.roles
    typer.echo(
        f"roles: admin={len(roles.admin)} operator={len(roles.operator)} viewer={len(roles.viewer)} "
        f"default={roles.default}"
    )


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: exit 1 and list every row that was changed or removed."""
    from bot.store import Store, StoreError

    env = Env()
    url = env.projectops_database_url.get_secret_value() if env.projectops_database_url else None
    if not url and not env.projectops_db.exists():
        fail(f"no audit database at {env.projectops_db} (set PROJECTOPS_DB, or PROJECTOPS_DATABASE_URL)")
    try:
        store = Store.connect(database_url=url, sqlite_path=env.projectops_db)
        try:
            report = store.audit.verify()
        finally:
            store.close()
    except StoreError as exc:
        fail(f"cannot read the audit log: {exc}")
        raise AssertionError("unreachable") from exc
    for problem in report.problems:
        typer.echo(f"TAMPERED: {problem}")
    if not report.ok:
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {report.checked} completed rows chained")


@cli.command()
def emulate(
    port: Annotated[int, typer.Option(help="Port for all emulators.")] = 8700,
    seed: Annotated[str, typer.Option(help="demo or empty")] = "demo",
    config_out: Annotated[Path | None, typer.Option(help="Also write a projectops config here.")] = None,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
) -> None:
    """Serve the back-end emulators under one port: /polaris, /phoenix, /terraform, /matillion."""
    from sandbox.backends.server import create_emulators_app, demo_config, emulator_apps

    if seed not in ("demo", "empty"):
        fail("--seed must be demo or empty")
    ensure_port_free(host, port)
    if config_out is not None:
        kinds = sorted(emulator_apps("empty"))
        config_out.write_text(yaml.safe_dump(demo_config(f"http://127.0.0.1:{port}", kinds), sort_keys=False))
        typer.echo(f"projectops: wrote {config_out}", err=True)
    typer.echo(f"projectops: emulators on http://{host}:{port}", err=True)
    uvicorn.run(create_emulators_app(seed), host=host, port=port, log_level="warning")


@cli.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the Slack emulator / playground.")] = 8600,
) -> None:
    """Emulated back ends, the Slack emulator with the playground page and the bot; Ctrl-C stops everything."""
    from bot.demo import SIGNING_SECRET, start_demo

    setup_logging("warning")
    ensure_port_free("127.0.0.1", port)
    try:
        running = start_demo(Path(os.environ.get("PROJECTOPS_DEMO_DIR", ".demo")), port=port)
    except RuntimeError as exc:  # a server did not start (its port taken between the check and the bind)
        fail(f"the demo could not start: {exc}")
        raise AssertionError("unreachable") from exc
    typer.echo(f"projectops demo: open the playground at {running.url}")
    typer.echo("  just ask   in 'projectops · Messages', in plain words: how many phoenix projects are there?")
    typer.echo(f"  bot        {running.bot_url}/slack/events  (signing secret: {SIGNING_SECRET})")
    typer.echo(f"  back ends  {running.backends_url}/{{polaris,phoenix,terraform,matillion}}")
    typer.echo(f"  config     {running.config_path}")
    typer.echo("Ctrl-C stops everything.")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    running.stop()


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
