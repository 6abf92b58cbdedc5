"""Routing a typed text: bad input, forms (from the registry's `form` facts), or a parsed command."""

from __future__ import annotations

import pytest

from bot.errors import UsageError
from bot.operations.context import Services
from bot.operations.parser import ParsedCommand
from bot.slack.runner import OpenForm, route


@pytest.fixture
def services(make_services) -> Services:
    targets = {kind: {"kind": kind, "url": "http://x"} for kind in ("polaris", "phoenix", "terraform", "matillion")}
    return make_services({"targets": targets, "roles": {"default": "admin"}})


@pytest.mark.parametrize(("text", "form", "target"), [
    ("create", "create", None), ("new", "create", None), ("edit", "edit", None),
    ("provision", "provision", None), ("provision matillion", "provision", "matillion"),
    ("edit polaris clickstream", "edit", "polaris"),
])
def test_forms_open_from_the_registry(services: Services, text: str, form: str, target: str | None) -> None:
    routed = route(services, text)
    assert isinstance(routed, OpenForm) and routed.operation.form == form
    assert (routed.target.name if routed.target else None) == target


def test_commands_with_arguments_parse(services: Services) -> None:
    routed = route(services, "create phoenix my-app")
    assert isinstance(routed, ParsedCommand) and routed.operation.qualified_name == "phoenix.project.create"


def test_bad_input_is_a_usage_error(services: Services) -> None:
    assert isinstance(route(services, "frobnicate"), UsageError)
    assert isinstance(route(services, 'show polaris "unclosed'), UsageError)
