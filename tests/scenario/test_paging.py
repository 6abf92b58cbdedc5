"""Lists that scale: pages with Previous / Next that keep the filter, and a menu of follow-ups on every row."""

from __future__ import annotations

import loopback
from rig import Bot, message_text


def buttons(payload: dict) -> dict[str, str]:
    return {e["action_id"]: e.get("value", "") for b in payload.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]}


def row_menus(payload: dict) -> list[dict]:
    return [b["accessory"] for b in payload.get("blocks", []) if b.get("accessory", {}).get("type") == "overflow"]


def test_pages_keep_the_filter(bot: Bot, backends: str) -> None:
    loopback.post(f"{backends}/terraform/_admin/bulk", json={"projects": 25, "workspaces_per_project": 0})
    first = bot.run("list terraform --search bulk")
    assert len(row_menus(first)) == 10 and "Page 1 of 3" in message_text(first)
    assert buttons(first)["projectops_rerun_next"] == "list terraform --search bulk --page 2"
    _, rid = bot.click(first, "projectops_rerun_next")
    second = bot.final_answer(rid)
    assert "Page 2 of 3" in message_text(second) and len(row_menus(second)) == 10
    assert set(buttons(second)) >= {"projectops_rerun_prev", "projectops_rerun_next"}
    last = bot.run("list terraform --search bulk --page 3")
    assert len(row_menus(last)) == 5 and "projectops_rerun_next" not in buttons(last)


def test_row_menu_shows_and_asks_before_deleting(bot: Bot) -> None:
    listing = bot.run("list terraform")
    menu = next(m for m in row_menus(listing) if "sandbox-playground" in str(m))
    values = {o["text"]["text"]: o["value"] for o in menu["options"]}
    assert values == {"Show": "show terraform sandbox-playground", "Edit": "edit terraform sandbox-playground",
                      "Delete…": "delete terraform sandbox-playground"}

    def pick(label: str, user: str = "U0OPERATOR") -> dict:
        option = next(o for o in menu["options"] if o["text"]["text"] == label)
        signed = bot.requests.block_actions(
            [{"action_id": "projectops_row", "type": "overflow", "selected_option": option}],
            user_id=user, message=listing)
        assert bot.post(signed).status_code == 200
        return bot.answer(bot.requests.last_response_url_id)

    assert "sandbox-playground" in message_text(pick("Show")) and "prj-" in message_text(pick("Show"))
    prompt = pick("Delete…")
    assert any(b.get("block_id") == "projectops_confirmation" for b in prompt["blocks"])
    assert "needs the *operator* role" in message_text(pick("Delete…", user="U0VIEWER"))
