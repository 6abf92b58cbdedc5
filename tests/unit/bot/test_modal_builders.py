"""Modal builders and field validation for create / edit."""

from __future__ import annotations

from bot import modals
from bot.operations.loader import load_operations


def _create_params(kind: str):
    op = load_operations().get("project.create", kind)
    assert op is not None
    return op.params


def test_terraform_rules_are_keyed_by_block() -> None:
    params, errors = modals.validate(_create_params("terraform"), "terraform",
                                     {"name": "ab", "auto_destroy": "later"}, modals.CREATE_FIELDS["terraform"])
    assert params is None and set(errors) == {"name", "auto_destroy"}


def test_valid_matillion_values_build_the_params_model() -> None:
    params, errors = modals.validate(_create_params("matillion"), "matillion",
                                     {"name": "dwh", "warehouse": "snowflake", "deployment_type": "hybrid"},
                                     modals.CREATE_FIELDS["matillion"])
    assert errors == {} and params is not None and params.warehouse == "SNOWFLAKE"


def test_pydantic_errors_land_on_their_field() -> None:
    _, errors = modals.validate(_create_params("polaris"), "polaris", {"name": "x" * 200, "plan": "starter"},
                                modals.CREATE_FIELDS["polaris"])
    assert set(errors) == {"name"}


def test_submitted_values_reads_inputs_and_selects_and_skips_empty() -> None:
    view = {"state": {"values": {
        "name": {"value": {"type": "plain_text_input", "value": " web "}},
        "region": {"value": {"type": "static_select", "selected_option": {"value": "eu-west-1"}}},
        "description": {"value": {"type": "plain_text_input", "value": ""}},
    }}}
    assert modals.submitted_values(view) == {"name": "web", "region": "eu-west-1"}


def test_create_view_adds_fields_once_a_target_is_picked() -> None:
    targets = [("polaris", "polaris"), ("phoenix", "phoenix")]
    first = modals.create_view(targets, {"user": "U1"})
    assert [b["block_id"] for b in first["blocks"] if b["type"] == "input"] == ["target"]
    second = modals.create_view(targets, {"user": "U1"}, "phoenix", "phoenix")
    assert [b.get("block_id") for b in second["blocks"]] == ["target", "name", "description"]
    assert '"kind": "phoenix"' in second["private_metadata"]


def test_edit_view_shows_current_values() -> None:
    view = modals.edit_view("polaris", "polaris", "web", {"plan": "a.01", "stop_protection": True,
                                                           "deletion_protection": False}, {})
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["plan"]["element"]["initial_value"] == "a.01"
    assert blocks["stop_protection"]["element"]["initial_option"]["value"] == "on"
    assert blocks["deletion_protection"]["element"]["initial_option"]["value"] == "off"
