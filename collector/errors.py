"""The one error shape clients see: a status and {"error": "..."}."""

from __future__ import annotations

from typing import Protocol, TypeVar

import msgspec
from starlette.responses import Response

from collector.depth import MAX_DEPTH, deeper_than
from collector.wire import json_encoder


class ClientError(Exception):
    """A request refused as a whole, with the status and sentence the client gets."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return error_response(self.status, self.message, self.retry_after, headers)


T = TypeVar("T", covariant=True)


class Decoder(Protocol[T]):
    def decode(self, buf: bytes, /) -> T: ...


def decode(decoder: Decoder[T], body: bytes, what: str, max_depth: int = MAX_DEPTH) -> T:
    """A JSON body decoded, or the 400 its sender reads: `invalid <what>: ...` or `malformed JSON: ...`."""
    if deeper_than(body, max_depth):  # msgspec recurses per level: bounded before it starts
        raise ClientError(400, f"invalid {what}: JSON nested deeper than {max_depth} levels")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ClientError(400, f"invalid {what}: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec raises the latter on bad UTF-8
        raise ClientError(400, f"malformed JSON: {exc}") from None


def json_response(
    content: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(json_encoder.encode(content), status, headers, "application/json")


def error_response(
    status: int, message: str, retry_after: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    headers = dict(headers or {})
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return json_response({"error": message}, status, headers)
