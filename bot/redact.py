"""Keeping secrets out of Slack messages, logs, audit rows and error text."""

from __future__ import annotations

import re
import threading
from typing import Any

from pydantic import SecretStr

MASK = "***"
_SECRET_KEY = re.compile(
    r"(pass(word|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|^pat$|authorization)", re.I
)
_SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{6,}"),
    re.compile(r"xapp-[A-Za-z0-9-]{6,}"),
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
]

_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | SecretStr | None) -> None:
    """Remember a secret value so `scrub` removes it wherever it turns up (config credentials, modal input)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value and len(value) >= 4:
        with _known_lock:
            _known.add(value)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def scrub(text: str) -> str:
    """Remove known secret values and secret-looking strings from free text. A `str` subclass keeps its class
    (projectops' own Slack markup stays trusted: the mask adds no markup)."""
    if not text:
        return text
    kind = type(text)
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
        if kind is not str:  # Slack markup holds outside values escaped (& < >): mask that form too
            text = text.replace(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), MASK)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(MASK, text)
    return text if kind is str or isinstance(text, kind) else kind(text)


def redact(value: Any, key: str = "") -> Any:
    """A copy of `value` (params, payloads) with secret-named fields and SecretStr values masked."""
    if isinstance(value, SecretStr):
        return MASK
    if key and is_secret_key(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value
