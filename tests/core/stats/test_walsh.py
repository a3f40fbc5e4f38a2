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
