"""The likely outcome: each person's probability of reaching the site's goal in the next 7 days.

Learned from the site's own history with scikit-learn: per-person features at weekly cutoffs in
the past (what the person had done in the 28 days before), labelled by whether the goal followed
within 7 days; a logistic regression on standardized features, judged on people it never saw.
Engine-neutral: an engine hands over `Touch` rows (query/journey.py) and keeps the results.
docs/metrics.md (likely outcome) says what each number means.
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from collector.query.definitions import DAY_MS
from collector.query.journey import Reading, Touch, page_matches
from collector.query.scope import Goal

HORIZON_MS = 7 * DAY_MS  # "in the next 7 days"
LOOKBACK_MS = 28 * DAY_MS  # what a person did before a cutoff counts for this long
CUTOFFS = 8  # weekly cutoffs back in time, each with a full horizon after it
MIN_PEOPLE = 30  # positives and negatives (distinct people) needed in training and in testing each
TEST_EVERY = 4  # one person in 4 (by a hash of their id) is held out for testing
LIKELY = 0.5  # a probability from which a person is "likely to buy"
PRODUCT_PAGES = ("/product/*", "/products/*")
NUMERIC = (
    "sessions", "pageviews", "product_views", "cart_adds", "checkouts", "goals_before",
    "days_since_last_visit", "nps_last", "has_nps", "csat_last", "has_csat", "ces_last", "has_ces",
)
MAX_CATEGORIES = 6  # channels and devices one-hot encoded, the most common first


@dataclass
class Report:
    """What training found: `status` is ready, insufficient_data or no_signal, with a sentence why."""

    status: str
    reason: str
    goal: str
    trained_at: int
    rows: int = 0
    positives: int = 0
    quality: dict[str, Any] | None = None
    features: list[dict[str, Any]] = field(default_factory=list)
    base_rate: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "reason": self.reason, "goal": self.goal, "trained_at": self.trained_at,
            "horizon_days": HORIZON_MS // DAY_MS, "rows": self.rows, "positives": self.positives,
            "base_rate": self.base_rate, "quality": self.quality, "features": self.features,
        }


@dataclass(frozen=True)
class Score:
    visitor_id: str
    probability: float
    label: str  # likely, at_risk or unlikely


def goal_name(goal: Goal) -> str:
    return goal.name if goal.name else goal.type


def _is_goal(t: Touch, goal: Goal) -> bool:
    return t.type == goal.type and (goal.name is None or t.name == goal.name)


def features_at(
    own: Sequence[Touch], cutoff: int, goal: Goal, times: Sequence[int] | None = None
) -> dict[str, Any] | None:
    """A person's features from their touches (in time order) in the lookback before `cutoff`; None
    if none. `times`: the touches' times, when the caller has them (the lookback is found by bisection)."""
    times = [t.ts for t in own] if times is None else times
    seen = own[bisect.bisect_left(times, cutoff - LOOKBACK_MS):bisect.bisect_left(times, cutoff)]
    if not seen:
        return None
    f: dict[str, Any] = dict.fromkeys(NUMERIC, 0.0)
    f["sessions"] = len({t.session for t in seen})
    for t in seen:
        if t.type == "pageview":
            f["pageviews"] += 1
            f["product_views"] += any(page_matches(p, t) for p in PRODUCT_PAGES)
        elif t.type == "cart" and t.name == "add":
            f["cart_adds"] += 1
        elif t.type == "checkout":
            f["checkouts"] += 1
        elif t.type == "survey" and t.score is not None and t.name in ("nps", "csat", "ces"):
            f[f"{t.name}_last"] = float(t.score)
            f[f"has_{t.name}"] = 1.0
        if _is_goal(t, goal):
            f["goals_before"] += 1
    last = seen[-1]
    f["days_since_last_visit"] = (cutoff - last.ts) / DAY_MS
    f["channel"] = last.channel or "(none)"
    f["device"] = last.device or "(none)"
    return f


def _by_person(touches: Iterable[Touch]) -> dict[str, list[Touch]]:
    """Each person's touches in one order whatever order an engine read them in: a person's last
    touch before a cutoff gives the channel and device, so two touches at one instant must not
    swap between engines (or the same data would not give the same scores to the last digit)."""
    people: dict[str, list[Touch]] = defaultdict(list)
    for t in touches:
        people[t.visitor].append(t)
    for own in people.values():
        own.sort(key=_order)
    return people


def _order(t: Touch) -> tuple[object, ...]:
    return (t.ts, t.session, t.type, t.name or "", t.url or "", t.score if t.score is not None else -1,
            t.channel or "", t.device or "")


def training_rows(
    touches: Iterable[Touch], now: int, goal: Goal
) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    """(features, label, person) per person and past weekly cutoff with a whole horizon after it."""
    people = _by_person(touches)
    cutoffs = [now - HORIZON_MS - k * 7 * DAY_MS for k in range(CUTOFFS)]
    rows, labels, who = [], [], []
    for visitor, own in sorted(people.items()):
        times = [t.ts for t in own]
        goals = [t.ts for t in own if _is_goal(t, goal)]
        for cutoff in cutoffs:
            f = features_at(own, cutoff, goal, times)
            if f is None:
                continue
            rows.append(f)
            # a goal reached in [cutoff, cutoff + HORIZON_MS)
            labels.append(int(bisect.bisect_left(goals, cutoff + HORIZON_MS) > bisect.bisect_left(goals, cutoff)))
            who.append(visitor)
    return rows, labels, who


class Encoder:
    """Features as a matrix: the numbers as they are, channel and device one-hot (most common first)."""

    def __init__(self, rows: Sequence[dict[str, Any]]) -> None:
        self.channels = [c for c, _ in Counter(r["channel"] for r in rows).most_common(MAX_CATEGORIES)]
        self.devices = [d for d, _ in Counter(r["device"] for r in rows).most_common(MAX_CATEGORIES)]
        self.names = [*NUMERIC, *(f"channel={c}" for c in self.channels), *(f"device={d}" for d in self.devices)]

    def matrix(self, rows: Sequence[dict[str, Any]]) -> list[list[float]]:
        return [
            [float(r[n]) for n in NUMERIC]
            + [float(r["channel"] == c) for c in self.channels]
            + [float(r["device"] == d) for d in self.devices]
            for r in rows
        ]


def held_out(visitor: str) -> bool:
    """One person in TEST_EVERY, by a stable hash: all of a person's rows fall on one side."""
    return zlib.crc32(visitor.encode()) % TEST_EVERY == 0


def auc_interval(auc: float, positives: int, negatives: int) -> tuple[float, float]:
    """The 95% interval of an AUC (Hanley and McNeil, 1982), counted in distinct people: one
    person's rows at several cutoffs are not independent, so counting rows would be too sure."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    se = math.sqrt(max(variance, 0.0))
    return max(0.0, auc - 1.96 * se), min(1.0, auc + 1.96 * se)


def calibration(probabilities: Sequence[float], labels: Sequence[int], bins: int = 5) -> list[dict[str, Any]]:
    """Held-out rows in equal-width bins of predicted probability: predicted mean vs observed rate."""
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        last = b == bins - 1
        inside = [(p, y) for p, y in zip(probabilities, labels, strict=True) if lo <= p < hi or (last and p == 1.0)]
        table.append({
            "from": lo, "to": hi, "rows": len(inside),
            "predicted": sum(p for p, _ in inside) / len(inside) if inside else None,
            "observed": sum(y for _, y in inside) / len(inside) if inside else None,
        })
    return table


@dataclass
class Model:
    encoder: Encoder
    pipeline: Any
    base_rate: float


def train(touches: Iterable[Touch], now: int, goal: Goal) -> tuple[Report, Model | None]:
    """Fit on the people not held out, judge on the others; no model unless it beats chance."""
    from sklearn.linear_model import LogisticRegression  # imported here: only training needs it
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows, labels, who = training_rows(touches, now, goal)
    report = Report("insufficient_data", "", goal_name(goal), now, rows=len(rows), positives=sum(labels))
    report.base_rate = sum(labels) / len(labels) if labels else 0.0
    train_idx = [i for i, v in enumerate(who) if not held_out(v)]
    test_idx = [i for i, v in enumerate(who) if held_out(v)]
    counts = {
        side: (len({who[i] for i in idx if labels[i]}), len({who[i] for i in idx if not labels[i]}))
        for side, idx in (("training", train_idx), ("testing", test_idx))
    }
    for side, (pos, neg) in counts.items():
        if pos < MIN_PEOPLE or neg < MIN_PEOPLE:
            report.reason = (
                f"too little history to predict: {pos} people reached the goal and {neg} did not in the"
                f" {side} part; at least {MIN_PEOPLE} of each are needed"
            )
            return report, None
    encoder = Encoder([rows[i] for i in train_idx])
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(encoder.matrix([rows[i] for i in train_idx]), [labels[i] for i in train_idx])
    test_y = [labels[i] for i in test_idx]
    test_p = [float(p) for p in pipeline.predict_proba(encoder.matrix([rows[i] for i in test_idx]))[:, 1]]
    auc = float(roc_auc_score(test_y, test_p))
    low, high = auc_interval(auc, *counts["testing"])
    coefficients = pipeline[-1].coef_[0]
    report.features = sorted(
        ({"name": n, "weight": round(float(w), 4)} for n, w in zip(encoder.names, coefficients, strict=True)),
        key=lambda f: (-abs(f["weight"]), f["name"]),
    )
    report.quality = {
        "auc": round(auc, 4), "auc_low": round(low, 4), "auc_high": round(high, 4),
        "test_rows": len(test_idx), "test_positives": counts["testing"][0], "test_negatives": counts["testing"][1],
        "calibration": calibration(test_p, test_y),
    }
    if low <= 0.5:
        report.status = "no_signal"
        report.reason = (
            f"no usable model: on held-out people the AUC is {auc:.2f} (95% interval {low:.2f} to {high:.2f}),"
            " which does not rule out guessing"
        )
        return report, None
    report.status, report.reason = "ready", f"held-out AUC {auc:.2f} (95% interval {low:.2f} to {high:.2f})"
    return report, Model(encoder, pipeline, report.base_rate)


def score(model: Model, touches: Iterable[Touch], now: int, goal: Goal) -> list[Score]:
    """Everyone seen in the last 28 days, with their probability and label (docs/metrics.md)."""
    people = _by_person(touches)
    current = [(v, f) for v, own in sorted(people.items()) if (f := features_at(own, now, goal)) is not None]
    if not current:
        return []
    probabilities = model.pipeline.predict_proba(model.encoder.matrix([f for _, f in current]))[:, 1]
    scores = []
    for (visitor, f), p in zip(current, probabilities, strict=True):
        intent = f["cart_adds"] > 0 or f["checkouts"] > 0 or f["goals_before"] > 0
        label = "likely" if p >= LIKELY else "at_risk" if intent and p < model.base_rate else "unlikely"
        scores.append(Score(visitor, round(float(p), 4), label))
    return scores


def training_reading(now: int, goal: Goal) -> Reading:
    """What training reads: the events before the latest cutoff (the features look no later) and
    the goal's events up to `now` (the labels); no route (the product pages are wildcards)."""
    return Reading(route=False, before=now - HORIZON_MS, goal_type=goal.type, goal_name=goal.name)


def scoring_reading(now: int) -> Reading:
    """What scoring reads: the lookback before `now`."""
    return Reading(route=False, since=now - LOOKBACK_MS, before=now)


def history_start(now: int) -> int:
    """The first instant training reads: the lookback of the oldest cutoff."""
    return now - HORIZON_MS - (CUTOFFS - 1) * 7 * DAY_MS - LOOKBACK_MS
