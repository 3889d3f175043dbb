"""CX scores exactly as docs/metrics.md defines them (NPS, CSAT, CES), for any engine's answers.

Every engine loads its own answers; the arithmetic is here once, so the survey page and the
journey map give the same score for the same answers on every store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

KINDS = ("nps", "csat", "ces")


class Scored(Protocol):
    """What the arithmetic reads of an answer."""

    @property
    def score(self) -> int: ...
    @property
    def scale(self) -> int | None: ...


def ratio(part: float, whole: float) -> float:
    """part / whole, 0.0 for an empty whole (an empty range shows zeros, never NaN)."""
    return part / whole if whole else 0.0


def nps(answers: Sequence[Scored]) -> dict[str, Any]:
    """%promoters (9-10) minus %detractors (0-6); passives are 7-8; -100..100."""
    n = len(answers)
    promoters = sum(a.score >= 9 for a in answers)
    detractors = sum(a.score <= 6 for a in answers)
    return {
        "responses": n,
        "score": 100 * ratio(promoters - detractors, n),
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
        "distribution": distribution(answers, range(0, 11)),
    }


def _top_two(answer: Scored) -> bool:
    return answer.score >= (answer.scale or 5) - 1


def csat(answers: Sequence[Scored]) -> dict[str, Any]:
    """% of answers in the top two boxes of their own scale, plus the mean per scale."""
    n = len(answers)
    by_scale: dict[int, list[Scored]] = defaultdict(list)
    for answer in answers:
        by_scale[answer.scale or 5].append(answer)
    scales = {
        str(scale): {
            "responses": len(group),
            "score": 100 * ratio(sum(map(_top_two, group)), len(group)),
            "mean": ratio(sum(a.score for a in group), len(group)),
            "distribution": distribution(group, range(1, scale + 1)),
        }
        for scale, group in sorted(by_scale.items())
    }
    # A mean across 5- and 7-point answers would mean nothing: it is given per scale then.
    mean = next(iter(scales.values()))["mean"] if len(scales) == 1 else (0.0 if not scales else None)
    return {
        "responses": n,
        "score": 100 * ratio(sum(map(_top_two, answers)), n),
        "satisfied": sum(map(_top_two, answers)),
        "mean": mean,
        "by_scale": scales,
    }


def ces(answers: Sequence[Scored]) -> dict[str, Any]:
    """%(4-5, easy) minus %(1-2, difficult); neutral is 3."""
    n = len(answers)
    easy = sum(a.score >= 4 for a in answers)
    difficult = sum(a.score <= 2 for a in answers)
    return {
        "responses": n,
        "score": 100 * ratio(easy - difficult, n),
        "easy": easy,
        "neutral": n - easy - difficult,
        "difficult": difficult,
        "mean": ratio(sum(a.score for a in answers), n),
        "distribution": distribution(answers, range(1, 6)),
    }


SCORERS: dict[str, Callable[[Sequence[Scored]], dict[str, Any]]] = {"nps": nps, "csat": csat, "ces": ces}


def distribution(answers: Sequence[Scored], scores: range) -> dict[str, int]:
    counts = Counter(a.score for a in answers)
    return {str(score): counts.get(score, 0) for score in scores}
