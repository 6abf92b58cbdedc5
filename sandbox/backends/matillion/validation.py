"""Request validation for the Matillion DPC emulator, collecting bean-validation-style violations.

Each violation is a string `"<field>: <message>"`, as in the `violations` array of the API's
problem+json errors. Enum values are matched case-insensitively and returned in canonical form.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_UUID_RE = re.compile(UUID_PATTERN)


def is_project_id(value: str) -> bool:
    return bool(_UUID_RE.match(value))


class Violations(list[str]):
    """Checks fields of a JSON object, appending a violation for every problem found."""

    def add(self, field: str, message: str) -> None:
        self.append(f"{field}: {message}")

    def text(
        self,
        body: dict[str, Any],
        field: str,
        *,
        required: bool = True,
        min_len: int = 1,
        max_len: int | None = None,
        blank_ok: bool = False,
    ) -> str | None:
        value = body.get(field)
        if value is None:
            if required:
                self.add(field, "must not be null")
            return None
        if not isinstance(value, str):
            self.add(field, "must be a string")
            return None
        if not blank_ok and min_len > 0 and not value.strip():
            self.add(field, "must not be blank")
            return None
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            upper = max_len if max_len is not None else 2147483647
            self.add(field, f"size must be between {min_len} and {upper}")
            return None
        return value

    def enum(self, body: dict[str, Any], field: str, allowed: tuple[str, ...]) -> str | None:
        value = body.get(field)
        if value is None:
            self.add(field, "must not be null")
            return None
        if isinstance(value, str):
            for option in allowed:
                if option.casefold() == value.casefold():
                    return option
        self.add(field, f"must be one of [{', '.join(allowed)}]")
        return None

    def uuid_value(self, body: dict[str, Any], field: str) -> str | None:
        value = body.get(field)
        if value is None:
            self.add(field, "must not be null")
            return None
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            self.add(field, "must be a valid UUID")
            return None

    def names(self, body: dict[str, Any], field: str) -> list[str] | None:
        """A non-empty list of non-blank names; a single string is taken as a list of one."""
        value = body.get(field)
        if isinstance(value, str):
            value = [value]
        if value is None:
            self.add(field, "must not be null")
            return None
        if not isinstance(value, list) or not value:
            self.add(field, "must be a non-empty array of connection names")
            return None
        if not all(isinstance(v, str) and v.strip() for v in value):
            self.add(field, "must contain only non-blank connection names")
            return None
        return value

    def mapping(self, body: dict[str, Any], field: str, *, required: bool = False) -> dict[str, Any] | None:
        value = body.get(field)
        if value is None:
            if required:
                self.add(field, "must not be null")
            return None
        if not isinstance(value, dict):
            self.add(field, "must be an object")
            return None
        return value


def page_params(query: dict[str, str], violations: Violations) -> tuple[int, int]:
    """`page` (0-based, default 0) and `size` (1..100, default 25) from a query string."""
    values = {}
    for name, default, low, high in (("page", 0, 0, None), ("size", 25, 1, 100)):
        raw = query.get(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            violations.add(name, "must be an integer")
            values[name] = default
            continue
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"greater than or equal to {low}"
            violations.add(name, f"must be {bound}")
            value = default
        values[name] = value
    return values["page"], values["size"]
