"""Polaris error bodies: `{"code": ..., "message": ..., "target"?: ...}` (the SDK's `ErrorResponse`)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    415: "UnsupportedMediaType",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class ApiError(Exception):
    """An error the emulator answers with the Polaris error body."""

    def __init__(self, status: int, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.target = target


def bad_request(message: str, target: str | None = None) -> ApiError:
    return ApiError(400, message, target)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def error_dict(status: int, message: str, target: str | None = None) -> dict:
    body = {"code": CODES.get(status, "Error"), "message": message}
    if target:
        body["target"] = target
    return body


def error_body(status: int, message: str) -> tuple[bytes, str]:
    """Body builder for `FaultMiddleware` (injected faults get the real Polaris shape)."""
    return json.dumps(error_dict(status, message)).encode(), "application/json"


def error_response(status: int, message: str, target: str | None = None, headers=None) -> JSONResponse:
    return JSONResponse(error_dict(status, message, target), status_code=status, headers=headers)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.target)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"No resource at {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, headers=exc.headers)
