"""Order statistics of Walsh averages: exact against a full sort, O(n) memory with ties (#17)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from cobbdesk.core.stats import walsh
from cobbdesk.core.stats.walsh import kth_walsh


def _full(d: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(d.size)
    return np.sort((d[i] + d[j]) / 2.0)


@pytest.mark.parametrize("candidates", [walsh.MAX_CANDIDATES, 10])  # 10: the tie-stepping path
@pytest.mark.parametrize(("n", "values"), [(40, 3), (400, 7), (1500, 4), (900, 10_000)])
def test_kth_walsh_equals_the_full_sort(
    monkeypatch: pytest.MonkeyPatch, candidates: int, n: int, values: int
) -> None:
    monkeypatch.setattr(walsh, "MAX_CANDIDATES", candidates)
    rng = np.random.default_rng(n + values)
    d = np.sort(rng.integers(-values, values + 1, size=n) / 2.0)  # ties when values is small
    full = _full(d)
    for k in [1, full.size, (full.size + 1) // 2, *rng.integers(1, full.size + 1, size=25)]:
        assert kth_walsh(d, int(k)) == full[int(k) - 1]
    order = walsh.WalshOrder(d)  # pairs (an even count's median) found together
    for k in [1, full.size - 1, full.size // 2, *rng.integers(1, full.size, size=25)]:
        assert order.kth_pair(int(k)) == (full[int(k) - 1], full[int(k)])


def test_memory_stays_linear_with_whole_number_differences() -> None:
    """100,000 tied differences (5·10⁹ Walsh averages): a few MiB, not gigabytes."""
    d = np.sort(np.random.default_rng(7).integers(-5, 9, size=100_000).astype(np.float64))
    total = d.size * (d.size + 1) // 2
    tracemalloc.start()
    try:
        median = kth_walsh(d, (total + 1) // 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
    # the median of Walsh averages of whole/half numbers is a multiple of 0.5, and at least
    # half of the averages lie at or below it (checked by counting, O(n log n))
    assert median * 2 == round(median * 2)
    assert walsh._count_le(d, np.arange(d.size), median) >= (total + 1) // 2
    assert walsh._count_le(d, np.arange(d.size), median - 0.5) < (total + 1) // 2


@pytest.mark.parametrize(("n", "seed"), [(25, 1), (40, 2), (61, 3), (90, 4)])
def test_hodges_lehmann_by_selection_equals_brute_force(n: int, seed: int) -> None:
    """The estimate and CI found by selection (``sort_max_n=0``) are the median and order
    statistics of every Walsh average listed by two plain loops (ties among the differences:
    quarter degrees drawn from a few values)."""
    from statistics import median

    from cobbdesk.core.stats.paired import SELECTION_NOTE, hodges_lehmann
    from cobbdesk.core.stats.ranks import walsh_ci_order

    d = np.random.default_rng(seed).integers(-6, 9, size=n) / 4.0
    values = d.tolist()
    averages = sorted((values[i] + values[j]) / 2 for i in range(n) for j in range(i, n))
    result = hodges_lehmann(d, sort_max_n=0)
    assert SELECTION_NOTE in result.notes
    assert result.estimate == median(averages)
    c = walsh_ci_order(n, 0.95).c
    assert (result.ci_low, result.ci_high) == (averages[c - 1], averages[len(averages) - c])


def test_bisection_stops_when_tied_averages_fill_the_bracket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lab-like differences (two decimals, few distinct values): once a bisection step leaves
    the count unchanged, the ≤ MAX_CANDIDATES averages in the bracket are selected instead of
    bisecting on to the float resolution (26–34 counts per rank before); same elements."""
    rng = np.random.default_rng(3)
    d = np.sort(np.round(rng.normal(0.0, 0.05, 1500), 2))
    counts = []
    original = walsh._count_le
    monkeypatch.setattr(walsh, "_count_le", lambda *a: counts.append(1) or original(*a))
    full = _full(d)
    for k in (full.size // 2, full.size // 40, full.size - full.size // 40):
        counts.clear()
        assert walsh.WalshOrder(d).kth(k) == full[k - 1]
        assert len(counts) <= 12, len(counts)
