"""How an analyst answer is written: the type its route declares (`returns`, a msgspec Struct of
collector/query/answers), converted to strictly before it is encoded, and a `Reply` for an
answer with its own status or headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector.wire import json_encoder

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class Csv:
    """The declared answer of a route that answers text/csv."""


def returns(answer: Any, endpoint: Endpoint, status: int = 200) -> Endpoint:
    """Declare the type of a route's answer: its answers are converted to it, /openapi.json
    documents it (with `status`: 201 for what a POST created)."""
    endpoint.answer = answer  # type: ignore[attr-defined]
    endpoint.answer_status = status  # type: ignore[attr-defined]
    return endpoint


def declared(endpoint: object) -> Any:
    """The answer type a route's endpoint declares, None if it declares none."""
    return getattr(endpoint, "answer", None)


@dataclass(frozen=True)
class Reply:
    """An answer with its own status or headers (201 for what was created, a download's name)."""

    value: Any
    status: int = 200
    headers: dict[str, str] | None = None


def answer_bytes(value: Any, answer: Any) -> bytes:
    """The JSON of an answer as its declared type: converted strictly, so an answer that drifts
    from its type is a fault of ours (a 500 naming the field), never a silently wrong document."""
    if answer is None:
        return json_encoder.encode(value)
    try:
        typed = msgspec.convert(value, answer, strict=True)
    except msgspec.ValidationError as e:
        raise TypeError(f"the answer is not a {getattr(answer, '__name__', answer)}: {e}") from e
    return json_encoder.encode(typed)


def reply(request: Request, result: Any, headers: dict[str, str] | None = None) -> Response:
    """The JSON response to a request, as the type its route declares (starlette keeps the
    matched route's endpoint in the scope)."""
    found = result if isinstance(result, Reply) else Reply(result, headers=headers)
    content = answer_bytes(found.value, declared(request.scope.get("endpoint")))
    return Response(content, found.status, found.headers, "application/json")
