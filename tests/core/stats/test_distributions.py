"""The scipy.special distribution functions give exactly what scipy.stats gives."""

from __future__ import annotations

import numpy as np
from scipy import stats

from cobbdesk.core.stats import distributions as sps


def test_same_numbers_as_scipy_stats() -> None:
    rng = np.random.default_rng(20261129)
    for _ in range(2000):
        x = float(rng.normal(0.0, 5.0))
        q = float(rng.uniform(1e-9, 1.0 - 1e-9))
        df1, df2 = float(rng.uniform(0.5, 500.0)), float(rng.uniform(1.0, 300.0))
        assert sps.t.sf(x, df1) == stats.t.sf(x, df1)
        assert sps.t.ppf(q, df1) == stats.t.ppf(q, df1)
        assert sps.norm.sf(x) == stats.norm.sf(x)
        assert sps.norm.cdf(x) == stats.norm.cdf(x)
        assert sps.norm.pdf(x) == stats.norm.pdf(x)
        assert sps.norm.ppf(q) == stats.norm.ppf(q)
        assert sps.f.sf(abs(x), df1, df2) == stats.f.sf(abs(x), df1, df2)
        assert sps.f.ppf(q, df1, df2) == stats.f.ppf(q, df1, df2)


def test_textbook_values() -> None:
    """Tables: z(0.975) = 1.959964, t(0.975; 10) = 2.228139, F(0.95; 2, 10) = 4.102821."""
    assert abs(sps.norm.ppf(0.975) - 1.959964) < 1e-6
    assert abs(sps.t.ppf(0.975, 10) - 2.228139) < 1e-6
    assert abs(sps.f.ppf(0.95, 2, 10) - 4.102821) < 1e-6
    assert abs(sps.norm.pdf(0.0) - 0.3989423) < 1e-7
