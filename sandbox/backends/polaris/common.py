"""Request helpers shared by the route modules: body parsing, content types, field validation."""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.requests import Request

from .errors import ApiError, bad_request
from .store import Store

JSON = ("application/json",)
MERGE_PATCH = ("application/merge-patch+json",)


def store_of(request: Request) -> Store:
    return request.app.state.store


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request, allowed: tuple[str, ...] = JSON, wrong_type_status: int = 415) -> dict:
    """The JSON object in the body; `wrong_type_status` when the Content-Type is not one of `allowed`."""
    got = media_type(request)
    if got not in allowed:
        raise ApiError(
            wrong_type_status,
            f"Content-Type must be {' or '.join(allowed)} (got {got or 'no Content-Type'}).",
        )
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc.msg}.") from exc
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data


def location(request: Request, path: str) -> dict[str, str]:
    """A Location header for a created resource, below the prefix the app is mounted at."""
    return {"Location": request.scope.get("root_path", "") + path}


def get_obj(body: dict, key: str, where: str = "", required: bool = False) -> dict:
    value = body.get(key)
    name = f"{where}{key}"
    if value is None:
        if required:
            raise bad_request(f"{name} is required.", name)
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be an object.", name)
    return value


def get_str(
    body: dict,
    key: str,
    where: str = "",
    *,
    required: bool = False,
    min_len: int = 0,
    max_len: int | None = None,
    choices: Iterable[str] | None = None,
    default: str | None = None,
) -> str | None:
    value = body.get(key)
    name = f"{where}{key}"
    if value is None:
        if required:
            raise bad_request(f"{name} is required.", name)
        return default
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string.", name)
    if len(value) < min_len:
        raise bad_request(f"{name} must be at least {min_len} character(s) long.", name)
    if max_len is not None and len(value) > max_len:
        raise bad_request(f"{name} must be at most {max_len} characters long (got {len(value)}).", name)
    if choices is not None:
        options = tuple(choices)
        if value not in options:
            raise bad_request(f"{name} '{value}' is not valid. Valid values: {', '.join(options)}.", name)
    return value


def get_bool(body: dict, key: str, where: str = "", default: bool | None = None) -> bool | None:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{where}{key} must be true or false.", f"{where}{key}")
    return value


def get_str_list(body: dict, key: str, where: str = "") -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{where}{key} must be a list of strings.", f"{where}{key}")
    return value


def query_list(request: Request, name: str) -> list[str]:
    """All values of a repeatable query parameter: `name=a&name=b`, `name[]=a` and `name=a,b` all work."""
    values: list[str] = []
    for key, value in request.query_params.multi_items():
        if key in (name, f"{name}[]"):
            values.extend(v for v in value.split(",") if v)
    return values


def query_int(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Query parameter {name} must be an integer (got '{raw}').", name) from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"Query parameter {name} must be {bounds} (got {value}).", name)
    return value


def check_choices(values: list[str], choices: Iterable[str], name: str) -> list[str]:
    options = tuple(choices)
    for value in values:
        if value not in options:
            raise bad_request(
                f"Query parameter {name} value '{value}' is not valid. Valid values: {', '.join(options)}.",
                name,
            )
    return values
