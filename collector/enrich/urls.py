"""Secrets removed from URLs before storage (docs/privacy.md, "Sensitive query parameters")."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote_plus

# Names compared in lower case after percent-decoding. Keep in step with docs/privacy.md.
DEFAULT_SENSITIVE_PARAMS: frozenset[str] = frozenset(
    {
        "token", "access_token", "refresh_token", "id_token", "auth_token", "auth",
        "authorization", "jwt", "password", "passwd", "pwd", "pass", "secret",
        "client_secret", "email", "e-mail", "mail", "key", "api_key", "apikey", "session",
        "sessionid", "session_id", "sid", "code", "otp", "signature", "sig", "ssn", "phone",
    }
)  # fmt: skip


def parse_param_names(text: str | None) -> frozenset[str]:
    """A configured list ("token, my_secret") as lower-case names; empty text keeps the default."""
    names = frozenset(n.strip().lower() for n in (text or "").split(",") if n.strip())
    return names or DEFAULT_SENSITIVE_PARAMS


@lru_cache(maxsize=16384)  # the events of one page view share their URL
def strip_sensitive(url: str, names: frozenset[str] = DEFAULT_SENSITIVE_PARAMS) -> str:
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


def _filter(query: str, names: frozenset[str]) -> str:
    return "&".join(part for part in query.split("&") if _name(part) not in names)


def _name(part: str) -> str:
    name = part.partition("=")[0]
    if "%" in name or "+" in name:
        name = unquote_plus(name)
    return name.strip().lower()
