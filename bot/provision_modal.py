"""The guided Matillion provisioning modal: four steps, their views and the field rules checked on submit.

Step 1 project → push step 2 warehouse connection → push step 3 environment → (update) step 4 credentials and
repository. Earlier steps' answers travel in `private_metadata`, which holds no secret: every secret field
(Snowflake private key and passphrase, Redshift password, GitHub token) is on the last step only, so the one
submission that carries them is the one that runs the provisioning, and no secret is ever stored between steps.
Slack keeps at most three views in a stack, so the last step replaces the third instead of being pushed.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from pydantic import SecretStr, ValidationError

from bot.modals import Field, field_blocks, option, submitted_values
from bot.operations import rules
from bot.operations.matillion.projects import DEPLOYMENT_CHOICES, WAREHOUSE_CHOICES
from bot.operations.matillion.provision import ACCESS_LEVELS, SECRET_FIELDS, UUID_LENGTH, ProvisionParams
from bot.ui import blocks as bk
from bot.ui.ids import PROVISION_CALLBACK, PROVISION_RESUME_ACTION, PROVISION_RESUME_CALLBACK

CALLBACK = PROVISION_CALLBACK
RESUME_CALLBACK = PROVISION_RESUME_CALLBACK
RESUME_ACTION = PROVISION_RESUME_ACTION
TARGET_BLOCK = "target"
STEP_TITLES = ("Project", "Warehouse connection", "Environment", "Credentials")
META_MAX = 3000  # Slack's private_metadata limit
PORT_DIGITS = 5
#: A field's length limit, read from ProvisionParams (the one place it is written).
limit = partial(rules.max_length, ProvisionParams)

PROJECT_FIELDS = (
    Field("name", "Project name", max_length=limit("name")),
    Field("description", "Description", "multiline", optional=True, max_length=limit("description")),
    Field("warehouse", "Warehouse", "select", choices=WAREHOUSE_CHOICES),
    Field("deployment_type", "Deployment type", "select", choices=DEPLOYMENT_CHOICES),
)
CONNECTION_FIELDS = {
    "snowflake": (
        Field("account", "Snowflake account", hint="e.g. acme-xy12345", max_length=limit("account")),
        Field("username", "Username", max_length=limit("username")),
        Field("connection", "Connection name", optional=True, hint="snowflake-main if left empty",
              max_length=limit("connection")),
        Field("default_role", "Default role", optional=True, max_length=limit("default_role")),
        Field("default_warehouse", "Default warehouse", optional=True, max_length=limit("default_warehouse")),
        Field("default_database", "Default database", optional=True, max_length=limit("default_database")),
        Field("default_schema", "Default schema", optional=True, max_length=limit("default_schema")),
    ),
    "redshift": (
        Field("endpoint", "Redshift endpoint", hint="the cluster host name", max_length=limit("endpoint")),
        Field("port", "Port", optional=True, hint="5439 if left empty", max_length=PORT_DIGITS),
        Field("username", "Username", max_length=limit("username")),
        Field("connection", "Connection name", optional=True, hint="redshift-main if left empty",
              max_length=limit("connection")),
        Field("default_database", "Default database", optional=True, max_length=limit("default_database")),
        Field("default_schema", "Default schema", optional=True, max_length=limit("default_schema")),
    ),
}
ENVIRONMENT_FIELDS = (
    Field("environment", "Environment name", max_length=limit("environment")),
    Field("environment_description", "Environment description", "multiline", optional=True,
          max_length=limit("environment_description")),
    Field("agent", "Default agent id", hint="a UUID, as Matillion shows it", max_length=UUID_LENGTH),
    Field("access_level", "Default access level", "select", choices=ACCESS_LEVELS),
)
SECRET_HINT = "Typed only here: never stored by projectops, never shown again."
CREDENTIAL_FIELDS = {
    "snowflake": (
        Field("private_key", "Snowflake private key", "multiline", hint=SECRET_HINT),
        Field("passphrase", "Private key passphrase", optional=True, hint="Only if the key is encrypted."),
    ),
    "redshift": (Field("password", "Redshift password", hint=SECRET_HINT),),
}
REPOSITORY_FIELDS = (
    Field("repository", "GitHub repository", optional=True, hint="owner/repo — leave empty to skip",
          max_length=limit("repository")),
    Field("git_access_token", "GitHub personal access token", optional=True, hint=SECRET_HINT),
)
STEP_FIELDS = ("project", "connection", "environment", "credentials")


def fields_for(step: int, values: dict[str, Any]) -> tuple[Field, ...]:
    """The fields a step asks for, given the answers so far."""
    warehouse = (values.get("warehouse") or "snowflake").lower()
    if step == 1:
        return PROJECT_FIELDS
    if step == 2:
        return CONNECTION_FIELDS[warehouse]
    if step == 3:
        return ENVIRONMENT_FIELDS
    repo = REPOSITORY_FIELDS if values.get("deployment_type", "hybrid").lower() != "full_saas" else ()
    return CREDENTIAL_FIELDS[warehouse] + repo


def _view(title: str, blocks: list[dict[str, Any]], meta: dict[str, Any], submit: str | None,
          callback_id: str = CALLBACK) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": bk.plain(title, 24),
                            "close": bk.plain("Cancel"), "blocks": blocks[: bk.MAX_VIEW_BLOCKS],
                            "private_metadata": json.dumps(meta)}
    if submit:
        view["submit"] = bk.plain(submit)
    return view


def message_view(text: str, meta: dict[str, Any]) -> dict[str, Any]:
    return _view("Provision Matillion", [bk.section(text)], meta, submit=None)


def _target_block(targets: list[str], picked: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": "value",
                               "placeholder": bk.plain("Choose a Matillion target"),
                               "options": [option(t) for t in targets][:100]}
    if picked in targets:
        element["initial_option"] = option(picked)
    return {"type": "input", "block_id": TARGET_BLOCK, "label": bk.plain("Target"), "element": element}


def step_view(step: int, meta: dict[str, Any], targets: list[str] | None = None) -> dict[str, Any]:
    """Step `step` (1-4); `meta` carries user, channel, team, target and the earlier steps' `values`."""
    values: dict[str, Any] = meta.get("values") or {}
    intro = f"*Step {step} of 4 — {STEP_TITLES[step - 1].lower()}*"
    if step == 1:
        intro += "\nProvisioning creates the project, its warehouse connection, an environment and (optionally) " \
                 "links a GitHub repository. Secrets are asked for on the last step only."
    elif values.get("name"):
        intro += f" · project *{values['name']}* ({values.get('warehouse', '').upper()}) on `{meta.get('target')}`"
    blocks: list[dict[str, Any]] = [bk.section(intro)]
    if step == 1 and targets and len(targets) > 1:
        blocks.append(_target_block(targets, meta.get("target")))
    initial = {"deployment_type": "hybrid", "access_level": "default", **values}
    blocks += field_blocks(fields_for(step, values), initial if step < 4 else None)
    if step == 4 and values.get("deployment_type") == "full_saas":
        blocks.append(bk.context("Full SaaS projects cannot be linked to a repository through the API."))
    submit = "Provision" if step == 4 else "Next"
    return _view(f"Provision · {step}/4", blocks, {**meta, "step": step}, submit)


def resume_view(record_id: str, target: str, plan: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Re-enter the secrets to resume a failed provisioning with its recorded plan."""
    warehouse = str(plan.get("warehouse", "SNOWFLAKE")).lower()
    fields = CREDENTIAL_FIELDS.get(warehouse, CREDENTIAL_FIELDS["snowflake"])
    if plan.get("repository"):
        fields += (Field("git_access_token", "GitHub personal access token", hint=SECRET_HINT),)
    blocks = [bk.section(f"Resume provisioning `{record_id}` of *{plan.get('name')}* on `{target}` where it "
                         "stopped. The plan is the recorded one; type the secrets again."),
              *field_blocks(fields)]
    return _view("Resume provisioning", blocks, {**meta, "target": target, "resume": record_id}, "Resume",
                 callback_id=RESUME_CALLBACK)


# ---------------------------------------------------------------- submissions
def step_values(view: dict[str, Any], step: int, earlier: dict[str, Any]) -> dict[str, Any]:
    """The submitted answers of one step, only for its own fields (empty fields left out)."""
    names = {f.name for f in fields_for(step, earlier)} | ({TARGET_BLOCK} if step == 1 else set())
    return {k: v for k, v in submitted_values(view).items() if k in names}


def check_step(step: int, values: dict[str, Any], earlier: dict[str, Any]) -> dict[str, str]:
    """Errors keyed by block_id for one step's answers, each field checked by ProvisionParams' own rules (the
    words the command line shows too); never echoes a value back."""
    errors: dict[str, str] = {}
    for f in fields_for(step, {**earlier, **values}):
        value = values.get(f.name)
        if not f.optional and not value:
            errors[f.name] = f"{f.label} is required."
        elif f.choices and value and value not in f.choices:
            errors[f.name] = "Choose one of the options."
        elif value and f.name in ProvisionParams.model_fields:
            problem = rules.field_problem(ProvisionParams, f.name, value)
            if problem:
                errors[f.name] = problem
    if step == 4 and "repository" not in errors:
        repo, token = values.get("repository"), values.get("git_access_token")
        if repo and not token:
            errors["git_access_token"] = "A repository needs a personal access token."
        elif token and not repo:
            errors["repository"] = "Name the repository the token is for, or clear the token."
    return errors


def fits_metadata(meta: dict[str, Any]) -> bool:
    return len(json.dumps(meta)) <= META_MAX


def public_values(values: dict[str, Any]) -> dict[str, Any]:
    """What may travel in private_metadata: never a secret field."""
    return {k: v for k, v in values.items() if k not in SECRET_FIELDS and k != TARGET_BLOCK}


def build_params(earlier: dict[str, Any], secrets: dict[str, Any]) -> tuple[ProvisionParams | None, str]:
    """ProvisionParams from the public answers and the last step's secrets; or why not (no values in it)."""
    fields: dict[str, Any] = {k: v for k, v in public_values({**earlier, **secrets}).items()
                              if k in ProvisionParams.model_fields}
    for name in SECRET_FIELDS:
        if secrets.get(name):
            fields[name] = SecretStr(secrets[name])
    try:
        return ProvisionParams(**fields), ""
    except ValidationError as exc:
        where = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")}))
        return None, f"Some answers are not valid ({where}); start again with /projects provision."


def resume_params(record_id: str, secrets: dict[str, Any]) -> ProvisionParams:
    return ProvisionParams(resume=record_id, **{k: SecretStr(v) for k, v in secrets.items()
                                                if k in SECRET_FIELDS and v})
