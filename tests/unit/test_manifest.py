"""manifest.yml validates offline against Slack's official manifest JSON Schema (slackapi/manifest-schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "fixtures" / "slack-manifest-schema"
REMOTE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"


def validator() -> Draft7Validator:
    registry = Registry()
    for version in ("1.0.0", "2.0.0"):
        schema = json.loads((SCHEMAS / f"manifest.schema.{version}.json").read_text())
        registry = registry.with_resource(f"{REMOTE}manifest.schema.{version}.json", Resource.from_contents(schema))
    root = json.loads((SCHEMAS / "manifest.schema.json").read_text())
    return Draft7Validator(root, registry=registry)


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid() -> None:
    errors = [e.message for e in validator().iter_errors(manifest())]
    assert errors == []


def test_manifest_declares_what_the_product_needs() -> None:
    m = manifest()
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/projects"]
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im", "app_home_opened"}
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["socket_mode_enabled"] is True
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "im:history"} <= scopes
    assert not any(s.startswith(("admin", "channels:history", "chat:write.customize")) for s in scopes)


@pytest.mark.parametrize("breakage", ["command", "name"])
def test_schema_catches_a_broken_manifest(breakage: str) -> None:
    m = manifest()
    if breakage == "command":
        m["features"]["slash_commands"][0]["command"] = "projects"  # no leading slash
    else:
        m["display_information"]["name"] = "x" * 36
    assert list(validator().iter_errors(m))
