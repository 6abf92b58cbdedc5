"""Sample Slack views that more than one test module sends (the sandbox/slack emulator tests)."""

from __future__ import annotations

from typing import Any

#: A one-input modal: `project_create` with a plain text `name` (block `name`, action `value`).
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "project_create",
    "title": {"type": "plain_text", "text": "New project"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}
