"""JSON:API documents, errors and pagination as HCP Terraform writes them."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

CONTENT_TYPE = "application/vnd.api+json"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


def document(payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type=CONTENT_TYPE, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


@dataclass(eq=False)
class ApiError(Exception):
    """One or more JSON:API error objects with one HTTP status; raised by handlers, rendered by the app."""

    status: int
    errors: list[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return document({"errors": self.errors}, self.status, self.headers)


def error_object(status: int, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"status": str(status), "title": title}
    if detail is not None:
        obj["detail"] = detail
    obj.update(extra)
    return obj


def fail(status: int, title: str, detail: str | None = None, **extra: Any) -> ApiError:
    return ApiError(status, [error_object(status, title, detail, **extra)])


def not_found(detail: str = "The requested resource could not be found.") -> ApiError:
    return fail(404, "not found", detail)


def invalid(detail: str, pointer: str) -> dict[str, Any]:
    """A 422 validation error object pointing at the offending member of the request document."""
    return error_object(422, "invalid attribute", detail, source={"pointer": pointer})


def error_body(status: int, message: str) -> tuple[bytes, str]:
    """Body of an injected fault (see `sandbox.backends.faults`)."""
    titles = {
        429: "Too many requests",
        500: "Internal server error",
        502: "Bad gateway",
        503: "Service unavailable",
        504: "Gateway timeout",
    }
    payload = {"errors": [error_object(status, titles.get(status, "error"), message)]}
    return json.dumps(payload).encode(), CONTENT_TYPE


# ---- pagination -------------------------------------------------------------------------------


@dataclass
class Page:
    number: int
    size: int


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value > 0 else default


def page_params(request: Request) -> Page:
    """`page[number]` (default 1) and `page[size]` (default 20, capped at 100)."""
    params = request.query_params
    size = min(_positive_int(params.get("page[size]"), DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    return Page(_positive_int(params.get("page[number]"), 1), size)


def paginate(request: Request, items: Sequence[T], page: Page) -> tuple[list[T], dict[str, Any], dict[str, Any]]:
    """Slice `items` and build `links` (full URLs) and `meta.pagination`."""
    total = len(items)
    total_pages = max(1, math.ceil(total / page.size))
    chunk = list(items[(page.number - 1) * page.size : page.number * page.size])
    prev_page = page.number - 1 if page.number > 1 else None
    next_page = page.number + 1 if page.number < total_pages else None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page[number]", "page[size]")]
    base = str(request.url.replace(query=""))

    def link(number: int | None) -> str | None:
        if number is None:
            return None
        query = urlencode([*kept, ("page[number]", str(number)), ("page[size]", str(page.size))])
        return f"{base}?{query}"

    links = {
        "self": link(page.number),
        "first": link(1),
        "prev": link(prev_page),
        "next": link(next_page),
        "last": link(total_pages),
    }
    pagination = {
        "current-page": page.number,
        "page-size": page.size,
        "prev-page": prev_page,
        "next-page": next_page,
        "total-pages": total_pages,
        "total-count": total,
    }
    return chunk, links, pagination


# ---- request documents ------------------------------------------------------------------------


async def read_document(request: Request) -> Any:
    """The parsed request body; 400 when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        raise fail(400, "bad request", "The request body is empty; a JSON:API document is required.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise fail(400, "bad request", f"The request body is not valid JSON: {exc}.") from exc
