"""`projectops run | config check | emulate | demo`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
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


def setup_logging(level: str) -> None:
    from bot.redact import scrub

    class ScrubFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg = scrub(record.getMessage())
            record.args = ()
            return True

    handler = logging.StreamHandler()
    handler.addFilter(ScrubFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


@cli.command()
def run(
    http: Annotated[bool, typer.Option("--http", help="Serve HTTP even if SLACK_APP_TOKEN is set.")] = False,
    port: Annotated[int, typer.Option(help="HTTP port.")] = 3000,
    host: Annotated[str, typer.Option(help="HTTP bind address.")] = "0.0.0.0",
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on /slack/events."""
    from bot.app import StartupError, build, http_app, start_background, stop_background

    setup_logging(log_level)
    env, config = load_env_and_config()
    try:
        project = build(env, config)
    except StartupError as exc:
        fail(str(exc))
    if env.slack_app_token is not None and not http:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        if not env.slack_app_token.get_secret_value().startswith("xapp-"):
            fail("SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write.")
        typer.echo("projectops: Socket Mode", err=True)
        app_token = env.slack_app_token.get_secret_value()

        async def socket_mode() -> None:
            handler = AsyncSocketModeHandler(project.bolt, app_token)  # needs the running loop
            background = start_background(project)  # keep references: tasks must not be collected
            try:
                await handler.start_async()
            finally:
                await stop_background(project, background)

        asyncio.run(socket_mode())
        return
    typer.echo(f"projectops: HTTP on {host}:{port} (POST /slack/events, GET /healthz)", err=True)
    uvicorn.run(http_app(project), host=host, port=port, log_level="warning")


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
    running = start_demo(Path(os.environ.get("PROJECTOPS_DEMO_DIR", ".demo")), port=port)
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
