"""Exactly once, whoever asks and wherever: identical creates sent at the same moment from many channels and
people reach the back end once; the others are told who created it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from rig import Bot, message_text

from bot.store import AuditQuery


@pytest.mark.parametrize(("kind", "name", "post_path"), [
    ("polaris", "once-only", "/polaris/v1/projects"),
    ("phoenix", "once-only", "/phoenix/v1/projects"),
])
def test_fifty_identical_creates_reach_the_back_end_once(bot: Bot, backend_calls, kind: str, name: str,
                                                         post_path: str) -> None:
    people = ["U0ADMIN", "U0OPERATOR"]

    def send(i: int) -> str:
        ack, rid = bot.command(f"create {kind} {name}", user=people[i % 2], channel=f"C0CHAN{i:02d}")
        assert ack.status_code == 200
        return rid

    with ThreadPoolExecutor(max_workers=16) as pool:
        rids = list(pool.map(send, range(50)))
    answers = [message_text(bot.answer(rid, timeout=20)) for rid in rids]
    posts = [c for c in backend_calls.calls("POST") if c[1].rstrip("/") == post_path]
    assert len(posts) == 1, posts
    refused = [a for a in answers if "I did not send it again" in a]
    assert len(refused) >= 49 and any("asked by <@U0" in a for a in refused)
    rows = bot.audit.query(AuditQuery(operation=f"{kind}.project.create", limit=100))
    assert sum(r["outcome"] in ("started", "succeeded") for r in rows) == 1
