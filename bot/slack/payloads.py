"""Slack's payloads, parsed once into pydantic models before any listener reads them.

Two kinds of wrong, two answers:

* the *shape* Slack gives every request — who (user, team), where (channel, container), the message or view,
  the actions and the types of their fields — is checked by `parse`: a request that breaks it was not sent by
  Slack and is answered 400 before any listener runs (at the HTTP edge, `bot.slack.edge`, and again by Bolt
  middleware, for Socket Mode). Only what projectops or Bolt reads is checked; other fields pass untouched.
* the *values* projectops put on its own buttons and forms (a Confirm button's JSON, a Resume button's
  reference, a modal's private_metadata) can come back stale or edited: `ResumeRef` and `FormMeta` parse
  them, and one that does not parse is a broken button or form, answered to the person in
  plain words and audited (`bot.slack.broken`), never an exception.

What a person typed arrives the way Slack sends it: `&`, `<` and `>` escaped as `&amp;`, `&lt;`, `&gt;`, while
Slack's own references (`<@U…>`, `<#C…|name>`, `<!here>`, `<https://…|label>`) keep real angle brackets. The text
of a slash command (`SlashCommand.text`) and of a message event (`Event.text`: app_mention, message, the assistant's
DM threads) is turned back here, once, by `slack_text`, so everything downstream reads what was typed: a typed
`<!here>` is the same `<!here>` the name rule refuses, and `a&b` is `a&b` (escaped again, once, when shown).
Text Slack does not escape is left as it came: a form's input values, an options request's typed `value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.ui.mrkdwn import unescape

#: The longest value a form's metadata keeps (Slack's own limit for private_metadata is 3000 characters).
META_VALUE_MAX = 3000


def slack_text(raw: str) -> str:
    """What a person typed, from the text Slack sent: its three escapes (`&lt;`, `&gt;`, `&amp;`, undone in that
    order, so a typed `&lt;` — sent as `&amp;lt;` — stays `&lt;`) turned back; nothing else is touched. Slack's
    references (`<@U…>`, `<#C…|name>`, `<!here>`, links) already carry real angle brackets and stay as they are.
    The inverse of `bot.ui.mrkdwn.escape`, which escapes the text again, once, wherever it is shown."""
    return unescape(raw)


def _typed(value: str | None) -> str | None:
    return slack_text(value) if isinstance(value, str) else value


class _Shape(BaseModel):
    """Checked where projectops or Bolt reads; anything else Slack sends is kept as it came."""

    model_config = ConfigDict(extra="allow")


class _Envelope(_Shape):
    """A whole request. Bolt reads `event` as an object on every request (`body.get("event", {}).get(...)`)."""

    @model_validator(mode="before")
    @classmethod
    def _event_is_an_object(cls, data: Any) -> Any:
        if isinstance(data, dict) and "event" in data and not isinstance(data["event"], dict):
            raise ValueError("event must be an object")
        return data


class Ref(_Shape):
    """`{"id": …}`: a team, a channel or an enterprise."""

    id: StrictStr = ""


class User(Ref):
    id: StrictStr = Field(min_length=1)
    username: StrictStr = ""
    name: StrictStr = ""
    team_id: StrictStr = ""


class Container(_Shape):
    type: StrictStr = ""
    message_ts: StrictStr = ""
    channel_id: StrictStr = ""
    view_id: StrictStr = ""
    thread_ts: StrictStr = ""


class Option(_Shape):
    value: StrictStr


class Action(_Shape):
    action_id: StrictStr
    block_id: StrictStr = ""
    type: StrictStr = ""
    action_ts: StrictStr = ""
    value: StrictStr | None = None
    selected_option: Option | None = None


class Block(_Shape):
    type: StrictStr = ""
    block_id: StrictStr = ""


class Message(_Shape):
    ts: StrictStr = ""
    thread_ts: StrictStr = ""
    text: StrictStr = ""
    blocks: list[Block] = []


class InputState(_Shape):
    """One input's submitted state: a text (`value`) or a choice (`selected_option`)."""

    type: StrictStr = ""
    value: StrictStr | None = None
    selected_option: Option | None = None


class State(_Shape):
    values: dict[str, dict[str, InputState]] = {}


class View(_Shape):
    id: StrictStr = Field(min_length=1)
    hash: StrictStr = ""
    type: StrictStr = ""
    callback_id: StrictStr = ""
    private_metadata: StrictStr = ""
    team_id: StrictStr | None = None
    app_installed_team_id: StrictStr | None = None
    blocks: list[Block] = []
    state: State = State()

    @property
    def meta(self) -> FormMeta | None:
        """The form's metadata, or None when it is not the JSON projectops put there."""
        return FormMeta.decode(self.private_metadata)

    def as_dict(self) -> dict[str, Any]:
        """The view as the workflows read it (a plain dict, every field checked above filled in)."""
        return self.model_dump()


class ResponseUrl(_Shape):
    response_url: StrictStr = ""


class Interaction(_Envelope):
    """A click, a menu choice, a form submission or closing, an options request, a shortcut."""

    type: StrictStr
    user: User
    team: Ref | None = None
    enterprise: Ref | None = None
    channel: Ref | None = None
    container: Container | None = None
    trigger_id: StrictStr = ""
    response_url: StrictStr = ""
    response_urls: list[ResponseUrl] = []
    message: Message | None = None
    view: View | None = None
    state: State | None = None
    actions: list[Action] = []
    #: block_suggestion: the select asking for options and what was typed in it
    action_id: StrictStr = ""
    block_id: StrictStr = ""
    value: StrictStr = ""
    is_enterprise_install: StrictBool | None = None

    @model_validator(mode="after")
    def _what_its_type_needs(self) -> Interaction:
        if self.type == "block_actions" and not self.actions:
            raise ValueError("a block_actions payload names its action")
        if self.type in ("view_submission", "view_closed") and (self.view is None or not self.view.callback_id):
            raise ValueError(f"a {self.type} payload carries its view")
        if self.type == "block_suggestion" and not self.action_id:
            raise ValueError("a block_suggestion payload names its select")
        return self

    @property
    def action(self) -> Action:
        return self.actions[0] if self.actions else Action(action_id=self.action_id)

    @property
    def channel_id(self) -> str:
        return (self.channel.id if self.channel else "") or (self.container.channel_id if self.container else "")

    @property
    def message_ts(self) -> str:
        return self.container.message_ts if self.container else ""

    @property
    def reply_url(self) -> str:
        """Where Slack lets projectops answer this request privately ("" when it gave no such URL)."""
        url = self.response_url or next((r.response_url for r in self.response_urls if r.response_url), "")
        return url if url.startswith(("https://", "http://")) else ""


class Authorization(_Shape):
    enterprise_id: StrictStr | None = None
    team_id: StrictStr | None = None
    user_id: StrictStr | None = None
    is_bot: StrictBool | None = None
    is_enterprise_install: StrictBool | None = None


class EventMessage(_Shape):
    """An edited or deleted message inside a message event (Bolt reads its user)."""

    user: StrictStr | Ref | None = None
    thread_ts: StrictStr | None = None


class Event(_Shape):
    type: StrictStr
    user: StrictStr | Ref | None = None
    channel: StrictStr | Ref | None = None
    text: StrictStr | None = None
    ts: StrictStr | None = None
    thread_ts: StrictStr | None = None
    channel_type: StrictStr | None = None
    tab: StrictStr | None = None
    bot_id: StrictStr | None = None
    subtype: StrictStr | None = None
    team: StrictStr | None = None
    user_team: StrictStr | None = None
    enterprise: StrictStr | Ref | None = None
    message: EventMessage | None = None
    previous_message: EventMessage | None = None

    #: a message's text as the person typed it (Slack sends it escaped: `slack_text`)
    _typed_text = field_validator("text")(_typed)

    @property
    def user_id(self) -> str:
        return self.user if isinstance(self.user, str) else self.user.id if self.user else ""

    @property
    def channel_id(self) -> str:
        return self.channel if isinstance(self.channel, str) else self.channel.id if self.channel else ""


class EventCallback(_Envelope):
    type: Literal["event_callback"]
    event: Event
    event_id: StrictStr = ""
    team_id: StrictStr | None = None
    enterprise_id: StrictStr | None = None
    authorizations: list[Authorization] | None = None
    is_ext_shared_channel: StrictBool | None = None


class OtherJson(_Envelope):
    """A JSON body that is not an event delivery (url_verification, app_rate_limited, …)."""

    type: StrictStr | None = None


class SlashCommand(_Envelope):
    """A slash command's form fields (always strings: nothing in a form can have another type)."""

    command: StrictStr
    text: StrictStr = ""
    user_id: StrictStr = ""
    channel_id: StrictStr = ""
    team_id: StrictStr = ""
    trigger_id: StrictStr = ""
    response_url: StrictStr = ""

    #: the command's text as the person typed it (Slack sends it escaped: `slack_text`)
    _typed_text = field_validator("text")(_typed)

    @property
    def reply_url(self) -> str:
        return self.response_url if self.response_url.startswith(("https://", "http://")) else ""


Payload = Interaction | EventCallback | SlashCommand | OtherJson


INTERACTIONS = ("block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut", "message_action",
                "interactive_message", "dialog_submission", "dialog_cancellation", "dialog_suggestion")


def parse(body: dict[str, Any]) -> Payload:
    """The request's payload as Bolt hands it to listeners (`req.body`); raises a pydantic ValidationError (which
    says where) when its shape is not one Slack sends. Its `type` decides (Bolt routes on it too)."""
    kind = body.get("type")
    if kind == "event_callback":
        return EventCallback.model_validate(body)
    if kind in INTERACTIONS or "user" in body:
        return Interaction.model_validate(body)
    if "command" in body:
        return SlashCommand.model_validate(body)
    return OtherJson.model_validate(body)


def problem(body: dict[str, Any]) -> str | None:
    """Why `body` is not a payload Slack sends (the first field at fault), or None."""
    try:
        parse(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "the payload"
        return f"{where}: {first.get('msg', 'invalid')}"
    return None


# -- values projectops made ----------------------------------------------------------------------------------------

class _Value(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    @classmethod
    def decode(cls, raw: str | None) -> Self | None:
        """The value parsed from its JSON text, or None when it is not what projectops put there."""
        if not isinstance(raw, str) or not raw:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return None


class ResumeRef(_Value):
    """A Resume button: the provisioning record and its target."""

    id: StrictStr = Field(min_length=1, max_length=200)
    target: StrictStr = Field(min_length=1, max_length=200)


FieldValue = StrictStr | StrictBool | StrictInt | StrictFloat | None


class FormMeta(_Value):
    """What a modal carries between requests in private_metadata (`bot.slack.forms.metadata` and the forms built
    on it): who opened it and where, and what the form is about. Every key is optional; its type is not."""

    user: StrictStr = Field("", max_length=64)
    channel: StrictStr = Field("", max_length=64)
    team: StrictStr = Field("", max_length=64)
    target: StrictStr | None = Field(None, max_length=200)
    kind: StrictStr | None = Field(None, max_length=64)
    project: StrictStr | None = Field(None, max_length=META_VALUE_MAX)
    current: dict[str, FieldValue] = {}
    step: StrictInt = Field(1, ge=1, le=4)
    values: dict[str, StrictStr] = {}
    resume: StrictStr | None = Field(None, max_length=200)
    text: StrictStr = Field("", max_length=META_VALUE_MAX)
    response_url: StrictStr = Field("", max_length=META_VALUE_MAX)
    confirmation: StrictStr | None = Field(None, max_length=64)

    def as_dict(self) -> dict[str, Any]:
        """Only the keys the form carried, as the workflows read them."""
        return self.model_dump(exclude_unset=True)


def read_meta(view: dict[str, Any]) -> dict[str, Any]:
    """The metadata of a view dict ({} when it is missing or broken; listeners tell the person the latter)."""
    raw = view.get("private_metadata")
    meta = FormMeta.decode(raw if isinstance(raw, str) else None)
    return meta.as_dict() if meta is not None else {}


def interaction(context: Mapping[str, Any]) -> Interaction:
    """The interaction a listener for clicks, menus, forms or options was called for (parsed by middleware)."""
    payload = context.get("payload")
    if not isinstance(payload, Interaction):
        raise TypeError("no interaction payload in the context: is bot.slack.middleware.parse_payload installed?")
    return payload


def event_of(context: Mapping[str, Any]) -> Event:
    """The event an Events API listener was called for (parsed by middleware)."""
    payload = context.get("payload")
    if not isinstance(payload, EventCallback):
        raise TypeError("no event payload in the context: is bot.slack.middleware.parse_payload installed?")
    return payload.event
