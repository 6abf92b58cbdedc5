"""Buttons and menus: Confirm / Cancel, Share, Previous / Next, a row's menu, Create, the form's target, Resume."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import confirm, dispatch, forms, provisioning
from bot.ui import ids


def register(app: AsyncApp, services: Services) -> None:
    @app.action(ids.CONFIRM_ACTION)
    async def on_confirm(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                         respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        await confirm.confirm_clicked(services, context["actor"], action.get("value"), respond=respond, client=client,
                                      trigger_id=body.get("trigger_id", ""), response_url=body.get("response_url", ""))

    @app.action(ids.CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                        respond: AsyncRespond) -> None:
        await ack()
        await confirm.cancel_clicked(services, context["actor"], action.get("value"), respond=respond)

    @app.action(ids.SHARE_ACTION)
    async def on_share(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], respond: AsyncRespond,
                       client: AsyncWebClient) -> None:
        await ack()
        await dispatch.share(services, context["actor"], body.get("message"), respond=respond, client=client)

    @app.action(ids.RERUN_ACTION)
    async def on_rerun(ack: AsyncAck, action: dict[str, Any], context: dict[str, Any],
                       respond: AsyncRespond) -> None:
        await ack()
        await dispatch.rerun(services, context["actor"], action.get("value"), respond=respond)

    @app.action(ids.ROW_ACTION)
    async def on_row(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                     respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        chosen = action.get("selected_option") if isinstance(action.get("selected_option"), dict) else {}
        await dispatch.row_chosen(services, context["actor"], chosen.get("value"),
                                  trigger_id=body.get("trigger_id", ""), respond=respond, client=client)

    @app.action(ids.CREATE_BUTTON)
    async def on_create_button(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any],
                               client: AsyncWebClient) -> None:
        await ack()
        await forms.open_create(services, client, body.get("trigger_id", ""), context["actor"])

    @app.action(ids.TARGET_ACTION)
    async def on_create_target(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                               client: AsyncWebClient) -> None:
        await ack()
        chosen = action.get("selected_option") if isinstance(action.get("selected_option"), dict) else {}
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        await forms.target_picked(services, context["actor"], view, chosen.get("value"), client)

    @app.action(ids.PROVISION_RESUME_ACTION)
    async def on_resume(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                        client: AsyncWebClient) -> None:
        await ack()
        await provisioning.resume_clicked(services, context["actor"], action.get("value"),
                                          body.get("trigger_id", ""), client)
