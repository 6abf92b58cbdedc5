"""OpenAI-shaped error bodies: `{"error": {"message", "type", "param", "code"}}`.

The messages copy the wording the real API uses for the same mistake (as seen in client bug
reports), so code that shows or matches them behaves as it would against the real thing.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

INVALID_REQUEST = "invalid_request_error"


class ApiError(Exception):
    """An error answer of the emulated API; `response()` renders it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = error_type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, error_type=self.type, param=self.param, code=self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(
    message: str, *, error_type: str = INVALID_REQUEST, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing(param: str) -> ApiError:
    return bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def invalid_type(param: str, expected: str, value: Any) -> ApiError:
    return bad_request(
        f"Invalid type for '{param}': expected {expected}, but got {json_type(value)} instead.",
        param,
        "invalid_type",
    )


def invalid_value(param: str, value: Any, supported: tuple[str, ...]) -> ApiError:
    return bad_request(
        f"Invalid value: {json.dumps(value) if not isinstance(value, str) else repr(value)}. "
        f"Supported values are: {_one_of(supported)}.",
        param,
        "invalid_value",
    )


def json_type(value: Any) -> str:
    """How the API names the JSON type of a value in its messages ("a string", "an array", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _one_of(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def fault_error(status: int, retry_after: float | None) -> dict[str, Any]:
    """The body of an injected error status, shaped like the real API's answer for that status."""
    if status == 429:
        wait = f"{retry_after:g}s" if retry_after is not None else "a moment"
        return error_body(
            f"Rate limit reached for requests per min (RPM). Please try again in {wait}.",
            error_type="requests",
            code="rate_limit_exceeded",
        )
    if status == 401:
        return error_body("Incorrect API key provided.", code="invalid_api_key")
    if status == 503:
        return error_body("The server is overloaded or not ready yet.", error_type="server_error")
    if status >= 500:
        return error_body(
            "The server had an error while processing your request. Sorry about that!", error_type="server_error"
        )
    return error_body(f"Injected fault {status}.")
