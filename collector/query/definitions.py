"""What the reports' words mean, each defined once (docs/metrics.md): a human, a bounce, an
abandoned cart, a device bucket, who a person is, and how a yes/no parameter reads; a day is
collector/query/days.py's (the site's local day), and the UTC day that stored rollups keep.

Every query, trigger and filter uses these. Each store engine spells the SQL concepts in its
own one place (store/sqlite/reads/scope.py, store/clickhouse/reads/scope.py), built from the
values here; tests/query/test_definitions.py checks those spellings against the functions here
on both engines, and that no module spells a concept a second time.
"""

from __future__ import annotations

from collector.query.days import DAY_MS as DAY_MS

# ---- day ----------------------------------------------------------------------------------

# A report's days are the site's local days: collector/query/days.py (Calendar) defines them.
# What is stored by day (the SQLite rollups, ClickHouse's `day` column) is kept by UTC day.


def day_of(ts: int) -> int:
    """The UTC day number (days since 1970-01-01) of an epoch-ms time: the stored rollups' day."""
    return ts // DAY_MS


# ---- human (not a bot) --------------------------------------------------------------------

# The session column that enrichment sets to 1 for a bot (a bot once seen stays one); every
# report, trigger and filter leaves such sessions out unless `bots=1` asks for them.
BOT_COLUMN = "is_bot"


def is_human(is_bot: int | bool) -> bool:
    """A session is human unless it was flagged as a bot."""
    return not is_bot


# ---- bounce -------------------------------------------------------------------------------

# A bounce: a session with exactly this many pageviews (clicks, scrolls and other events do not
# count), out of the sessions with at least one pageview.
BOUNCE_PAGEVIEWS = 1


def viewed(pageviews: int) -> bool:
    """Whether a session counts in the bounce rate's denominator: at least one pageview."""
    return pageviews > 0


def bounced(pageviews: int) -> bool:
    """Whether a session bounced: exactly one pageview, whatever else it did."""
    return pageviews == BOUNCE_PAGEVIEWS


# ---- abandoned cart -----------------------------------------------------------------------


def carted(cart_adds: int) -> bool:
    """Whether a session added to the cart (a `cart` event named `add`)."""
    return cart_adds > 0


def abandoned(cart_adds: int, purchases: int) -> bool:
    """A session with a cart add and no purchase in that same session; a purchase in a later
    session does not make it less abandoned (the rate is per session)."""
    return carted(cart_adds) and purchases == 0


# ---- device bucket ------------------------------------------------------------------------

DEVICES = ("desktop", "tablet", "mobile")
TABLET_FROM_PX = 768  # viewport widths below this are mobile
DESKTOP_FROM_PX = 1024  # ... below this tablet, from it desktop


def device_bucket(vw: int | float | None) -> str:
    """The heatmaps' device bucket of a viewport width: mobile < 768 <= tablet < 1024 <= desktop;
    '' when the width is unknown."""
    if vw is None:
        return ""
    return "mobile" if vw < TABLET_FROM_PX else "tablet" if vw < DESKTOP_FROM_PX else "desktop"


# ---- who is this person -------------------------------------------------------------------

# The visitor of events that carry neither a user id nor an anon id (a backend's event).
ANONYMOUS = "anonymous"


def person(
    anon_id: str | None, user_id: str | None, verified: bool, link: tuple[str, bool] | None
) -> tuple[str, str | None]:
    """Who an event belongs to, and the user a site's backend vouched for (or None).

    `link` is the user the anon id was identified as and whether the backend vouched for that
    link. The event's own user id wins, unless it is only claimed by a browser whose anon id the
    backend vouched for as someone else; then the linked user; else the anon id.
    """
    vouched_link = link[0] if link is not None and link[1] else None
    if user_id and not verified and vouched_link not in (None, user_id):
        return vouched_link, vouched_link  # the backend's word about this browser beats a claim
    if user_id:
        return user_id, user_id if verified or vouched_link == user_id else None
    if link is not None:
        return link[0], vouched_link
    return (anon_id, None) if anon_id else (ANONYMOUS, None)


# ---- yes or no ----------------------------------------------------------------------------

YES = ("1", "true", "yes")
NO = ("0", "false", "no")


def yes_no(value: str) -> bool | None:
    """The one reading of a yes/no text (parameters, environment): 1/true/yes, 0/false/no, any
    case; None for anything else (the caller decides whether that is an error or a no)."""
    lowered = value.lower()
    return True if lowered in YES else False if lowered in NO else None
