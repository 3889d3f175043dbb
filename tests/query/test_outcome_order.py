"""The outcome model's features do not depend on the order an engine reads touches in."""

from __future__ import annotations

from collector.query import outcome
from collector.query.journey import Touch
from collector.query.scope import Goal

DAY_MS = 86_400_000
NOW = 100 * DAY_MS


def touch(session: str, ts: int, channel: str, device: str, kind: str = "pageview", name: str | None = None) -> Touch:
    return Touch("v1", session, ts, ts, kind, name, "/", None, "https://shop.example/", "web", channel, False,
                 device=device)


def test_touches_at_one_instant_give_the_same_features_in_any_order() -> None:
    # Two sessions of one person starting at the same millisecond (two tabs, or two devices):
    # the last touch before a cutoff names the channel and device, whichever an engine read last.
    at = NOW - 10 * DAY_MS
    touches = [touch("s-b", at, "paid", "mobile"), touch("s-a", at, "email", "desktop"),
               touch("s-a", at, "email", "desktop", kind="cart", name="add")]
    first = outcome.training_rows(touches, NOW, Goal())
    assert first == outcome.training_rows(list(reversed(touches)), NOW, Goal())
    assert first == outcome.training_rows([touches[1], touches[0], touches[2]], NOW, Goal())
    rows, labels, who = first
    assert (rows[0]["channel"], rows[0]["device"], rows[0]["cart_adds"]) == ("paid", "mobile", 1.0)
    assert (len(rows), labels, who) == (1, [0], ["v1"])
