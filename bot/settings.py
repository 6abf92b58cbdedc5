"""Environment and config file.

The environment carries the Slack credentials and the two projectops paths (the contract in
DESIGN.md). The YAML config names the back-end *targets* and the roles. Credentials in the
config are only `${ENV_VAR}` references (`${ENV_VAR:-default}` for emulator demo values); they
are resolved at load time into `SecretStr`, so a secret is never printed by accident.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BackendKind = Literal["polaris", "phoenix", "terraform", "matillion"]
BACKEND_KINDS: tuple[str, ...] = ("polaris", "phoenix", "terraform", "matillion")
Role = Literal["viewer", "operator", "admin"]
ROLE_ORDER: dict[str, int] = {"none": 0, "viewer": 1, "operator": 2, "admin": 3}

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$")
_TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ConfigError(Exception):
    """A config problem, worded as one line: file, key, what was expected."""

    def __init__(self, source: str, key: str, expected: str) -> None:
        self.source, self.key, self.expected = source, key, expected
        super().__init__(f"{source}: {key}: {expected}")


class Env(BaseSettings):
    """Process environment, per the contract."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    projectops_config: Path | None = None
    projectops_db: Path = Path("./projectops.db")
    # PostgreSQL for every piece of state (several replicas): postgresql://user:password@host:5432/db. Unset or
    # empty: SQLite at projectops_db. A secret, since the URL may carry the password.
    projectops_database_url: SecretStr | None = None
    # The optional model (bot/assistant/model.py): used only when base URL and model are both set.
    projectops_llm_base_url: str | None = None
    projectops_llm_model: str | None = None
    projectops_llm_api_key: SecretStr | None = None


class TargetPolicy(BaseModel):
    """Per-target policy overrides (who may do what on this target)."""

    model_config = ConfigDict(extra="forbid")

    roles: dict[Role, list[str]] = Field(default_factory=dict)
    destructive_channels: list[str] = Field(default_factory=list)
    require_approval: list[str] | None = None


class Target(BaseModel):
    """One back-end account: a Polaris organisation, a Phoenix server, a TFC organisation, a DPC account."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: BackendKind
    url: str
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    description: str = ""
    policy: TargetPolicy = Field(default_factory=TargetPolicy)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("an http(s) URL such as https://example.com")
        return value.rstrip("/")

    def secret(self, key: str) -> str | None:
        value = self.credentials.get(key)
        return value.get_secret_value() if value is not None else None

    def redacted(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "url": self.url,
            "credentials": {key: "***" for key in self.credentials},
            "options": self.options,
        }


class RolesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admin: list[str] = Field(default_factory=list)
    operator: list[str] = Field(default_factory=list)
    viewer: list[str] = Field(default_factory=list)
    default: Literal["none", "viewer", "operator", "admin"] = "viewer"


#: Operations that need a second person's approval unless the config says otherwise.
DEFAULT_REQUIRE_APPROVAL = ["project.delete", "project.stop", "table.drop", "job.delete-data", "table.delete-data"]


class ApprovalsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str | None = None
    expire_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60)
    required_for: list[str] = Field(default_factory=lambda: list(DEFAULT_REQUIRE_APPROVAL))


#: Storage thresholds, in percent of a project's limit: the one place they are written (config `digests:`).
FLAG_PERCENT = 80  # flagged at the top of a storage digest; listed as near its limit on the App Home
ALERT_PERCENT = 90  # raises an alert between digests; marked "nearly full" wherever storage is shown


class DigestsConfig(BaseModel):
    """Defaults for scheduled digests and the alert checks between them, and the storage thresholds every
    surface uses (read them as `flag_share` and `alert_share`)."""

    model_config = ConfigDict(extra="forbid")

    flag_percent: int = Field(default=FLAG_PERCENT, ge=1, le=100,
                              description="storage share flagged at a digest's top")
    alert_percent: int = Field(default=ALERT_PERCENT, ge=1, le=100,
                               description="storage share that raises an alert")
    alert_check_minutes: float = Field(default=5, gt=0, le=24 * 60)
    fanout: int = Field(default=256, ge=1, le=4096, description="requests in flight at once while building one")
    tick_seconds: float = Field(default=30, gt=0, le=3600, description="how often the leader looks for due digests")
    leader_lease_seconds: float = Field(
        default=15, ge=1, le=600,
        description="one replica leads the schedule; it renews its lease every third of this, and a leader that "
                    "stops renewing (crashed, cut off) is replaced within this")

    @property
    def flag_share(self) -> float:
        """The storage share (0-1) from which a project is flagged: a digest's top list, the App Home's "near its
        storage limit"."""
        return self.flag_percent / 100

    @property
    def alert_share(self) -> float:
        """The storage share (0-1) from which a project is nearly full: an alert between digests, the
        "nearly full" mark on Polaris storage figures."""
        return self.alert_percent / 100


class BackendsConfig(BaseModel):
    """How long one command may wait on back ends (config `backends:`), and how often a reply says it is waiting."""

    model_config = ConfigDict(extra="forbid")

    timeout_seconds: float = Field(default=20.0, gt=0, le=600,
                                   description="the longest one command waits on back ends before it says so")
    progress_seconds: float = Field(default=5.0, gt=0, le=600,
                                    description="after this long, and as often again, the reply says it still waits")

    @property
    def verify_seconds(self) -> float:
        """Kept out of a change's own time, to re-read the back end when the change's answer did not come."""
        return min(5.0, self.timeout_seconds / 4)

    @property
    def per_target_seconds(self) -> float:
        """What one target may take inside a command that reads several (`list`, `targets`, a digest), so the
        others' answers and the line saying which one did not answer are posted within `timeout_seconds`."""
        return max(0.5, self.timeout_seconds * 0.8)


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[str, Target] = Field(default_factory=dict)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    approvals: ApprovalsConfig = Field(default_factory=ApprovalsConfig)
    digests: DigestsConfig = Field(default_factory=DigestsConfig)
    backends: BackendsConfig = Field(default_factory=BackendsConfig)
    source: str = "<defaults>"

    def target(self, name: str) -> Target | None:
        return self.targets.get(name)

    def targets_of(self, kind: str) -> list[Target]:
        return [t for t in self.targets.values() if t.kind == kind]


def _resolve_credentials(source: str, name: str, raw: dict[str, Any], environ: dict[str, str]) -> dict:
    resolved: dict[str, str] = {}
    for key, value in (raw or {}).items():
        where = f"targets.{name}.credentials.{key}"
        match = _ENV_REF.match(str(value)) if isinstance(value, str) else None
        if not match:
            raise ConfigError(source, where, "a ${ENV_VAR} reference (inline secrets are not allowed)")
        var, default = match.group(1), match.group(2)
        value = environ.get(var) or default
        if not value:
            raise ConfigError(source, where, f"environment variable {var} to be set")
        resolved[key] = value
    return resolved


def _first_error(source: str, prefix: str, exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    parts = [str(p) for p in err["loc"] if "[" not in str(p)]  # drop union-branch tags
    key = ".".join([prefix, *parts]).strip(".")
    msg = err["msg"].removeprefix("Value error, ")
    return ConfigError(source, key or "(top level)", msg)


def parse_config(data: Any, source: str, environ: dict[str, str] | None = None) -> AppConfig:
    """Validate a parsed YAML document into an `AppConfig`, raising `ConfigError` on the first problem."""
    environ = dict(os.environ) if environ is None else environ
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, "(top level)", "a mapping with 'targets' and 'roles'")
    unknown = set(data) - {"targets", "roles", "approvals", "digests", "backends"}
    if unknown:
        raise ConfigError(source, sorted(unknown)[0], "one of targets, roles, approvals, digests, backends")
    raw_targets = data.get("targets") or {}
    if not isinstance(raw_targets, dict):
        raise ConfigError(source, "targets", "a mapping of target name to settings")
    targets: dict[str, Target] = {}
    for name, raw in raw_targets.items():
        name = str(name)
        if not _TARGET_NAME.match(name):
            raise ConfigError(source, f"targets.{name}", "a name of lowercase letters, digits, - and _")
        if not isinstance(raw, dict):
            raise ConfigError(source, f"targets.{name}", "a mapping with kind, url and credentials")
        body = dict(raw)
        body["name"] = name
        body["credentials"] = _resolve_credentials(source, name, body.get("credentials") or {}, environ)
        if body.get("kind") not in BACKEND_KINDS:
            raise ConfigError(source, f"targets.{name}.kind", f"one of {', '.join(BACKEND_KINDS)}")
        try:
            targets[name] = Target.model_validate(body)
        except ValidationError as exc:
            raise _first_error(source, f"targets.{name}", exc) from None
    try:
        roles = RolesConfig.model_validate(data.get("roles") or {})
    except ValidationError as exc:
        raise _first_error(source, "roles", exc) from None
    try:
        approvals = ApprovalsConfig.model_validate(data.get("approvals") or {})
    except ValidationError as exc:
        raise _first_error(source, "approvals", exc) from None
    try:
        digests = DigestsConfig.model_validate(data.get("digests") or {})
    except ValidationError as exc:
        raise _first_error(source, "digests", exc) from None
    try:
        backends = BackendsConfig.model_validate(data.get("backends") or {})
    except ValidationError as exc:
        raise _first_error(source, "backends", exc) from None
    return AppConfig(targets=targets, roles=roles, approvals=approvals, digests=digests, backends=backends,
                     source=source)


def load_config(path: Path | None, environ: dict[str, str] | None = None) -> AppConfig:
    """Load the YAML config at `path` (no path: no targets, default roles)."""
    if path is None:
        return AppConfig()
    source = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ConfigError(source, "(file)", "an existing, readable YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"line {line + 1}" if line is not None else "(file)"
        raise ConfigError(source, where, "valid YAML") from None
    return parse_config(data, source, environ)
