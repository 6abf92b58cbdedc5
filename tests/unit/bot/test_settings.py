from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_config, parse_config

GOOD = {
    "targets": {
        "polaris-us": {"kind": "polaris", "url": "https://acme.us-east-1.aws.api.imply.io/",
                       "credentials": {"api_key": "${POLARIS_KEY}"}},
        "polaris-eu": {"kind": "polaris", "url": "https://acme.eu-central-1.aws.api.imply.io",
                       "credentials": {"api_key": "${POLARIS_EU_KEY:-demo}"}},
        "tfc": {"kind": "terraform", "url": "https://app.terraform.io", "credentials": {"token": "${TFE_TOKEN}"},
                "options": {"organization": "acme"}},
    },
    "roles": {"admin": ["U1"], "operator": ["S1"], "default": "viewer"},
}
ENV = {"POLARIS_KEY": "pk-secret-1", "TFE_TOKEN": "tfe-secret-2"}


def test_targets_resolve_env_references_into_secrets() -> None:
    config = parse_config(GOOD, "c.yml", ENV)
    us = config.targets["polaris-us"]
    assert us.url == "https://acme.us-east-1.aws.api.imply.io"
    assert us.secret("api_key") == "pk-secret-1"
    assert "pk-secret-1" not in repr(us) and "pk-secret-1" not in str(us.redacted())
    assert config.targets["polaris-eu"].secret("api_key") == "demo"
    assert [t.name for t in config.targets_of("polaris")] == ["polaris-us", "polaris-eu"]
    assert (config.digests.flag_percent, config.digests.alert_percent) == (80, 90)
    tuned = parse_config({**GOOD, "digests": {"flag_percent": 70, "alert_check_minutes": 1}}, "c.yml", ENV)
    assert (tuned.digests.flag_percent, tuned.digests.alert_check_minutes) == (70, 1)
    assert (config.digests.flag_share, config.digests.alert_share) == (0.8, 0.9)  # the one source of thresholds
    assert tuned.digests.flag_share == 0.7


@pytest.mark.parametrize(
    ("mutate", "key", "expected"),
    [
        (lambda d: d["targets"]["tfc"]["credentials"].update(token="inline"), "targets.tfc.credentials.token",
         "${ENV_VAR} reference"),
        (lambda d: d["targets"]["tfc"].update(kind="jenkins"), "targets.tfc.kind", "one of polaris"),
        (lambda d: d["targets"]["tfc"].update(url="ftp://x"), "targets.tfc.url", "http(s) URL"),
        (lambda d: d["targets"]["tfc"].update(colour="red"), "targets.tfc.colour", "Extra inputs"),
        (lambda d: d["roles"].update(default="god"), "roles.default", "viewer"),
        (lambda d: d.update(extra=1), "extra", "one of targets"),
        (lambda d: d.update(digests={"flag_percent": 120}), "digests.flag_percent", "less than or equal to 100"),
        (lambda d: d.update(digests={"alert_every": 5}), "digests.alert_every", "Extra inputs"),
    ],
)
def test_bad_config_names_file_key_and_expectation(mutate, key: str, expected: str) -> None:
    import copy

    data = copy.deepcopy(GOOD)
    mutate(data)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.yml", ENV)
    assert info.value.source == "c.yml"
    assert info.value.key == key
    assert expected in info.value.expected


def test_missing_env_var_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD, "c.yml", {"POLARIS_KEY": "x"})
    assert "TFE_TOKEN" in info.value.expected


def test_load_config_reports_yaml_errors_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("targets: [unclosed\n")
    with pytest.raises(ConfigError, match="valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="existing"):
        load_config(tmp_path / "missing.yml")
    assert load_config(None).targets == {}


def test_the_time_a_command_may_wait_on_back_ends_is_configured() -> None:
    config = parse_config({"backends": {"timeout_seconds": 8, "progress_seconds": 2}}, "c.yml", {})
    assert (config.backends.timeout_seconds, config.backends.progress_seconds) == (8, 2)
    assert config.backends.verify_seconds == 2 and config.backends.per_target_seconds == pytest.approx(6.4)
    assert parse_config({}, "c.yml", {}).backends.timeout_seconds == 20
    with pytest.raises(ConfigError) as caught:
        parse_config({"backends": {"timeout_seconds": 0}}, "c.yml", {})
    assert str(caught.value).startswith("c.yml: backends.timeout_seconds:")
