"""Offline Block Kit validator: the limits Slack documents for messages, modals and Home tabs.

`validate(payload, surface)` returns human-readable errors (empty when the payload is fine), each
prefixed with a JSON-pointer-like path, e.g. ``blocks[3].text: 3001 characters, max 3000``.
Written from the Block Kit reference (docs.slack.dev/reference/block-kit); see notes/slack.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


BLOCK_TYPES = _words(
    "actions context context_actions divider file header image input markdown rich_text section video table call"
)
SELECTS = _words(
    "static_select external_select users_select conversations_select channels_select multi_static_select"
    " multi_external_select multi_users_select multi_conversations_select multi_channels_select"
)
PICKERS = _words("datepicker timepicker datetimepicker")
TEXT_INPUTS = _words("plain_text_input email_text_input url_text_input number_input rich_text_input file_input")
SECTION_ACCESSORIES = SELECTS | _words(
    "button checkboxes datepicker timepicker image overflow radio_buttons workflow_button"
)
ACTIONS_ELEMENTS = SELECTS | PICKERS | _words("button checkboxes overflow radio_buttons workflow_button")
#: "The feedback buttons element must be used inside the context actions block", and so must the icon button.
CONTEXT_ACTIONS_ELEMENTS = _words("feedback_buttons icon_button")
#: "The trash icon is the only icon available at this time." (icon button element reference)
ICONS = _words("trash")
INPUT_ELEMENTS = SELECTS | PICKERS | TEXT_INPUTS | {"checkboxes", "radio_buttons"}
ELEMENT_TYPES = SECTION_ACCESSORIES | ACTIONS_ELEMENTS | CONTEXT_ACTIONS_ELEMENTS | INPUT_ELEMENTS


def validate(payload: Mapping[str, Any], surface: Surface, seen: set[str] | None = None) -> list[str]:
    """Check `payload` (a message body, or a view for "modal"/"home") against Slack's limits.

    Block and element types found are added to `seen` when given.
    """
    checker = _Checker(surface, seen if seen is not None else set())
    if not isinstance(payload, Mapping):
        return [f"payload must be an object, got {type(payload).__name__}"]
    if surface == "message":
        checker.message(payload)
    else:
        checker.view(payload)
    return checker.errors


class _Checker:
    def __init__(self, surface: Surface, seen: set[str]) -> None:
        self.surface = surface
        self.seen = seen
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def err(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}" if path else message)

    # -- primitives ------------------------------------------------------------------------

    def string(self, value: Any, path: str, max_len: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.err(path, "is required")
        elif not isinstance(value, str):
            self.err(path, f"must be a string, got {type(value).__name__}")
        elif len(value) > max_len:
            self.err(path, f"{len(value)} characters, max {max_len}")

    def text(
        self, obj: Any, path: str, max_len: int | None = None, *, plain: bool = False, required: bool = True
    ) -> None:
        """A text composition object (plain_text or mrkdwn)."""
        if obj is None:
            if required:
                self.err(path, "is required")
            return
        if not isinstance(obj, Mapping):
            self.err(path, "must be a text object like {'type': 'plain_text', 'text': '...'}")
            return
        kind = obj.get("type")
        if kind is None:
            self.err(path, "text object is missing 'type'")
        elif kind not in ("plain_text", "mrkdwn"):
            self.err(path, f"text object type must be plain_text or mrkdwn, got {kind!r}")
        elif plain and kind != "plain_text":
            self.err(path, f"must be plain_text, got {kind}")
        value = obj.get("text")
        if not isinstance(value, str):
            self.err(path, "text object is missing 'text'")
        elif not value:
            self.err(path, "text must not be empty")
        elif max_len is not None and len(value) > max_len:
            self.err(path, f"{len(value)} characters, max {max_len}")

    def items(self, value: Any, path: str, max_items: int, *, min_items: int = 0) -> list[Any]:
        if value is None:
            if min_items:
                self.err(path, "is required")
            return []
        if not isinstance(value, list):
            self.err(path, "must be a list")
            return []
        if len(value) > max_items:
            self.err(path, f"{len(value)} items, max {max_items}")
        elif len(value) < min_items:
            self.err(path, f"{len(value)} items, min {min_items}")
        return value

    # -- surfaces --------------------------------------------------------------------------

    def message(self, payload: Mapping[str, Any]) -> None:
        self.string(payload.get("text"), "text", MAX_MESSAGE_TEXT)
        if payload.get("blocks") is not None:
            self.blocks(payload["blocks"], "blocks")
        for i, attachment in enumerate(self.items(payload.get("attachments"), "attachments", 100)):
            if isinstance(attachment, Mapping) and attachment.get("blocks") is not None:
                self.blocks(attachment["blocks"], f"attachments[{i}].blocks")

    def view(self, view: Mapping[str, Any]) -> None:
        kind = view.get("type")
        if kind != self.surface:
            self.err("type", f"view type must be {self.surface!r}, got {kind!r}")
        blocks = view.get("blocks")
        if blocks is None:
            self.err("blocks", "is required")
        else:
            self.blocks(blocks, "blocks")
        self.string(view.get("private_metadata"), "private_metadata", 3000)
        self.string(view.get("callback_id"), "callback_id", 255)
        self.string(view.get("external_id"), "external_id", 255)
        if self.surface == "home":
            for key in ("submit", "close"):
                if view.get(key) is not None:
                    self.err(key, "home views cannot have submit or close buttons")
            return
        self.text(view.get("title"), "title", 24, plain=True)
        self.text(view.get("submit"), "submit", 24, plain=True, required=False)
        self.text(view.get("close"), "close", 24, plain=True, required=False)
        has_input = isinstance(blocks, list) and any(
            isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            self.err("submit", "is required when the view has an input block")

    # -- blocks ----------------------------------------------------------------------------

    def blocks(self, blocks: Any, path: str) -> None:
        for i, block in enumerate(self.items(blocks, path, MAX_BLOCKS[self.surface])):
            self.block(block, f"{path}[{i}]")

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, Mapping):
            self.err(path, "block must be an object")
            return
        kind = block.get("type")
        if not isinstance(kind, str):
            self.err(path, "block is missing 'type'")
            return
        self.seen.add(kind)
        if kind not in BLOCK_TYPES:
            self.err(path, f"unknown block type {kind!r}")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, f"{path}.block_id", 255)
            if block_id in self.block_ids:
                self.err(f"{path}.block_id", f"duplicate block_id {block_id!r}")
            elif isinstance(block_id, str):
                self.block_ids.add(block_id)
        action_ids: set[str] = set()
        check = getattr(self, f"block_{kind}", None)
        if check is not None:
            check(block, path, action_ids)

    def block_section(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.err(path, "section needs 'text' or 'fields'")
        self.text(block.get("text"), f"{path}.text", 3000, required=False)
        for i, field in enumerate(self.items(block.get("fields"), f"{path}.fields", 10)):
            self.text(field, f"{path}.fields[{i}]", 2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{path}.accessory", action_ids, SECTION_ACCESSORIES, "section")

    def block_header(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        self.text(block.get("text"), f"{path}.text", 150, plain=True)

    def block_image(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        self.image(block, path)
        self.text(block.get("title"), f"{path}.title", 2000, plain=True, required=False)

    def block_actions(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        for i, element in enumerate(self.items(block.get("elements"), f"{path}.elements", 25, min_items=1)):
            self.element(element, f"{path}.elements[{i}]", action_ids, ACTIONS_ELEMENTS, "actions")

    def block_context(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        for i, element in enumerate(self.items(block.get("elements"), f"{path}.elements", 10, min_items=1)):
            where = f"{path}.elements[{i}]"
            if isinstance(element, Mapping) and element.get("type") == "image":
                self.seen.add("image")
                self.image(element, where)
            else:
                self.text(element, where)

    def block_context_actions(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        """Feedback buttons and icon buttons, at most 5 (context actions block reference)."""
        for i, element in enumerate(self.items(block.get("elements"), f"{path}.elements", 5, min_items=1)):
            self.element(element, f"{path}.elements[{i}]", action_ids, CONTEXT_ACTIONS_ELEMENTS, "context_actions")

    def block_input(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        if self.surface == "message":
            self.err(path, "input blocks are not allowed in messages")
        self.text(block.get("label"), f"{path}.label", 2000, plain=True)
        self.text(block.get("hint"), f"{path}.hint", 2000, plain=True, required=False)
        if block.get("element") is None:
            self.err(f"{path}.element", "is required")
        else:
            self.element(block["element"], f"{path}.element", action_ids, INPUT_ELEMENTS, "input")

    def block_markdown(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        self.string(block.get("text"), f"{path}.text", 12000, required=True)

    def block_video(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        self.text(block.get("title"), f"{path}.title", 200, plain=True)
        self.string(block.get("alt_text"), f"{path}.alt_text", 2000, required=True)

    def block_rich_text(self, block: Mapping[str, Any], path: str, action_ids: set[str]) -> None:
        self.items(block.get("elements"), f"{path}.elements", 10_000, min_items=1)

    def image(self, obj: Mapping[str, Any], path: str) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.err(path, "image needs 'image_url' or 'slack_file'")
        self.string(obj.get("image_url"), f"{path}.image_url", 3000)
        self.string(obj.get("alt_text"), f"{path}.alt_text", 2000, required=True)

    # -- elements --------------------------------------------------------------------------

    def element(self, element: Any, path: str, action_ids: set[str], allowed: frozenset[str], block_kind: str) -> None:
        if not isinstance(element, Mapping):
            self.err(path, "element must be an object")
            return
        kind = element.get("type")
        if not isinstance(kind, str):
            self.err(path, "element is missing 'type'")
            return
        self.seen.add(kind)
        if kind not in ELEMENT_TYPES:
            self.err(path, f"unknown element type {kind!r}")
            return
        if kind not in allowed:
            self.err(path, f"{kind} is not allowed in a {block_kind} block")
        action_id = element.get("action_id")
        if action_id is not None:
            self.string(action_id, f"{path}.action_id", 255)
            if action_id in action_ids:
                self.err(f"{path}.action_id", f"duplicate action_id {action_id!r} in one block")
            elif isinstance(action_id, str):
                action_ids.add(action_id)
        self.text(element.get("placeholder"), f"{path}.placeholder", 150, plain=True, required=False)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{path}.confirm")
        if kind == "button":
            self.text(element.get("text"), f"{path}.text", 75, plain=True)
            self.string(element.get("value"), f"{path}.value", 2000)
            self.string(element.get("url"), f"{path}.url", 3000)
            if element.get("style") not in (None, "primary", "danger"):
                self.err(f"{path}.style", "must be 'primary' or 'danger'")
            self.string(element.get("accessibility_label"), f"{path}.accessibility_label", 75)
        elif kind == "feedback_buttons":
            for key in ("positive_button", "negative_button"):
                self.feedback_button(element.get(key), f"{path}.{key}")
        elif kind == "icon_button":
            icon = element.get("icon")
            self.string(icon, f"{path}.icon", 255, required=True)
            if isinstance(icon, str) and icon not in ICONS:
                self.err(f"{path}.icon", f"unknown icon {icon!r}; available: {', '.join(sorted(ICONS))}")
            self.text(element.get("text"), f"{path}.text", plain=True)
            self.string(element.get("value"), f"{path}.value", 2000)
            self.string(element.get("accessibility_label"), f"{path}.accessibility_label", 75)
            users = element.get("visible_to_user_ids")
            if users is not None and (not isinstance(users, list) or not all(isinstance(u, str) for u in users)):
                self.err(f"{path}.visible_to_user_ids", "must be a list of user ids")
        elif kind == "image":
            self.image(element, path)
        elif kind == "overflow":
            self.options(element.get("options"), f"{path}.options", max_items=5, min_items=1)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(element.get("options"), f"{path}.options", max_items=10, min_items=1, plain=False)
        elif kind in ("static_select", "multi_static_select"):
            self.select_options(element, path)
        elif kind in ("plain_text_input", "rich_text_input") and element.get("max_length") is not None:
            max_length = element["max_length"]
            if not isinstance(max_length, int) or not 0 < max_length <= 3000:
                self.err(f"{path}.max_length", "must be an integer from 1 to 3000")

    def feedback_button(self, button: Any, path: str) -> None:
        """positive_button / negative_button of a feedback_buttons element."""
        if button is None:
            self.err(path, "is required")
            return
        if not isinstance(button, Mapping):
            self.err(path, "must be an object with text and value")
            return
        self.text(button.get("text"), f"{path}.text", 75, plain=True)
        self.string(button.get("value"), f"{path}.value", 2000, required=True)
        self.string(button.get("accessibility_label"), f"{path}.accessibility_label", 75)

    def select_options(self, element: Mapping[str, Any], path: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if (options is None) == (groups is None):
            self.err(path, "static select needs exactly one of 'options' or 'option_groups'")
        self.options(options, f"{path}.options", max_items=100)
        for i, group in enumerate(self.items(groups, f"{path}.option_groups", 100)):
            where = f"{path}.option_groups[{i}]"
            if not isinstance(group, Mapping):
                self.err(where, "option group must be an object")
                continue
            self.text(group.get("label"), f"{where}.label", 75, plain=True)
            self.options(group.get("options"), f"{where}.options", max_items=100, min_items=1)

    def options(self, options: Any, path: str, *, max_items: int, min_items: int = 0, plain: bool = True) -> None:
        for i, option in enumerate(self.items(options, path, max_items, min_items=min_items)):
            where = f"{path}[{i}]"
            if not isinstance(option, Mapping):
                self.err(where, "option must be an object")
                continue
            self.text(option.get("text"), f"{where}.text", 75, plain=plain)
            self.string(option.get("value"), f"{where}.value", 150, required=True)
            self.text(option.get("description"), f"{where}.description", 75, plain=plain, required=False)
            self.string(option.get("url"), f"{where}.url", 3000)

    def confirm(self, confirm: Any, path: str) -> None:
        if not isinstance(confirm, Mapping):
            self.err(path, "confirm must be an object")
            return
        self.text(confirm.get("title"), f"{path}.title", 100, plain=True)
        self.text(confirm.get("text"), f"{path}.text", 300)
        self.text(confirm.get("confirm"), f"{path}.confirm", 30, plain=True)
        self.text(confirm.get("deny"), f"{path}.deny", 30, plain=True)
        if confirm.get("style") not in (None, "primary", "danger"):
            self.err(f"{path}.style", "must be 'primary' or 'danger'")
