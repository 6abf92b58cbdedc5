"""The provisioning modal's views and field rules, without Slack."""

from __future__ import annotations

import json

from bot import provision_modal as pm
from sandbox.slack.blockkit import validate

AGENT = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d"
META = {"user": "U1", "channel": "C1", "team": "T1", "target": "matillion"}


def test_every_step_is_a_valid_modal_and_secrets_are_only_on_the_last() -> None:
    for warehouse in ("snowflake", "redshift"):
        values = {"name": "dwh", "warehouse": warehouse, "deployment_type": "hybrid"}
        for step in (1, 2, 3, 4):
            view = pm.step_view(step, {**META, "values": values}, ["matillion", "matillion-eu"])
            assert validate(view, "modal") == [], (warehouse, step)
            blocks = {b.get("block_id") for b in view["blocks"]}
            assert bool(blocks & set(pm.SECRET_FIELDS)) == (step == 4)
        assert pm.TARGET_BLOCK in {b.get("block_id") for b in pm.step_view(1, META, ["a", "b"])["blocks"]}


def test_field_rules_never_echo_values() -> None:
    assert pm.check_step(1, {"warehouse": "snowflake", "deployment_type": "hybrid"}, {}) == {
        "name": "Project name is required."}
    errors = pm.check_step(3, {"environment": "dev", "agent": "nope", "access_level": "default"}, {})
    assert "UUID" in errors["agent"] and "nope" not in errors["agent"]
    earlier = {"warehouse": "snowflake", "deployment_type": "hybrid"}
    assert "repository" in pm.check_step(4, {"private_key": "k", "repository": "bad name"}, earlier)
    assert "git_access_token" in pm.check_step(4, {"private_key": "k", "repository": "a/b"}, earlier)
    assert pm.check_step(4, {"private_key": "k", "repository": "a/b", "git_access_token": "t"}, earlier) == {}


def test_params_carry_secrets_as_secretstr_and_metadata_never_does() -> None:
    earlier = {"name": "dwh", "warehouse": "snowflake", "deployment_type": "hybrid", "account": "acme",
               "username": "svc", "environment": "dev", "agent": AGENT, "access_level": "default"}
    params, problem = pm.build_params(earlier, {"private_key": "KEY-123", "git_access_token": "", "repository": ""})
    assert params is not None and not problem
    assert params.private_key is not None and params.private_key.get_secret_value() == "KEY-123"
    assert "KEY-123" not in repr(params)
    assert pm.public_values({"private_key": "KEY-123", "name": "dwh"}) == {"name": "dwh"}
    view = pm.step_view(4, {**META, "values": earlier})
    assert "KEY-123" not in json.dumps(view)
