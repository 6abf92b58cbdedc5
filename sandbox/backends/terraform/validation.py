"""Validation of project create/update documents, following the projects API reference."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .jsonapi import ApiError, invalid

NAME_MIN, NAME_MAX, DESCRIPTION_MAX = 3, 40, 256
_NAME_CHARS = re.compile(r"[A-Za-z0-9 _-]+")
_DURATION = re.compile(r"[1-9][0-9]{0,3}[dh]")
_TAG_CHARS = re.compile(r"[A-Za-z0-9_.=+@:-]*")
EXECUTION_MODES = ("remote", "local", "agent")
STACKS_EXECUTION_MODES = ("remote", "agent")
SETTING_OVERWRITES = (
    "default-execution-mode",
    "default-agent-pool",
    "stacks-default-execution-mode",
    "stacks-default-agent-pool",
)
MAX_TAGS, TAG_KEY_MAX, TAG_VALUE_MAX = 10, 128, 256

ATTR = "/data/attributes/"


def project_document(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(attributes, relationships)` of a `{"data": {"type": "projects", ...}}` document, or 422."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(422, [invalid("The request must be a JSON:API document with a `data` object.", "/data")])
    if data.get("type") != "projects":
        raise ApiError(422, [invalid('`data.type` must be "projects".', "/data/type")])
    attributes = data.get("attributes") or {}
    relationships = data.get("relationships") or {}
    if not isinstance(attributes, dict):
        raise ApiError(422, [invalid("`data.attributes` must be an object.", "/data/attributes")])
    if not isinstance(relationships, dict):
        raise ApiError(422, [invalid("`data.relationships` must be an object.", "/data/relationships")])
    return attributes, relationships


def _name_errors(name: Any, is_taken: Callable[[str], bool]) -> list[dict[str, Any]]:
    pointer = ATTR + "name"
    if name is None or (isinstance(name, str) and not name.strip()):
        return [invalid("Name can't be blank", pointer)]
    if not isinstance(name, str):
        return [invalid("Name must be a string", pointer)]
    errors = []
    if len(name) < NAME_MIN:
        errors.append(invalid(f"Name is too short (minimum is {NAME_MIN} characters)", pointer))
    if len(name) > NAME_MAX:
        errors.append(invalid(f"Name is too long (maximum is {NAME_MAX} characters)", pointer))
    if not _NAME_CHARS.fullmatch(name):
        errors.append(invalid("Name can only include letters, numbers, spaces, -, and _.", pointer))
    if name != name.strip(" "):
        errors.append(invalid("Name cannot start or end with a space", pointer))
    if not errors and is_taken(name):
        errors.append(invalid("Name has already been taken", pointer))
    return errors


def _tag_binding_errors(relationships: dict[str, Any]) -> tuple[list[dict[str, str]] | None, list[dict]]:
    rel = relationships.get("tag-bindings")
    if rel is None:
        return None, []
    base = "/data/relationships/tag-bindings/data"
    items = rel.get("data") if isinstance(rel, dict) else None
    if not isinstance(items, list):
        return None, [invalid("`tag-bindings.data` must be a list.", base)]
    if len(items) > MAX_TAGS:
        return None, [invalid(f"A project can have at most {MAX_TAGS} tag bindings", base)]
    tags: list[dict[str, str]] = []
    errors: list[dict] = []
    for i, item in enumerate(items):
        attrs = item.get("attributes") if isinstance(item, dict) else None
        key = attrs.get("key") if isinstance(attrs, dict) else None
        value = attrs.get("value", "") if isinstance(attrs, dict) else None
        pointer = f"{base}/{i}/attributes"
        if not isinstance(key, str) or not key or len(key) > TAG_KEY_MAX or not _TAG_CHARS.fullmatch(key):
            errors.append(invalid(f"Tag key must be 1-{TAG_KEY_MAX} letters, numbers or _.=+-@:", pointer + "/key"))
        elif key.lower().startswith(("hc:", "hcp:")):
            errors.append(invalid("Tag keys starting with hc: or hcp: are reserved", pointer + "/key"))
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > TAG_VALUE_MAX or not _TAG_CHARS.fullmatch(value):
            errors.append(
                invalid(f"Tag value must be at most {TAG_VALUE_MAX} letters, numbers or _.=+-@:", pointer + "/value")
            )
        if not errors:
            tags.append({"key": key, "value": value})
    return tags, errors


def _agent_pool(attributes: dict[str, Any], relationships: dict[str, Any]) -> str | None:
    for key in ("default-agent-pool-id", "default-agent-pool"):
        if isinstance(attributes.get(key), str):
            return attributes[key]
    rel = relationships.get("default-agent-pool")
    data = rel.get("data") if isinstance(rel, dict) else None
    return data.get("id") if isinstance(data, dict) else None


def project_changes(
    attributes: dict[str, Any],
    relationships: dict[str, Any],
    *,
    creating: bool,
    is_taken: Callable[[str], bool],
) -> dict[str, Any]:
    """Validated changes keyed by `Project` field name; raises a 422 listing every problem."""
    errors: list[dict[str, Any]] = []
    changes: dict[str, Any] = {}
    if creating or "name" in attributes:
        errors += _name_errors(attributes.get("name"), is_taken)
        changes["name"] = attributes.get("name")
    if "description" in attributes:
        description = attributes["description"]
        if description is not None and not isinstance(description, str):
            errors.append(invalid("Description must be a string", ATTR + "description"))
        elif description is not None and len(description) > DESCRIPTION_MAX:
            errors.append(
                invalid(f"Description is too long (maximum is {DESCRIPTION_MAX} characters)", ATTR + "description")
            )
        changes["description"] = description
    if "auto-destroy-activity-duration" in attributes:
        duration = attributes["auto-destroy-activity-duration"]
        if duration is not None and not (isinstance(duration, str) and _DURATION.fullmatch(duration)):
            errors.append(
                invalid(
                    "Auto destroy activity duration must be 1 to 4 digits greater than 0 followed by d (days) "
                    "or h (hours), for example 14d or 24h",
                    ATTR + "auto-destroy-activity-duration",
                )
            )
        changes["auto_destroy_activity_duration"] = duration
    for attr, allowed in (
        ("default-execution-mode", EXECUTION_MODES),
        ("stacks-default-execution-mode", STACKS_EXECUTION_MODES),
    ):
        if attr in attributes:
            mode = attributes[attr]
            if mode not in allowed:
                errors.append(
                    invalid(f"{attr.replace('-', ' ').capitalize()} must be one of: {', '.join(allowed)}", ATTR + attr)
                )
            changes[attr.replace("-", "_")] = mode
    pool = _agent_pool(attributes, relationships)
    if attributes.get("default-execution-mode") == "agent" and not pool:
        errors.append(
            invalid(
                "Default agent pool is required when the default execution mode is agent",
                "/data/relationships/default-agent-pool",
            )
        )
    if "default-execution-mode" in attributes:
        changes["default_agent_pool"] = pool if attributes["default-execution-mode"] == "agent" else None
    if "setting-overwrites" in attributes:
        overwrites = attributes["setting-overwrites"]
        if not isinstance(overwrites, dict) or not all(isinstance(v, bool) for v in overwrites.values()):
            errors.append(invalid("Setting overwrites must be an object of booleans", ATTR + "setting-overwrites"))
        else:
            changes["setting_overwrites"] = {k: v for k, v in overwrites.items() if k in SETTING_OVERWRITES}
    tags, tag_errors = _tag_binding_errors(relationships)
    errors += tag_errors
    if tags is not None:
        changes["tag_bindings"] = tags
    if errors:
        raise ApiError(422, errors)
    return changes
