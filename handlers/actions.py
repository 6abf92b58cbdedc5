"""Buttons and menus: Confirm / Cancel, Share, Previous / Next, a row's menu, Create, the form's target, Resume."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import confirm, dispatch, forms, provisioning
from bot.slack.broken import Reply, broken_button
from bot.slack.payloads import ResumeRef, interaction
from bot.ui import ids


def register(app: AsyncApp, services: Services) -> None:
    @app.action(ids.CONFIRM_ACTION)
    async def on_confirm(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                         client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        await confirm.confirm_clicked(services, context["actor"], click.action.value,
                                      respond=Reply(respond, client, click), client=client,
                                      trigger_id=click.trigger_id, response_url=click.reply_url)

    @app.action(ids.CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                        client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        await confirm.cancel_clicked(services, context["actor"], click.action.value,
                                     respond=Reply(respond, client, click))

    @app.action(ids.SHARE_ACTION)
    async def on_share(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                       client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        message = click.message.model_dump(exclude_unset=True) if click.message is not None else None
        await dispatch.share(services, context["actor"], message, respond=Reply(respond, client, click), client=client)

    @app.action(ids.RERUN_ACTION)
    async def on_rerun(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                       client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        await dispatch.rerun(services, context["actor"], click.action.value, respond=Reply(respond, client, click))

    @app.action(ids.ROW_ACTION)
    async def on_row(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        reply = Reply(respond, client, click)
        if click.action.selected_option is None:
            await broken_button(services, context["actor"], click.action.action_id, reply, "no option was chosen")
            return
        await dispatch.row_chosen(services, context["actor"], click.action.selected_option.value,
                                  trigger_id=click.trigger_id, respond=reply, client=client)

    @app.action(ids.CREATE_BUTTON)
    async def on_create_button(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await forms.open_create(services, client, interaction(context).trigger_id, context["actor"])

    @app.action(ids.TARGET_ACTION)
    async def on_create_target(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        if click.view is None or click.view.meta is None:
            await broken_button(services, context["actor"], click.action.action_id, Reply(respond, client, click),
                                "the form it belongs to is not one projectops made")
            return
        chosen = click.action.selected_option
        await forms.target_picked(services, context["actor"], click.view.as_dict(), chosen.value if chosen else None,
                                  client)

    @app.action(ids.PROVISION_RESUME_ACTION)
    async def on_resume(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                        client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        ref = ResumeRef.decode(click.action.value)
        if ref is None:
            await broken_button(services, context["actor"], click.action.action_id, Reply(respond, client, click))
            return
        await provisioning.resume_clicked(services, context["actor"], ref.id, ref.target, click.trigger_id, client)
