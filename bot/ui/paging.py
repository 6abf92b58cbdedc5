"""Project lists that page: one row per project with its follow-up actions, Previous / Next keeping the filter."""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from bot.ui import blocks as bk
from bot.ui.ids import PAGE_ACTION, ROW_ACTION

PAGE_SIZE = 10
OPTION_VALUE_MAX = 150


class PageParams(BaseModel):
    page: int = Field(default=1, ge=1, description="page of the list")


def command_text(command: str, target: str, params: BaseModel, exclude: Sequence[str] = ("page",)) -> str:
    """The `/projects` text (without `/projects`) that asks for `params` again, as `--options`."""
    words = [command, target]
    for name, value in params.model_dump(exclude_defaults=True).items():
        if name in exclude or value in (None, [], ""):
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            words.append(flag)
        elif value is False:
            words.append("--no-" + name.replace("_", "-"))
        else:
            for item in value if isinstance(value, list) else [value]:
                words += [flag, shlex.quote(str(item))]
    return " ".join(words)


def row_menu(target: str, name: str, editable: bool = True, deletable: bool = True) -> dict[str, Any] | None:
    """An overflow menu of a project's follow-up commands (Slack limits an option value to 150 characters)."""
    quoted = shlex.quote(name)
    choices = [("Show", f"show {target} {quoted}")]
    if editable:
        choices.append(("Edit", f"edit {target} {quoted}"))
    if deletable:
        choices.append(("Delete…", f"delete {target} {quoted}"))
    return overflow_menu(choices)


def overflow_menu(choices: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    """An overflow menu whose options (label, `/projects` command text) run as typed (`ROW_ACTION`); options
    over Slack's 150 characters are left out, and no menu is left when none fits."""
    options = [{"text": bk.plain(label, 75), "value": value} for label, value in choices
               if len(value) <= OPTION_VALUE_MAX]
    return {"type": "overflow", "action_id": ROW_ACTION, "options": options} if options else None


def paged_rows(rows: list[tuple[str, str]], page: int, list_command: str, target: str, *,
               editable: bool = True, deletable: bool = True, size: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """Blocks for one page of (name, line) rows, each with its menu, then the page buttons."""
    pages = max(1, math.ceil(len(rows) / size))
    page = min(max(page, 1), pages)
    blocks: list[dict[str, Any]] = []
    for name, line in rows[(page - 1) * size: page * size]:
        blocks.append(bk.section(line, accessory=row_menu(target, name, editable, deletable)))
    if pages > 1:
        buttons = []
        if page > 1:
            buttons.append(bk.button("Previous", f"{PAGE_ACTION}_prev", value=f"{list_command} --page {page - 1}"))
        if page < pages:
            buttons.append(bk.button("Next", f"{PAGE_ACTION}_next", value=f"{list_command} --page {page + 1}"))
        blocks.append(bk.actions(*buttons))
        blocks.append(bk.context(f"Page {page} of {pages} · {len(rows)} in all"))
    return blocks
