"""The statistics of experiments, in plain Python: tests, intervals, posteriors, corrections.

Every function is checked against scipy and statsmodels in tests/query/test_experiment_stats.py; the
collector itself needs neither (docs/experiments.md explains each figure in plain words).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

_NORMAL = NormalDist()
# Beyond this many successes (and failures) on the smaller side the exact sum for the
# probability to beat would take a while; both posteriors are then normal to ~1e-6.
EXACT_LIMIT = 50_000


def z_quantile(level: float) -> float:
    """The two-sided normal quantile of a confidence level: 1.959964 for 0.95."""
    return _NORMAL.inv_cdf(0.5 + level / 2)


def two_proportion_p(c1: int, n1: int, c2: int, n2: int) -> float | None:
    """The two-sided p-value of the pooled two-proportion z-test; None when it is undefined."""
    if not n1 or not n2:
        return None
    pooled = (c1 + c2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0  # both all converted or none did: no evidence of a difference
    z = (c2 / n2 - c1 / n1) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def difference_interval(c1: int, n1: int, c2: int, n2: int, z: float) -> tuple[float, float] | None:
    """Wald interval of p2 - p1 (unpooled variances)."""
    if not n1 or not n2:
        return None
    p1, p2 = c1 / n1, c2 / n2
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p2 - p1 - half, p2 - p1 + half


def lift_interval(c1: int, n1: int, c2: int, n2: int, z: float) -> tuple[float, float] | None:
    """Interval of the relative lift p2 / p1 - 1 from the log of the risk ratio (Katz)."""
    if not (c1 and c2 and n1 and n2):
        return None  # a rate of 0 has no log: the lift's interval is unbounded
    log_ratio = math.log((c2 / n2) / (c1 / n1))
    se = math.sqrt(1 / c1 - 1 / n1 + 1 / c2 - 1 / n2)
    return math.exp(log_ratio - z * se) - 1, math.exp(log_ratio + z * se) - 1


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beats_exact(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X2 > X1) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), a2 a whole number: a finite sum."""
    base = _log_beta(a1, b1)
    return math.fsum(
        math.exp(_log_beta(a1 + i, b1 + b2) - math.log(b2 + i) - _log_beta(1 + i, b2) - base)
        for i in range(a2)
    )


def probability_to_beat(c1: int, n1: int, c2: int, n2: int) -> float:
    """P(rate2 > rate1) under Beta(1, 1) priors: posteriors Beta(1 + c, 1 + n - c)."""
    a1, b1, a2, b2 = 1 + c1, 1 + n1 - c1, 1 + c2, 1 + n2 - c2
    if min(a1, a2) <= EXACT_LIMIT:
        # the sum runs over the smaller shape: P(X2 > X1) = 1 - P(X1 > X2), ties have measure 0
        value = _beats_exact(a1, b1, a2, b2) if a2 <= a1 else 1 - _beats_exact(a2, b2, a1, b1)
        return min(1.0, max(0.0, value))
    m1, m2 = a1 / (a1 + b1), a2 / (a2 + b2)
    v1 = a1 * b1 / ((a1 + b1) ** 2 * (a1 + b1 + 1))
    v2 = a2 * b2 / ((a2 + b2) ** 2 * (a2 + b2 + 1))
    return _NORMAL.cdf((m2 - m1) / math.sqrt(v1 + v2))


def _upper_gamma(s: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(s, x) (series or continued fraction)."""
    if x <= 0:
        return 1.0
    log_front = s * math.log(x) - x - math.lgamma(s)
    if x < s + 1:  # the series for P(s, x) converges fast here
        term = total = 1 / s
        k = s
        while abs(term) > abs(total) * 1e-16:
            k += 1
            term *= x / k
            total += term
        return max(0.0, 1 - total * math.exp(log_front))
    # Lentz's continued fraction for Q(s, x)
    tiny = 1e-300
    b = x + 1 - s
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - s)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_front) * h


def chi_square_p(observed: Sequence[int], shares: Sequence[float]) -> tuple[float, float] | None:
    """Pearson's goodness of fit of counts to expected shares: (statistic, p-value).

    None with fewer than two arms or no counts; an arm of share 0 that received visitors is a
    certain mismatch (p = 0).
    """
    total = sum(observed)
    arms = [(o, s) for o, s in zip(observed, shares, strict=True) if s > 0]
    if total and any(o > 0 for o, s in zip(observed, shares, strict=True) if s <= 0):
        return math.inf, 0.0
    if total == 0 or len(arms) < 2:
        return None
    share_sum = sum(s for _, s in arms)
    statistic = sum((o - total * s / share_sum) ** 2 / (total * s / share_sum) for o, s in arms)
    return statistic, _upper_gamma((len(arms) - 1) / 2, statistic / 2)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment: controls the family-wise error rate over all comparisons."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def mean_difference_interval(
    sum1: float, sq1: float, n1: int, sum2: float, sq2: float, n2: int, z: float
) -> tuple[float, float] | None:
    """Normal interval of mean2 - mean1 from sums and sums of squares (Welch's unequal variances)."""
    if n1 < 2 or n2 < 2:
        return None
    var1 = max(0.0, (sq1 - sum1 * sum1 / n1) / (n1 - 1))
    var2 = max(0.0, (sq2 - sum2 * sum2 / n2) / (n2 - 1))
    diff = sum2 / n2 - sum1 / n1
    half = z * math.sqrt(var1 / n1 + var2 / n2)
    return diff - half, diff + half
