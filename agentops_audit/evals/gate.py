"""Regression gate statistics: pure functions over small summaries (counts, means), no database.

A comparison looks at one metric (a rubric item, the overall score, unsafe-write attempts) in a baseline
and a candidate release: d = candidate - baseline, t = the drop allowed (default 0.01, an absolute 1%).

Intervals are two-sided at the stated confidence and deterministic (closed form, no resampling):

- pass/fail results on the same cases in both releases: Newcombe's hybrid score interval for paired
  proportions (Newcombe 1998, Stat Med 17:2635, method 10: a Wilson interval per release, combined
  with the corrected phi correlation of the paired 2x2 table);
- pass/fail results on different cases: Newcombe's hybrid score interval for independent proportions
  (Newcombe 1998, Stat Med 17:873, method 10);
- scores in 0..1: a normal interval on the mean per-case difference when the cases are paired, Welch's
  unequal-variance normal interval otherwise; below ``MIN_SCORE_CASES`` cases per release the normal
  approximation is not trusted and the comparison is INCONCLUSIVE.

Decisions. Quality metrics: PASS when the lower bound is >= -t (the interval excludes a drop larger than
t), FAIL when the upper bound is < -t (the interval shows a drop larger than t), INCONCLUSIVE otherwise.
Unsafe-write attempts tolerate no rise, and no interval can exclude every rise: FAIL when the interval
shows a rise (lower bound > 0), PASS when the candidate's rate is not above the baseline's, INCONCLUSIVE
otherwise. An INCONCLUSIVE comparison carries ``n_needed``: the cases per release at which the same
interval, with the observed rates, would reach a decision with ``POWER`` (80%) probability.
The gate's decision is the worst of its measured comparisons: FAIL, then INCONCLUSIVE, then PASS.

Not measured. A comparison without data for one release (typically unsafe-write attempts, when the eval
rows carry no ``unsafe_write_attempt`` and the traces cover neither release) is NOT_MEASURED. By default
the gate decides on what was measured and says what was not: a gate that demanded a number nobody
records could never pass, and would be switched off. ``strict`` demands every comparison: then a
NOT_MEASURED one makes the gate INCONCLUSIVE. No measured comparison at all is INCONCLUSIVE either way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from statistics import NormalDist

PASS, FAIL, INCONCLUSIVE, NOT_MEASURED = "PASS", "FAIL", "INCONCLUSIVE", "NOT_MEASURED"
QUALITY, SAFETY = "quality", "safety"
POWER = 0.80
MIN_SCORE_CASES = 30
MAX_SCALE = 1e7


def z_value(confidence: float) -> float:
    """The two-sided standard normal quantile for ``confidence`` (1.96 for 0.95)."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _combine(d: float, p1: float, w1: tuple, p2: float, w2: tuple, phi: float) -> tuple[float, float]:
    """Newcombe's square-and-add step for d = p1 - p2 from Wilson intervals w1, w2 and correlation phi."""
    (l1, u1), (l2, u2) = w1, w2
    low = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    high = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    return max(-1.0, d - math.sqrt(max(low, 0.0))), min(1.0, d + math.sqrt(max(high, 0.0)))


@dataclass(frozen=True)
class PairedCounts:
    """Pass/fail on the same cases: both pass, baseline only, candidate only, neither."""

    both: float
    base_only: float
    cand_only: float
    neither: float
    method = "newcombe_paired"
    min_n = 1

    @property
    def n(self) -> float:
        return self.both + self.base_only + self.cand_only + self.neither

    n_baseline = n_candidate = n

    @property
    def baseline(self) -> float:
        return (self.both + self.base_only) / self.n

    @property
    def candidate(self) -> float:
        return (self.both + self.cand_only) / self.n

    def interval(self, z: float) -> tuple[float, float]:
        a, b, c, d, n = self.both, self.base_only, self.cand_only, self.neither, self.n
        p1, p2 = self.candidate, self.baseline
        margins = (a + c) * (b + d) * (a + b) * (c + d)
        cross = a * d - b * c
        corrected = cross - n / 2 if cross > n / 2 else cross if cross < 0 else 0.0
        phi = corrected / math.sqrt(margins) if margins > 0 else 0.0
        return _combine(p1 - p2, p1, wilson(a + c, n, z), p2, wilson(a + b, n, z), phi)

    def scaled(self, k: float) -> PairedCounts:
        return PairedCounts(self.both * k, self.base_only * k, self.cand_only * k, self.neither * k)


@dataclass(frozen=True)
class IndependentCounts:
    """Pass/fail on different cases: passes and totals per release."""

    base_pass: float
    base_n: float
    cand_pass: float
    cand_n: float
    method = "newcombe_independent"
    min_n = 1

    @property
    def n_baseline(self) -> float:
        return self.base_n

    @property
    def n_candidate(self) -> float:
        return self.cand_n

    @property
    def baseline(self) -> float:
        return self.base_pass / self.base_n

    @property
    def candidate(self) -> float:
        return self.cand_pass / self.cand_n

    def interval(self, z: float) -> tuple[float, float]:
        p1, p2 = self.candidate, self.baseline
        return _combine(
            p1 - p2, p1, wilson(self.cand_pass, self.cand_n, z), p2, wilson(self.base_pass, self.base_n, z), 0.0
        )

    def scaled(self, k: float) -> IndependentCounts:
        return IndependentCounts(self.base_pass * k, self.base_n * k, self.cand_pass * k, self.cand_n * k)


@dataclass(frozen=True)
class PairedScores:
    """Scores on the same cases: the number of pairs, the mean and standard deviation of the per-case
    difference (candidate - baseline), and each release's mean over the pairs."""

    n: float
    mean_diff: float
    sd_diff: float
    base_mean: float
    cand_mean: float
    method = "normal_paired"
    min_n = MIN_SCORE_CASES
    n_baseline = n_candidate = property(lambda self: self.n)
    baseline = property(lambda self: self.base_mean)
    candidate = property(lambda self: self.cand_mean)

    def interval(self, z: float) -> tuple[float, float]:
        half = z * self.sd_diff / math.sqrt(self.n)
        return self.mean_diff - half, self.mean_diff + half

    def scaled(self, k: float) -> PairedScores:
        return replace(self, n=self.n * k)


@dataclass(frozen=True)
class IndependentScores:
    """Scores on different cases: size, mean and standard deviation per release."""

    base_n: float
    base_mean: float
    base_sd: float
    cand_n: float
    cand_mean: float
    cand_sd: float
    method = "welch_normal"
    min_n = MIN_SCORE_CASES
    n_baseline = property(lambda self: self.base_n)
    n_candidate = property(lambda self: self.cand_n)
    baseline = property(lambda self: self.base_mean)
    candidate = property(lambda self: self.cand_mean)

    def interval(self, z: float) -> tuple[float, float]:
        d = self.cand_mean - self.base_mean
        half = z * math.sqrt(self.base_sd**2 / self.base_n + self.cand_sd**2 / self.cand_n)
        return d - half, d + half

    def scaled(self, k: float) -> IndependentScores:
        return replace(self, base_n=self.base_n * k, cand_n=self.cand_n * k)


Summary = PairedCounts | IndependentCounts | PairedScores | IndependentScores


@dataclass(frozen=True)
class Comparison:
    """One metric compared between the releases, with its interval and decision."""

    metric: str
    kind: str  # quality or safety
    method: str
    n_baseline: int
    n_candidate: int
    baseline: float | None  # the baseline's rate or mean score
    candidate: float | None
    difference: float | None  # candidate - baseline
    ci_low: float | None
    ci_high: float | None
    confidence: float
    threshold: float  # the drop allowed (quality) or rise allowed (safety: 0)
    decision: str
    n_needed: int | None = None  # cases per release needed to decide, when INCONCLUSIVE
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def undecided(
        cls, metric: str, kind: str, decision: str, confidence: float, threshold: float, note: str, n=(0, 0)
    ) -> Comparison:
        """A comparison with no values to compare: no method, rates, difference or interval; ``n`` the
        cases (baseline, candidate)."""
        return cls(metric, kind, "none", *n, None, None, None, None, None, confidence, threshold, decision, note=note)


def _needed(summary: Summary, bad_side: str, margin: float, z: float) -> int | None:
    """Cases per release at which the interval's half-width on ``bad_side`` ('low' or 'high') shrinks to
    ``margin * z / (z + z_power)``: then the interval clears the boundary with probability POWER if the
    observed rates are the true ones. None when the observed value sits on the boundary."""
    if margin <= 0:
        return None
    target = margin * z / (z + NormalDist().inv_cdf(POWER))
    d = summary.candidate - summary.baseline

    def half(k: float) -> float:
        lo, hi = summary.scaled(k).interval(z)
        return d - lo if bad_side == "low" else hi - d

    if half(1.0) <= target:
        k = 1.0
    else:
        lo_k, hi_k = 1.0, 2.0
        while half(hi_k) > target:
            lo_k, hi_k = hi_k, hi_k * 2
            if hi_k > MAX_SCALE:
                return None
        for _ in range(60):
            mid = (lo_k + hi_k) / 2
            lo_k, hi_k = (lo_k, mid) if half(mid) <= target else (mid, hi_k)
        k = hi_k
    base = max(summary.n_baseline, summary.n_candidate)
    return max(summary.min_n, math.ceil(k * base - 1e-9))


def compare(
    metric: str, summary: Summary | None, threshold: float, confidence: float = 0.95, kind: str = QUALITY
) -> Comparison:
    """Compare one metric. ``summary`` None (a release has no results for it) is INCONCLUSIVE."""
    if kind not in (QUALITY, SAFETY):
        raise ValueError(f"unknown comparison kind {kind!r}")
    allowed = 0.0 if kind == SAFETY else threshold
    if summary is None or min(summary.n_baseline, summary.n_candidate) <= 0:
        n = (int(summary.n_baseline), int(summary.n_candidate)) if summary else (0, 0)
        return Comparison.undecided(
            metric, kind, INCONCLUSIVE, confidence, allowed, "no results in one of the releases", n
        )
    z = z_value(confidence)
    d = summary.candidate - summary.baseline
    lo, hi = summary.interval(z)
    note = ""
    if kind == QUALITY:
        if lo >= -threshold:
            decision = PASS
        elif hi < -threshold:
            decision = FAIL
        else:
            decision = INCONCLUSIVE
        side, margin = ("low", d + threshold) if d > -threshold else ("high", -threshold - d)
    else:
        decision = FAIL if lo > 0 else PASS if d <= 0 else INCONCLUSIVE
        side, margin = "low", d
    too_few = min(summary.n_baseline, summary.n_candidate) < summary.min_n
    if too_few and decision != INCONCLUSIVE:
        decision, note = INCONCLUSIVE, f"fewer than {summary.min_n} cases per release: the normal interval is not used"
    needed = _needed(summary, side, margin, z) if decision == INCONCLUSIVE else None
    if decision == INCONCLUSIVE and needed is None and not note:
        note = "the observed change sits on the threshold: no sample size decides it"
    return Comparison(
        metric,
        kind,
        summary.method,
        round(summary.n_baseline),
        round(summary.n_candidate),
        summary.baseline,
        summary.candidate,
        d,
        lo,
        hi,
        confidence,
        allowed,
        decision,
        needed,
        note,
    )


def decide(decisions: list[str], strict: bool = False) -> str:
    """The gate's decision: FAIL if any comparison fails, else INCONCLUSIVE if any is (or none was measured,
    or ``strict`` and one was not measured), else PASS."""
    measured = [d for d in decisions if d != NOT_MEASURED]
    if FAIL in measured:
        return FAIL
    if not measured or INCONCLUSIVE in measured or (strict and len(measured) < len(decisions)):
        return INCONCLUSIVE
    return PASS


@dataclass(frozen=True)
class GateResult:
    baseline: str
    candidate: str
    threshold: float
    confidence: float
    comparisons: tuple[Comparison, ...]
    strict: bool = False  # demand every comparison: NOT_MEASURED makes the gate INCONCLUSIVE

    @property
    def decision(self) -> str:
        return decide([c.decision for c in self.comparisons], self.strict)

    @property
    def not_measured(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.decision == NOT_MEASURED]

    def to_dict(self) -> dict:
        shown = ("baseline", "candidate", "threshold", "confidence", "decision", "strict")
        return {
            **{k: getattr(self, k) for k in shown},
            "not_measured": [c.metric for c in self.not_measured],
            "power": POWER,
            "comparisons": [c.to_dict() for c in self.comparisons],
        }
