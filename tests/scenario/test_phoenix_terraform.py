"""Arize Phoenix and HCP Terraform end to end: signed Slack requests, the emulators behind the app."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator

import loopback
import pytest
from rig import Bot, message_text

from bot.store import AuditQuery


def has_confirm(message: dict) -> bool:
    return any(b.get("block_id") == "projectops_confirmation" for b in message.get("blocks", []))


def rows_for(bot: Bot, operation: str) -> list[dict]:
    """Audit rows of `operation`, newest first, once the newest has finished."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        rows = bot.audit.query(AuditQuery(operation=operation))
        if rows and rows[0]["outcome"] != "started":
            return rows
        time.sleep(0.02)
    return bot.audit.query(AuditQuery(operation=operation))


@pytest.fixture
def confirm_only_bot(make_bot, demo_config_dict: dict) -> Iterator[Bot]:
    """The demo config with no second-person approval, so an admin's Confirm runs destructive work."""
    config = copy.deepcopy(demo_config_dict)
    config["approvals"] = {"required_for": []}
    with make_bot(config) as running:
        yield running


# ---------------------------------------------------------------- Phoenix


def test_phoenix_list_and_show(bot: Bot) -> None:
    text = message_text(bot.run("list phoenix", user="U0VIEWER"))
    assert "Phoenix projects on phoenix (6)" in text
    assert "*chatbot-prod* — Production customer-support chatbot traces · `UHJvamVjdDoy`" in text
    assert "*summarizer-staging* — _no description_" in text
    [row] = rows_for(bot, "phoenix.project.list")
    assert (row["user"], row["target"], row["outcome"]) == ("U0VIEWER", "phoenix", "succeeded")

    text = message_text(bot.run("list phoenix --name-contains RAG"))
    assert "Phoenix projects on phoenix (1)" in text and "rag-eval" in text and "chatbot" not in text

    text = message_text(bot.run("show phoenix rag-eval", user="U0VIEWER"))
    assert "`UHJvamVjdDoz`" in text and "Retrieval-augmented generation evaluation runs" in text
    assert "/projects delete phoenix rag-eval --id UHJvamVjdDoz" in text


def test_phoenix_create_and_update(bot: Bot) -> None:
    text = message_text(bot.run('create phoenix my-proj --description "Support bot traces"', user="U0OPERATOR"))
    assert "Created Phoenix project *my-proj*" in text and "Support bot traces" in text and "`UHJvamVjdDo3`" in text
    [row] = rows_for(bot, "phoenix.project.create")
    assert row["outcome"] == "succeeded" and json.loads(row["params"]) == {
        "name": "my-proj", "description": "Support bot traces"}

    text = message_text(bot.run('update phoenix my-proj --description "Now nightly"', user="U0OPERATOR"))
    assert "Updated Phoenix project *my-proj*" in text and "Now nightly" in text

    text = message_text(bot.run("create phoenix my-proj", user="U0OPERATOR"))
    assert "A project named `my-proj` already exists on Phoenix (id `UHJvamVjdDo3`)" in text
    assert rows_for(bot, "phoenix.project.create")[0]["outcome"] == "failed"


def test_phoenix_bad_names_and_roles(bot: Bot, backend_calls) -> None:
    ack, _ = bot.command('create phoenix "team/a"', user="U0OPERATOR")  # the params model refuses it, in the ack
    text = message_text(ack.json())
    assert "cannot contain `/`" in text and "team-a" in text
    assert backend_calls.calls("POST", "/phoenix/") == []
    text = message_text(bot.run("create phoenix other", user="U0VIEWER"))
    assert "needs the *operator* role" in text
    assert [r["outcome"] for r in rows_for(bot, "phoenix.project.create")] == ["refused"]


def test_phoenix_storage_full_is_explained(bot: Bot, backends: str) -> None:
    loopback.post(f"{backends}/phoenix/_admin/config", json={"storage_full": True})
    text = message_text(bot.run("create phoenix more-data", user="U0OPERATOR"))
    assert "out of storage" in text and "Delete old projects" in text


def test_phoenix_delete_asked_confirmed_and_approved(bot: Bot) -> None:
    prompt = bot.run("delete phoenix rag-eval", user="U0OPERATOR")
    assert "deletes Phoenix project *rag-eval* (`UHJvamVjdDoz`) with all its traces" in message_text(prompt)
    result = bot.confirm_and_approve("delete phoenix rag-eval", user="U0OPERATOR", approver="U0ADMIN")
    assert "Deleted Phoenix project *rag-eval*" in message_text(result)
    row = rows_for(bot, "phoenix.project.delete")[0]
    assert (row["outcome"], row["user"], row["approved_by"]) == ("succeeded", "U0OPERATOR", "U0ADMIN")
    assert "rag-eval" not in message_text(bot.run("list phoenix"))


def test_phoenix_delete_guards_reused_ids(confirm_only_bot: Bot) -> None:
    bot = confirm_only_bot
    answer = bot.run("delete phoenix UHJvamVjdDoz")  # the preview meets what the run would: no Confirm
    text = message_text(answer)
    assert "not only its id" in text and "--id UHJvamVjdDoz" in text and not has_confirm(answer)
    bot.confirm("delete phoenix summarizer-staging")  # frees UHJvamVjdDo2 ...
    answer = bot.run("delete phoenix summarizer-staging --id UHJvamVjdDo2")
    assert "UHJvamVjdDo2" in message_text(answer) and not has_confirm(answer)
    bot.run("create phoenix newcomer", user="U0OPERATOR")  # ... which the next project gets
    answer = bot.run("delete phoenix summarizer-staging --id UHJvamVjdDo2")
    assert "now belongs to *newcomer*, not *summarizer-staging*" in message_text(answer) and not has_confirm(answer)
    assert "newcomer" in message_text(bot.run("list phoenix"))
    assert [r["outcome"] for r in rows_for(bot, "phoenix.project.delete")] == ["refused", "refused", "succeeded",
                                                                               "refused"]


# ---------------------------------------------------------------- HCP Terraform


def test_terraform_list_show_and_workspaces(bot: Bot) -> None:
    text = message_text(bot.run("list terraform", user="U0VIEWER"))
    assert "HCP Terraform projects in acme (6)" in text
    assert "*platform-core* · 5 workspaces · Shared networking" in text
    assert "*sandbox-playground* · 0 workspaces · auto-destroy 24h" in text
    text = message_text(bot.run("list terraform --search pipe --sort -name"))
    assert "(1)" in text and "data-pipelines" in text and "Filtered by search `pipe`, sort `-name`" in text

    text = message_text(bot.run("show terraform platform-core", user="U0VIEWER"))
    assert "`prj-0sMkZ9o1CR5IdoEc`" in text and "*Workspaces*" in text and "• *eks-prod* · 254 resources" in text

    text = message_text(bot.run("workspaces terraform data-pipelines", user="U0VIEWER"))
    assert "Workspaces in project data-pipelines (3)" in text and "airflow-prod" in text
    assert [r["outcome"] for r in rows_for(bot, "terraform.project.workspaces")] == ["succeeded"]


def test_terraform_create_update_and_validation(bot: Bot, backend_calls) -> None:
    text = message_text(bot.run('create terraform "team blue" --description "Blue team" --auto-destroy 14d',
                                user="U0OPERATOR"))
    assert "Created HCP Terraform project *team blue*" in text and "14d" in text
    text = message_text(bot.run('update terraform "team blue" --name team-blue --auto-destroy none',
                                user="U0OPERATOR"))
    assert "Updated HCP Terraform project *team-blue*" in text and "*Auto-destroy*\noff" in text
    posts = len(backend_calls.calls("POST", "/terraform/"))
    ack, _ = bot.command("create terraform x.y", user="U0OPERATOR")  # the params model refuses it, in the ack
    text = message_text(ack.json())
    assert "not a valid HCP Terraform project name" in text and "3 to 40 letters" in text
    assert len(backend_calls.calls("POST", "/terraform/")) == posts
    text = message_text(bot.run("create terraform TEAM-BLUE", user="U0OPERATOR"))
    assert "already been taken" in text
    assert [r["outcome"] for r in rows_for(bot, "terraform.project.create")] == ["failed", "succeeded"]
    text = message_text(bot.run("show terraform nope"))
    assert "No project named `nope` in `acme`, or your token may not see it" in text


def test_terraform_delete_is_refused_while_workspaces_remain(confirm_only_bot: Bot) -> None:
    bot = confirm_only_bot
    answer = bot.run("delete terraform data-pipelines")  # refused up front: no Confirm, no approval
    text = message_text(answer)
    assert "holds 3 workspaces: `airflow-prod`" in text and "Move them out first" in text and not has_confirm(answer)
    text = message_text(bot.confirm("delete terraform sandbox-playground"))
    assert "Deleted HCP Terraform project *sandbox-playground*" in text
    assert [r["outcome"] for r in rows_for(bot, "terraform.project.delete")] == ["succeeded", "refused"]


def test_terraform_move_workspaces(confirm_only_bot: Bot) -> None:
    bot = confirm_only_bot
    prompt = bot.run("move-workspaces terraform sandbox-playground warehouse airflow-prod")
    text = message_text(prompt)
    assert "Moves into *sandbox-playground*" in text and "`warehouse` from *data-pipelines*" in text
    _, rid = bot.click(prompt, "projectops_confirm")
    assert "Moved 2 workspaces into HCP Terraform project *sandbox-playground*" in message_text(bot.final_answer(rid))
    answer = bot.run("move-workspaces terraform sandbox-playground scratch no-such-ws")  # all or nothing: no Confirm
    text = message_text(answer)
    assert "Not found: `no-such-ws`" in text and "nothing would move" in text and not has_confirm(answer)
    text = message_text(bot.run("workspaces terraform sandbox-playground"))
    assert "(2)" in text and "scratch" not in text
    rows = rows_for(bot, "terraform.project.move-workspaces")
    assert [(r["outcome"], r["confirmed_by"]) for r in rows] == [("refused", ""), ("succeeded", "U0ADMIN")]
    ack, _ = bot.command("move-workspaces terraform sandbox-playground")  # bad input is answered in the ack
    assert "at least one workspace" in message_text(ack.json()) and "Usage: `/projects move-workspaces" in ack.text
