"""The demo stack behind `projectops demo` / `make demo`: emulated back ends, Slack emulator + playground, the bot.

Everything runs in background threads on 127.0.0.1; `Demo.stop()` stops it all. The sandbox
imports happen inside `start_demo`, so the bot itself never depends on the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Env, load_config

SIGNING_SECRET = "demo-signing-secret"
BOT_TOKEN = "xoxb-demo-token"


@dataclass
class Demo:
    """The running demo: the playground is at `url`."""

    url: str
    bot_url: str
    backends_url: str
    config_path: Path
    slack: Any
    project: Any
    servers: tuple[Any, ...]

    def stop(self) -> None:
        """Stop the bot, the Slack emulator and the back ends (in that order)."""
        for server in self.servers:
            server.stop()


def start_demo(workdir: Path, port: int | None = None, db_path: Path | None = None) -> Demo:
    """Start the whole demo; `port` is the playground's (a free one when None)."""
    from bot.app import build, http_app
    from sandbox.backends.server import create_emulators_app, demo_config, emulator_apps
    from sandbox.serving import serve_in_thread
    from sandbox.slack import SlackEmulator

    workdir.mkdir(parents=True, exist_ok=True)
    backends = serve_in_thread(create_emulators_app("demo"))
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(demo_config(backends.url, sorted(emulator_apps("empty")))))
    slack = SlackEmulator()
    slack.add_channel("C0OPS", "ops")
    slack_server = serve_in_thread(slack.app, port=port)
    slack.base_url = slack_server.url
    env = Env(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_server.url + "/api/",
        projectops_config=config_path,
        projectops_db=db_path or workdir / "projectops.db",
    )
    project = build(env, load_config(config_path))
    bot = serve_in_thread(http_app(project))
    slack.connect_app(bot.url + "/slack/events", SIGNING_SECRET)
    return Demo(
        url=slack_server.url + "/",
        bot_url=bot.url,
        backends_url=backends.url,
        config_path=config_path,
        slack=slack,
        project=project,
        servers=(bot, slack_server, backends),
    )
