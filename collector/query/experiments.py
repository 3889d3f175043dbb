"""Experiments, engine-neutral: their definitions, the counts an engine answers, the results.

An engine counts (store/<engine>/reads/experiments.py: one query per experiment whose output is
plain per-variant counts); everything computed from the counts lives here, shared by every engine.
The statistics themselves are in query/stats.py; docs/experiments.md explains them in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from collector.errors import ClientError
from collector.query import goals, stats
from collector.query.cx import SCORERS
from collector.query.scope import Goal
from collector.wire import EVENT_TYPES, json_decoder, json_encoder

MAX_VARIANTS = 20
ALPHA = 0.05
SRM_ALPHA = 0.001
# Below this many exposed visitors in an arm the result page says the sample is too small to read.
MIN_VISITORS = 100
METRICS = ("revenue", "bounce", "nps", "csat", "ces")

Key = Annotated[str, Meta(min_length=1, max_length=64)]
Metric = Literal["revenue", "bounce", "nps", "csat", "ces"]


class VariantSpec(Struct, kw_only=True, forbid_unknown_fields=True):
    name: Key
    weight: Annotated[float, Meta(ge=0, le=1_000_000)] = 1.0


class NewExperiment(Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of POST /api/experiments: the first variant is the control; `goal` is an event
    type, a custom event name, or the id (a number) of one of the site's saved goals."""

    key: Key
    variants: Annotated[list[Key | VariantSpec], Meta(min_length=2, max_length=MAX_VARIANTS)]
    name: Annotated[str, Meta(max_length=200)] = ""
    goal: Annotated[str, Meta(min_length=1, max_length=256)] | Annotated[int, Meta(ge=0)] | None = None
    metrics: Annotated[list[Metric], Meta(max_length=len(METRICS))] = []
    hypothesis: Annotated[str, Meta(max_length=2000)] = ""
    site: str | None = None


@dataclass(frozen=True)
class Experiment:
    """A checked experiment definition, as stored."""

    key: str
    name: str
    variants: tuple[tuple[str, float], ...]  # (name, weight); the first is the control
    goal: str | None = None  # None: the saved goal if there is one, else the site's goal
    metrics: tuple[str, ...] = ()
    hypothesis: str = ""
    created_at: int = 0
    # A saved goal as it was when the experiment was defined (query/goals.py: id, name and the
    # definition), so that a goal edited or deleted later does not change what was measured.
    saved_goal: dict[str, Any] | None = None

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.variants]

    @property
    def shares(self) -> list[float]:
        total = sum(weight for _, weight in self.variants)
        return [weight / total for _, weight in self.variants]

    def goal_of(self, site_settings: Mapping[str, object]) -> Goal:
        if self.saved_goal is not None:
            return goals.goal_of(self.saved_goal)
        return Goal.of_site({"goal": self.goal} if self.goal else site_settings)

    def as_dict(self) -> dict[str, Any]:
        """The definition as the API shows it: `goal` as it was given (a saved goal by its id)."""
        return {
            "key": self.key, "name": self.name or self.key,
            "variants": [{"name": n, "weight": w} for n, w in self.variants],
            "goal": self.saved_goal["id"] if self.saved_goal is not None else self.goal,
            "saved_goal": self.saved_goal, "metrics": list(self.metrics), "hypothesis": self.hypothesis,
            "created_at": self.created_at,
        }

    def stored(self) -> tuple[str, str, str | None, str, str, str | None]:
        """(name, variants, goal, metrics, hypothesis, saved_goal) as every store keeps them: JSON text."""
        return (
            self.name or self.key, json_encoder.encode([list(v) for v in self.variants]).decode(), self.goal,
            json_encoder.encode(list(self.metrics)).decode(), self.hypothesis,
            None if self.saved_goal is None else json_encoder.encode(self.saved_goal).decode(),
        )

    @classmethod
    def from_stored(
        cls, key: str, name: str, variants: str, goal: str | None, metrics: str, hypothesis: str,
        saved_goal: str | None, created_at: int,
    ) -> Experiment:
        """An experiment from the columns of `stored`, its key and its creation time."""
        return cls(
            key=key, name=name, variants=tuple((v, float(w)) for v, w in json_decoder.decode(variants)),
            goal=goal, metrics=tuple(json_decoder.decode(metrics)), hypothesis=hypothesis,
            created_at=int(created_at), saved_goal=None if saved_goal is None else json_decoder.decode(saved_goal),
        )


def checked(ask: NewExperiment, saved_goals: Sequence[Mapping[str, Any]] = ()) -> Experiment:
    """An experiment from a request, or a 4xx that says what is wrong; a goal given by its id is
    looked up in `saved_goals` (the site's, as the goals API lists them)."""
    variants = tuple(
        (v, 1.0) if isinstance(v, str) else (v.name, float(v.weight)) for v in ask.variants
    )
    names = [name for name, _ in variants]
    if len(set(names)) != len(names):
        raise ClientError(400, "variant names must be distinct")
    if not any(weight > 0 for _, weight in variants):
        raise ClientError(400, "at least one variant needs a weight above 0")
    saved_goal = None
    if isinstance(ask.goal, int):
        saved_goal = saved(ask.goal, saved_goals)
    elif ask.goal in ("exposure", "identify"):
        raise ClientError(400, f"{ask.goal} cannot be a goal: pick an event type or a custom event name")
    elif ask.goal is not None and ask.goal not in EVENT_TYPES and not ask.goal.strip():
        raise ClientError(400, "goal must be an event type or a custom event name")
    return Experiment(
        key=ask.key, name=ask.name, variants=variants, goal=ask.goal if isinstance(ask.goal, str) else None,
        metrics=tuple(dict.fromkeys(ask.metrics)), hypothesis=ask.hypothesis, saved_goal=saved_goal,
    )


def saved(goal_id: int, saved_goals: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A saved goal's id, name and definition, or the 404 a goal id of the overview gets."""
    for found in saved_goals:
        if found["id"] == goal_id:
            return {key: value for key, value in found.items() if key != "created_at"}
    raise ClientError(404, f"no goal {goal_id} for this site (see /api/goals)")


@dataclass(frozen=True)
class ArmCounts:
    """What an engine counts for one variant: visitors by the variant of their first exposure."""

    variant: str
    visitors: int
    converted: int = 0  # visitors with a goal event at or after their first exposure
    revenue: float = 0.0  # purchase value after the first exposure, summed over visitors
    revenue_sq: float = 0.0  # the sum over visitors of their revenue squared (for the interval)
    crossed: int = 0  # visitors who later saw another variant too (counted here, in their first)
    viewed: int = 0  # visitors whose session of first exposure had a pageview
    bounced: int = 0  # ... and exactly one


@dataclass(frozen=True)
class Counts:
    arms: list[ArmCounts]
    # (variant, kind, scale, score, answers): survey answers given after the first exposure
    scores: list[tuple[str, str, int | None, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class _Answer:
    score: int
    scale: int | None


def _arm_survey(scores: Sequence[tuple[str, str, int | None, int, int]], variant: str) -> dict[str, Any]:
    # the surveys page's own arithmetic (query/cx.py), so a variant's NPS is the NPS shown elsewhere
    out: dict[str, Any] = {}
    for kind in ("nps", "csat", "ces"):
        answers = [
            _Answer(score, scale)
            for v, k, scale, score, n in scores if v == variant and k == kind for _ in range(n)
        ]
        out[kind] = SCORERS[kind](answers)
    return out


def results(experiment: Experiment, counts: Counts) -> dict[str, Any]:
    """Per-variant figures against the control, the sample's health, and a one-line verdict."""
    by_name = {arm.variant: arm for arm in counts.arms}
    arms = [by_name.get(name, ArmCounts(name, 0)) for name in experiment.names]
    unexpected = sorted((a for a in counts.arms if a.variant not in experiment.names), key=lambda a: a.variant)
    control = arms[0]
    comparisons = len(arms) - 1
    # Holm adjusts the p-values; intervals have no step-down form, so with more than one
    # comparison they are Bonferroni intervals, each at 1 - 0.05 / comparisons.
    level = 1 - ALPHA / comparisons
    z = stats.z_quantile(level)
    raw_p = [stats.two_proportion_p(control.converted, control.visitors, a.converted, a.visitors) for a in arms[1:]]
    known = [p for p in raw_p if p is not None]
    adjusted_known = iter(stats.holm(known))
    adjusted = [None if p is None else next(adjusted_known) for p in raw_p]

    variants = []
    for index, arm in enumerate(arms):
        row: dict[str, Any] = {
            "name": arm.variant,
            "control": index == 0,
            "weight": experiment.variants[index][1],
            "visitors": arm.visitors,
            "conversions": arm.converted,
            "rate": _ratio(arm.converted, arm.visitors),
            "crossed": arm.crossed,
            "revenue": arm.revenue,
            "revenue_per_visitor": _ratio(arm.revenue, arm.visitors),
            "bounce_rate": _ratio(arm.bounced, arm.viewed),
            **_arm_survey(counts.scores, arm.variant),
        }
        if index:
            c, n, cc, cn = arm.converted, arm.visitors, control.converted, control.visitors
            cr = _ratio(cc, cn)
            row.update({
                "difference": _ratio(c, n) - cr if n and cn else None,
                "difference_interval": stats.difference_interval(cc, cn, c, n, z),
                "lift": (_ratio(c, n) / cr - 1) if n and cr else None,
                "lift_interval": stats.lift_interval(cc, cn, c, n, z),
                "p_value": raw_p[index - 1],
                "p_adjusted": adjusted[index - 1],
                "probability_to_beat": stats.probability_to_beat(cc, cn, c, n) if n and cn else None,
                "revenue_difference_interval": stats.mean_difference_interval(
                    control.revenue, control.revenue_sq, cn, arm.revenue, arm.revenue_sq, n, z
                ),
            })
            p = row["p_adjusted"]
            row["significant"] = p is not None and p < ALPHA
        variants.append(row)

    srm = stats.chi_square_p([a.visitors for a in arms], experiment.shares)
    crossed = sum(a.crossed for a in arms)
    sample = {
        "visitors": sum(a.visitors for a in arms) + sum(a.visitors for a in unexpected),
        "srm_statistic": None if srm is None else srm[0],
        "srm_p_value": None if srm is None else srm[1],
        "srm": srm is not None and srm[1] < SRM_ALPHA,
        "crossed": crossed,
        "unexpected_variants": [{"name": a.variant, "visitors": a.visitors} for a in unexpected],
        "too_small": any(a.visitors < MIN_VISITORS for a in arms),
    }
    return {
        "experiment": experiment.as_dict(),
        "correction": "holm" if comparisons > 1 else None,
        "interval_level": level,
        "variants": variants,
        "sample": sample,
        "verdict": verdict(variants, sample),
    }


def verdict(variants: list[dict[str, Any]], sample: Mapping[str, Any]) -> dict[str, Any]:
    """Which variant wins and how sure, in a form the dashboard prints as it is."""
    better = [v for v in variants[1:] if v["significant"] and (v["difference"] or 0) > 0]
    worse = [v for v in variants[1:] if v["significant"] and (v["difference"] or 0) < 0]
    if sample["srm"]:
        status = "unhealthy"
    elif better:
        status = "winner"
    elif worse and len(worse) == len(variants) - 1:
        status = "control"
    elif sample["too_small"]:
        status = "collecting"
    else:
        status = "no_difference"
    winner = max(better, key=lambda v: v["rate"])["name"] if better and status == "winner" else None
    if status == "control":
        winner = variants[0]["name"]
    return {"status": status, "winner": winner}


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0
