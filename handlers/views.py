"""Modal submissions: the typed-name confirmation, create, edit (picker and form), provisioning steps, resume."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import confirm, forms, provisioning
from bot.ui import ids


def register(app: AsyncApp, services: Services) -> None:
    @app.view(ids.TYPED_CALLBACK)
    async def on_typed_confirmation(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any]) -> None:
        await (await confirm.typed_submitted(services, context["actor"], view)).run(ack)

    @app.view(ids.CREATE_CALLBACK)
    async def on_create(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any],
                        client: AsyncWebClient) -> None:
        await forms.create_submitted(services, context["actor"], view, client).run(ack)

    @app.view(ids.EDIT_PICK_CALLBACK)
    async def on_edit_pick(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any],
                           client: AsyncWebClient) -> None:
        await forms.edit_picked(services, context["actor"], view, client).run(ack)

    @app.view(ids.EDIT_CALLBACK)
    async def on_edit(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any], client: AsyncWebClient) -> None:
        await forms.edit_submitted(services, context["actor"], view, client).run(ack)

    @app.view(ids.PROVISION_CALLBACK)
    async def on_provision_step(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any],
                                client: AsyncWebClient) -> None:
        await (await provisioning.step_submitted(services, context["actor"], view, client)).run(ack)

    @app.view(ids.PROVISION_RESUME_CALLBACK)
    async def on_resume(ack: AsyncAck, view: dict[str, Any], context: dict[str, Any],
                        client: AsyncWebClient) -> None:
        await provisioning.resume_submitted(services, context["actor"], view, client).run(ack)
