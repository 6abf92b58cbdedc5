"""Secrets never reach the audit database, the logs or anything sent to Slack."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from rig import Bot

SECRETS = {"POLARIS_API_KEY": "pk-SECRET-polaris-4242", "TFE_TOKEN": "tfe-SECRET-token-4242"}


@pytest.fixture
def secret_bot(make_bot, demo_config_dict):
    # The rig loads the config with an empty environment, so the values ride in as the references' defaults.
    config = json.loads(json.dumps(demo_config_dict))
    config["targets"]["polaris"]["credentials"] = {"api_key": "${POLARIS_API_KEY:-" + SECRETS["POLARIS_API_KEY"] + "}"}
    config["targets"]["terraform"]["credentials"] = {"token": "${TFE_TOKEN:-" + SECRETS["TFE_TOKEN"] + "}"}
    with make_bot(config) as bot:
        yield bot


def test_secrets_stay_out_of_db_logs_and_slack(secret_bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot = secret_bot
    caplog.set_level(logging.DEBUG)
    leaked_token = "xoxb-123456789012-SECRETSECRET"
    bot.run("targets")
    bot.run("whoami")
    bot.command(f"audit {SECRETS['POLARIS_API_KEY']}")
    bot.command(f"nonsense {leaked_token} {SECRETS['TFE_TOKEN']}")
    bot.run("audit last 20")
    bot.store.database.conn.execute("PRAGMA wal_checkpoint(FULL)")
    haystacks = {
        "database": b"".join(p.read_bytes() for p in Path(bot.store.path).parent.glob("projectops.db*")).decode(
            "utf-8", "replace"),
        "logs": caplog.text,
        "slack": json.dumps([c.params for c in bot.slack.calls], default=str),
    }
    for where, text in haystacks.items():
        for secret in [*SECRETS.values(), leaked_token]:
            assert secret not in text, f"{secret} leaked into {where}"
