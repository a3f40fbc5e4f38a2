"""Order statistics of Walsh averages without building all n(n+1)/2 of them.

The Hodges–Lehmann estimate and its distribution-free CI are order statistics of the Walsh
averages (d_i + d_j)/2, i ≤ j.  Sorting them all costs O(n²) memory (1.6 GB at n = 10,000);
:func:`kth_walsh` finds the k-th one by bisection on the count of averages ≤ x (O(n log n)
per step, on the sorted differences) to at most 4n candidates, then selects among them
(``np.partition``: introselect, O(4n)); :class:`WalshOrder` shares the work between the
median and the CI bounds.  The result
is exactly the element a full sort would give (tests compare both).
"""

from __future__ import annotations

import numpy as np

from cobbdesk.core.stats.results import FloatArray

MAX_CANDIDATES = 200_000
"""Most Walsh averages enumerated when ties keep the bisection from narrowing to 4n (more:
the distinct values are stepped through instead).  The bisection goes on to 4n, or stops
at this many once a step leaves the count unchanged (tied averages fill the bracket)."""
SAMPLE = 20_000
"""Random Walsh averages drawn to bracket an order statistic before the bisection."""


def _count_le(d: FloatArray, index: np.ndarray, x: float) -> int:
    """Number of Walsh averages (d_i + d_j)/2, i ≤ j, not above ``x`` (``d`` sorted)."""
    ends = np.searchsorted(d, (2.0 * x - d)[::-1], side="right")[::-1]  # ascending needles
    return int(np.maximum(ends - index, 0).sum())


def _sample(d: FloatArray) -> FloatArray | None:
    """``SAMPLE`` Walsh averages drawn at fixed random positions, sorted (None for n < 200).
    The result of a selection never depends on it, only its speed."""
    n = d.size
    if n < 200:
        return None
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, n, size=(2, SAMPLE))
    return np.sort((d[i] + d[j]) / 2.0)


def _bracket(
    d: FloatArray, index: np.ndarray, ks: tuple[int, int], sample: FloatArray | None
) -> tuple[float, float, int, int]:
    """An interval (lo, hi] holding the k-th to k2-th Walsh averages (``ks``), from the
    sample's quantiles; the whole range when they do not bracket them."""
    n = d.size
    total = n * (n + 1) // 2
    full = (float(d[0]) - 1.0, float(d[-1]), 0, total)
    if sample is None:
        return full
    q, q2 = ks[0] / total, ks[1] / total
    margin = 4.0 * np.sqrt(max(q * (1.0 - q), q2 * (1.0 - q2)) / SAMPLE) + 2.0 / n
    lo = float(np.quantile(sample, max(q - margin, 0.0))) - 1e-9
    hi = float(np.quantile(sample, min(q2 + margin, 1.0)))
    count_lo, count_hi = _count_le(d, index, lo), _count_le(d, index, hi)
    return (lo, hi, count_lo, count_hi) if count_lo < ks[0] and ks[1] <= count_hi else full


def _next_above(d: FloatArray, index: np.ndarray, x: float) -> float:
    """The smallest Walsh average strictly above ``x`` (``d`` sorted), in O(n log n) time and
    O(n) memory; ``inf`` when there is none."""
    j = np.maximum(np.searchsorted(d, 2.0 * x - d, side="right"), index)
    valid = j < d.size
    if not valid.any():
        return float("inf")
    values = (d[valid] + d[j[valid]]) / 2.0
    above = values[values > x]
    return float(above.min()) if above.size else float("inf")


def _step_through_ties(d: FloatArray, index: np.ndarray, k: int, lo: float) -> float:
    """The k-th Walsh average when (lo, hi] holds too many to enumerate (ties, e.g. whole-number
    differences): walk up the distinct values above ``lo`` (fewer than k averages are ≤ ``lo``)
    until the count reaches k.  Each step is O(n) memory (Monahan 1984, ACM TOMS 10:265, uses
    the same count-and-step idea), so memory never grows with the number of ties."""
    for _ in range(10_000):
        value = _next_above(d, index, lo)
        count = _count_le(d, index, value)
        if count >= k or not np.isfinite(value):
            return value
        lo = value
    raise RuntimeError("Walsh average selection did not converge")  # pragma: no cover


def kth_walsh(d: FloatArray, k: int) -> float:
    """The k-th smallest (1-based) Walsh average of the sorted differences ``d``
    (:class:`WalshOrder`)."""
    return WalshOrder(d).kth(k)


class WalshOrder:
    """Order statistics of the Walsh averages of the sorted differences ``d`` (shape (n,)).

    Memory is O(n) whatever the ties: bisection on the count of averages ≤ x (Monahan 1984,
    ACM TOMS 10:265; Johnson & Mizoguchi 1978) narrows an interval to at most 4n averages,
    among which the wanted ones are selected (``np.partition``); when ties keep too many in
    it, the distinct values are stepped through (:func:`_step_through_ties`).  The bracketing
    sample is drawn once per object (the median and both CI bounds share it).
    """

    def __init__(self, d: FloatArray) -> None:
        self.d = d
        self.index = np.arange(d.size)
        self.eps = 1e-9 * (float(np.max(np.abs(d))) + 1.0) if d.size else 1e-9
        self.sample = _sample(d)

    def kth(self, k: int) -> float:
        """The k-th smallest (1-based) Walsh average."""
        return self._ranks(k, k)[0]

    def kth_pair(self, k: int) -> tuple[float, float]:
        """The k-th and (k+1)-th smallest Walsh averages (an even count's median), found
        together."""
        low, high = self._ranks(k, k + 1)
        return low, high

    def _ranks(self, k: int, k2: int) -> list[float]:
        d, index, n = self.d, self.index, self.d.size
        lo, hi, count_lo, count_hi = _bracket(d, index, (k, k2), self.sample)
        stalled = False
        for _ in range(200):
            held = count_hi - count_lo
            if held <= 4 * n or hi - lo <= self.eps or (stalled and held <= MAX_CANDIDATES):
                break  # stalled: tied averages fill the bracket; selecting them is cheaper
            mid = (lo + hi) / 2.0
            count = _count_le(d, index, mid)
            if count >= k2:
                hi, count_hi = mid, count
            elif count < k:
                lo, count_lo = mid, count
            else:  # mid falls between the wanted ranks: find each alone
                return [self.kth(k), self.kth(k2)]
            stalled = count_hi - count_lo == held
        if count_hi - count_lo > max(4 * n, MAX_CANDIDATES):
            return [_step_through_ties(d, index, j, lo) for j in range(k, k2 + 1)]
        return self._select(lo, hi, k, k2)

    def _select(self, lo: float, hi: float, k: int, k2: int) -> list[float]:
        """The k-th to k2-th averages among those in (lo, hi] (all of them in it)."""
        d, index = self.d, self.index
        low, high = lo - self.eps, hi + self.eps
        starts = np.maximum(np.searchsorted(d, 2.0 * low - d, side="right"), index)
        stops = np.maximum(np.searchsorted(d, 2.0 * high - d, side="right"), starts)
        below = int((starts - index).sum())
        sizes = stops - starts
        rows = np.repeat(index, sizes)
        offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        candidates = (d[rows] + d[starts[rows] + offsets]) / 2.0
        at = [min(max(j - below - 1, 0), candidates.size - 1) for j in range(k, k2 + 1)]
        chosen = np.partition(candidates, at)  # each ``at`` holds what a full sort puts there
        return [float(chosen[a]) for a in at]
