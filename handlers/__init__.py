"""Slack listeners, one module per surface: each maps Slack ids to small callbacks that ack, build the request
and hand it to the workflows in `bot.slack`. Every listener reads the payload middleware parsed
(`context["payload"]`, `bot.slack.payloads`)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.operations.context import Services
from bot.slack.assistant import Assistant
from handlers import actions, approvals, assistant, commands, events, options, views


def register_listeners(app: AsyncApp, services: Services, helper: Assistant) -> None:
    for module in (commands, actions, approvals, views, events, options):
        module.register(app, services)
    assistant.register(app, helper)
