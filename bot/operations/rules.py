"""Input rules of the params models, and their refusals in words every surface shows unchanged.

A params model is the one place a rule lives (pydantic `Field` limits and `field_validator`s). A rule that
refuses raises `rule_error("a whole sentence: what is wrong and what to type")`; the slash-command parser, the
modals and the assistant show that sentence as it is, so the same input is refused with the same words
everywhere, before any back-end call. `problems()` turns any `ValidationError` into {field: sentence}.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

#: The pydantic error type of a rule's refusal: its message is a whole sentence, shown as it is.
RULE = "projectops_rule"


def rule_error(sentence: str) -> PydanticCustomError:
    """The error a params-model validator raises: `raise rule_error("…")`."""
    return PydanticCustomError(RULE, sentence)  # no context: the sentence is not formatted


#: What Slack reads as the start and end of a control sequence in any message: `<!here>`, `<!channel>`, `<@U…>`,
#: `<#C…>`, `<https://…|…>`. A new thing's name holding one would be a mention or a link wherever it is shown.
SLACK_MARKUP = "<>"


def slack_safe_name(value: Any) -> Any:
    """The rule for the name of anything projectops creates (projects, tables, columns, connections, environments):
    no `<` or `>`, so it cannot be read by Slack as a mention (`<!here>`, `<@U…>`), a channel or a link.
    Used as a params model's validator: `_name = field_validator("name", mode="before")(slack_safe_name)`."""
    names = value if isinstance(value, list) else [value]
    for name in names:
        if isinstance(name, str) and any(c in SLACK_MARKUP for c in name):
            cleaned = "".join(c for c in name if c not in SLACK_MARKUP).strip() or "my-project"
            raise rule_error(f"A name cannot contain < or >: Slack would read them as a mention or a link "
                             f"(like <!here> or <@someone>). Pick a name without them, e.g. `{cleaned}`.")
    return value


def is_rule(err: ErrorDetails) -> bool:
    return err["type"] == RULE


def field_of(err: ErrorDetails) -> str:
    """The params field an error is about ("" for the model as a whole)."""
    return str(err["loc"][0]) if err.get("loc") else ""


def message(err: ErrorDetails) -> str:
    """A pydantic error as text: a rule's sentence as it is, pydantic's own words without their prefix."""
    return str(err["msg"]).removeprefix("Value error, ")


def problems(exc: ValidationError) -> dict[str, str]:
    """{field: message} for each field with a problem (the first problem of each field)."""
    found: dict[str, str] = {}
    for err in exc.errors():
        found.setdefault(field_of(err), message(err))
    return found


def field_problem(model: type[BaseModel], field: str, value: Any) -> str | None:
    """What the params model says about one field's value alone (None when it takes it): for forms that ask for
    a model's fields a few at a time."""
    try:
        model.__pydantic_validator__.validate_assignment(model.model_construct(), field, value)
    except ValidationError as exc:
        return message(exc.errors()[0])
    return None


def max_length(model: type[BaseModel], field: str) -> int | None:
    """The field's `max_length` in the params model (None when it has none), e.g. for a form input's limit."""
    info = model.model_fields.get(field)
    for item in info.metadata if info else ():
        limit = getattr(item, "max_length", None)
        if isinstance(limit, int):
            return limit
    return None
