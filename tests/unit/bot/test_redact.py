from __future__ import annotations

from pydantic import SecretStr

from bot.redact import MASK, redact, register_secret, scrub


def test_redact_masks_secret_named_fields_and_secretstr() -> None:
    data = {"name": "p1", "password": "hunter22", "nested": {"private_key": "abc", "api-key": "k"},
            "token": SecretStr("t"), "items": [{"passphrase": "pp"}]}
    out = redact(data)
    assert out["name"] == "p1"
    assert out["password"] == out["nested"]["private_key"] == out["nested"]["api-key"] == MASK
    assert out["token"] == MASK and out["items"][0]["passphrase"] == MASK


def test_scrub_removes_known_values_and_token_shapes() -> None:
    register_secret("s3cr3t-value-xyz")
    text = "failed with s3cr3t-value-xyz and xoxb-1234567890-abc and Authorization: Bearer abcdefghijkl"
    cleaned = scrub(text)
    assert "s3cr3t-value-xyz" not in cleaned and "xoxb-1234567890" not in cleaned and "abcdefghijkl" not in cleaned
