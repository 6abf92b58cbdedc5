"""Slack listeners, one module per surface, each with `register(app, services)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.operations.context import Services
from handlers import actions, approvals, commands, events, home, options, provision_modal, views


def register_listeners(app: AsyncApp, services: Services) -> None:
    events.register(app, services)  # first: its middleware dedupes redelivered events
    commands.register(app, services)
    actions.register(app, services)
    actions.register_row_menu(app, services)
    approvals.register(app, services)
    views.register(app, services)
    provision_modal.register(app, services)
    home.register(app, services)
    options.register(app, services)
