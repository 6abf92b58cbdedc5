"""The audit log from Slack: filters, paging buttons, CSV export; and tamper detection from the CLI."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys

from rig import Bot, message_text

from bot.store import AuditQuery


def test_filters_by_outcome_operation_and_time(bot: Bot) -> None:
    bot.run("whoami", user="U0OPERATOR")
    bot.command("nonsense", user="U0OPERATOR")
    bot.run("targets", user="U0ADMIN")
    text = message_text(bot.run("audit failed since 1h"))
    assert "`parse`" in text and "`whoami`" not in text
    text = message_text(bot.run("audit op whoami"))
    assert "`whoami`" in text and "`targets`" not in text
    assert "No audit entries match" in message_text(bot.run("audit until 2020-01-01"))
    assert "can't read the time" in message_text(bot.command("audit since yesterdayish")[0].json())


def test_paging_buttons_keep_the_filter(bot: Bot) -> None:
    for _ in range(5):
        bot.run("whoami", user="U0VIEWER")
    first = bot.run("audit me last 2", user="U0VIEWER")
    assert "entries 1–2" in message_text(first)
    _, rid = bot.click(first, "projectops_rerun_next", user="U0VIEWER")
    second = bot.final_answer(rid)
    assert "entries 3–4" in message_text(second) and "<@U0VIEWER>" in message_text(second)
    assert "Previous" in message_text(second) and "Next" in message_text(second)


def test_export_uploads_a_csv_with_the_matching_rows(bot: Bot) -> None:
    bot.run("whoami", user="U0OPERATOR")
    bot.run("help", user="U0ADMIN")
    answer = bot.run("audit export <@U0OPERATOR|op>", user="U0ADMIN")
    assert "Uploaded" in message_text(answer)
    uploaded = list(bot.slack.files.values())[-1]
    rows = list(csv.DictReader(io.StringIO(uploaded.text)))
    assert uploaded.channel_id == "C0OPS" and uploaded.filename.endswith(".csv")
    assert [(r["user"], r["operation"], r["outcome"]) for r in rows] == [("U0OPERATOR", "whoami", "succeeded")]
    assert bot.audit.query(AuditQuery(operation="audit.export"))[0]["outcome"] == "succeeded"


def test_verify_detects_an_edited_row(bot: Bot) -> None:
    bot.run("whoami")
    bot.run("help")
    env = {**os.environ, "PROJECTOPS_DB": bot.store.path}
    ok = subprocess.run([sys.executable, "-m", "bot.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "intact" in ok.stdout
    with sqlite3.connect(bot.store.path) as conn:  # what someone with file access could do
        try:
            conn.execute("UPDATE audit SET user = 'U0SOMEONEELSE' WHERE id = 1")
            raise AssertionError("the app's append-only trigger should refuse this")
        except sqlite3.IntegrityError:
            pass
        conn.execute("DROP TRIGGER audit_complete_once")
        conn.execute("UPDATE audit SET user = 'U0SOMEONEELSE' WHERE id = 1")
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "#1 was changed" in bad.stdout


def test_the_list_names_what_was_acted_on_escaped_and_redacted(bot: Bot) -> None:
    bot.run("show polaris clickstream", user="U0OPERATOR")
    bot.run("show polaris <!channel>", user="U0OPERATOR")
    bot.run("table show polaris clickstream <@U0ADMIN>", user="U0OPERATOR")
    bot.run("show polaris xoxb-123456789012-secret", user="U0OPERATOR")
    answer = bot.run("audit op polaris.project.show")
    text = message_text(answer)
    assert "`polaris.project.show` of `clickstream` on `polaris` — succeeded" in text
    assert "`polaris.project.show` of `&lt;!channel&gt;` on `polaris` — failed" in text
    assert "<!channel>" not in text and "xoxb-" not in text and "`polaris.project.show` of `***`" in text
    text = message_text(bot.run("audit op polaris.table.show"))
    assert "of table `&lt;@U0ADMIN&gt;` in `clickstream` on `polaris`" in text and "<@U0ADMIN>" not in text


def test_the_list_leaves_out_the_running_audit_and_says_when_there_is_more(bot: Bot) -> None:
    for _ in range(3):
        bot.run("whoami", user="U0VIEWER")
    first = bot.run("audit me last 2", user="U0VIEWER")
    text = message_text(first)
    assert "`audit` —" not in text and "— started" not in text
    assert first["text"] == "Audit entries 1–2 (more on the next page)"
    assert text.count("`whoami` — succeeded") == 2
    _, rid = bot.click(first, "projectops_rerun_next", user="U0VIEWER")
    second = bot.final_answer(rid)
    text = message_text(second)
    # page 2 lists only finished rows (the first audit finished meanwhile and moved everything down one row)
    assert second["text"] == "Audit entries 3–4" and "— started" not in text and "Next" not in text
    assert "#1 " in text and "Previous" in text
