"""Modal submissions: the typed-name confirmation, create, edit (picker and form), provisioning steps, resume.

A submission whose private_metadata is not what projectops put there is answered on the form itself and audited
(`bot.slack.broken.broken_form`) before any workflow sees it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import confirm, forms, provisioning
from bot.slack.broken import broken_form
from bot.slack.payloads import View, interaction
from bot.slack.runner import Step
from bot.ui import ids


def submitted(context: dict[str, Any]) -> View:
    view = interaction(context).view
    assert view is not None  # a view_submission always carries its view (bot.slack.payloads.Interaction)
    return view


def register(app: AsyncApp, services: Services) -> None:
    def broken(context: dict[str, Any]) -> Step | None:
        view = submitted(context)
        return broken_form(services, context["actor"], view) if view.meta is None else None

    @app.view(ids.TYPED_CALLBACK)
    async def on_typed_confirmation(ack: AsyncAck, context: dict[str, Any]) -> None:
        step = broken(context) or await confirm.typed_submitted(services, context["actor"],
                                                                submitted(context).as_dict())
        await step.run(ack)

    @app.view(ids.CREATE_CALLBACK)
    async def on_create(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        step = broken(context) or forms.create_submitted(services, context["actor"], submitted(context).as_dict(),
                                                         client)
        await step.run(ack)

    @app.view(ids.EDIT_PICK_CALLBACK)
    async def on_edit_pick(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        step = broken(context) or forms.edit_picked(services, context["actor"], submitted(context).as_dict(), client)
        await step.run(ack)

    @app.view(ids.EDIT_CALLBACK)
    async def on_edit(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        step = broken(context) or forms.edit_submitted(services, context["actor"], submitted(context).as_dict(),
                                                       client)
        await step.run(ack)

    @app.view(ids.PROVISION_CALLBACK)
    async def on_provision_step(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        step = broken(context) or await provisioning.step_submitted(services, context["actor"],
                                                                    submitted(context).as_dict(), client)
        await step.run(ack)

    @app.view(ids.PROVISION_RESUME_CALLBACK)
    async def on_resume(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        step = broken(context) or provisioning.resume_submitted(services, context["actor"],
                                                                submitted(context).as_dict(), client)
        await step.run(ack)
