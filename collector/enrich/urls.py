"""Secrets removed from URLs before storage (docs/privacy.md, "Sensitive query parameters")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

import msgspec

from collector.wire import json_decoder, json_encoder

# Names compared after percent-decoding, in lower case and without separators, so `api_key`
# also catches `apiKey`, `api-key` and `API.KEY`. Keep in step with docs/privacy.md.
DEFAULT_SENSITIVE_PARAMS: frozenset[str] = frozenset(
    {
        "token", "access_token", "refresh_token", "id_token", "auth_token", "auth",
        "authorization", "jwt", "password", "passwd", "pwd", "pass", "secret",
        "client_secret", "email", "e-mail", "mail", "key", "api_key", "apikey", "session",
        "sessionid", "session_id", "sid", "code", "otp", "signature", "sig", "ssn", "phone",
    }
)  # fmt: skip


_SEPARATORS = re.compile(r"[\W_]+")


def normal_name(name: str) -> str:
    """A parameter name as matched: lower case, without `-`, `_`, `.`, spaces or brackets."""
    return _SEPARATORS.sub("", name.lower())


@lru_cache(maxsize=64)  # one entry per configured list: the collector's and each site's own
def normal_names(names: Iterable[str]) -> frozenset[str]:
    return frozenset(normal_name(n) for n in names)


def parse_param_names(text: str | None) -> frozenset[str]:
    """A configured list ("token, my_secret") as lower-case names; empty text keeps the default."""
    names = frozenset(n.strip().lower() for n in (text or "").split(",") if n.strip())
    return names or DEFAULT_SENSITIVE_PARAMS


def strip_url(url: str, names: frozenset[str] = DEFAULT_SENSITIVE_PARAMS) -> str:
    """Drop query and fragment parameters named in `names`; the rest stays byte-identical."""
    if "?" not in url and "#" not in url:
        return url
    url, hash_mark, fragment = url.partition("#")
    base, question, query = url.partition("?")
    if question:
        query = _filter(query, names)
        url = f"{base}?{query}" if query else base
    if hash_mark:
        # OAuth implicit flows put access_token in the fragment; SPA routes use "#/path?x=1".
        route, question, query = fragment.partition("?")
        if question:
            query = _filter(query, names)
            fragment = f"{route}?{query}" if query else route
        elif "=" in fragment:
            fragment = _filter(fragment, names)
        url = f"{url}#{fragment}" if fragment else url
    return url


# The events of one page view share their URL (at most 2,048 characters, schema.py); strings of
# any length (replay attributes, dead letters) go through strip_url uncached.
strip_sensitive = lru_cache(maxsize=16384)(strip_url)


def _filter(query: str, names: frozenset[str]) -> str:
    normal = normal_names(names)
    return "&".join(part for part in query.split("&") if _name(part) not in normal)


def _name(part: str) -> str:
    name = part.partition("=")[0]
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    return normal_name(name)


_decode_json = json_decoder.decode
_encode_json = json_encoder.encode
# A URL-like run inside JSON text that could not be decoded: up to a quote, backslash or space.
_URL_IN_TEXT = re.compile(r'[^\s"\\]*[?#][^\s"\\]*')


def strip_in_json(text: str, names: frozenset[str] = DEFAULT_SENSITIVE_PARAMS) -> str:
    """JSON text with `strip_sensitive` applied to every string in it; unchanged text stays as is.

    Text that does not decode (too deep for the decoder, not JSON) has every URL-like run
    stripped instead, so a rejected event is never kept with its secrets.
    """
    if "?" not in text and "#" not in text and "\\u" not in text:
        return text
    try:
        value = _decode_json(text)
    except (msgspec.DecodeError, RecursionError):
        return _URL_IN_TEXT.sub(lambda m: strip_url(m.group(), names), text)
    if isinstance(value, str):
        stripped = strip_url(value, names)
        return text if stripped == value else _encode_json(stripped).decode()
    changed = False
    stack: list[dict[str, Any] | list[Any]] = [value] if isinstance(value, dict | list) else []
    while stack:  # by hand: a recursive walk would overflow on hostile nesting
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            if isinstance(item, str):
                stripped = strip_url(item, names)
                if stripped != item:
                    node[key] = stripped  # type: ignore[index]  # a dict key or a list index, as iterated
                    changed = True
            elif isinstance(item, dict | list):
                stack.append(item)
    return _encode_json(value).decode() if changed else text
