"""The few distribution functions the statistics need, from ``scipy.special`` directly.

``scipy.stats`` costs 0.4–1 s to import (hundreds of distribution classes, docstring
processing) where ``scipy.special`` costs a fraction; a command line run pays it every time.
These are the very functions ``scipy.stats`` evaluates for the same calls
(``scipy.stats._continuous_distns``: ``t._sf = stdtr(df, -x)``, ``t._ppf = stdtrit``,
``norm._sf = ndtr(-x)``, ``norm._ppf = ndtri``, ``f._sf = fdtrc``, ``f._ppf = fdtri``), so
the numbers are the same; the tests compare both on many arguments.  Unlike ``scipy.stats``
no argument is checked: callers pass degrees of freedom > 0 and probabilities in (0, 1).

Used as ``from cobbdesk.core.stats import distributions as sps``: ``sps.t.sf(x, df)``,
``sps.t.ppf(q, df)``, ``sps.norm.sf/cdf/pdf/ppf(x)``, ``sps.f.sf(x, dfn, dfd)``,
``sps.f.ppf(q, dfn, dfd)`` (Abramowitz & Stegun 26.2, 26.6, 26.7; Cephes via scipy.special).
``scipy.special`` itself is imported on the first call, so importing the statistics (e.g. an
export that only needs :func:`~cobbdesk.core.stats.paired.paired_differences`) loads no scipy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_SQRT_2PI = np.sqrt(2 * np.pi)


def _special() -> Any:
    from scipy import special

    return special


class _StudentT:
    """Student's t with ``df`` degrees of freedom (A&S 26.7)."""

    @staticmethod
    def sf(x: float, df: float) -> float:
        """P(T > x)."""
        return float(_special().stdtr(df, -x))

    @staticmethod
    def ppf(q: float, df: float) -> float:
        """The x with P(T <= x) = q."""
        return float(_special().stdtrit(df, q))


class _Normal:
    """The standard normal distribution (A&S 26.2)."""

    @staticmethod
    def sf(x: float) -> float:
        """P(Z > x)."""
        return float(_special().ndtr(-x))

    @staticmethod
    def cdf(x: float) -> float:
        """P(Z <= x)."""
        return float(_special().ndtr(x))

    @staticmethod
    def pdf(x: float) -> float:
        """exp(-x²/2) / sqrt(2π) (numpy's exp of an array, as scipy.stats: same rounding)."""
        return float((np.exp(-(np.array([x], dtype=np.float64) ** 2) / 2.0) / _SQRT_2PI)[0])

    @staticmethod
    def ppf(q: float) -> float:
        """The x with P(Z <= x) = q."""
        return float(_special().ndtri(q))


class _FisherF:
    """Fisher's F with ``dfn`` and ``dfd`` degrees of freedom (A&S 26.6)."""

    @staticmethod
    def sf(x: float, dfn: float, dfd: float) -> float:
        """P(F > x)."""
        return float(_special().fdtrc(dfn, dfd, x))

    @staticmethod
    def ppf(q: float, dfn: float, dfd: float) -> float:
        """The x with P(F <= x) = q."""
        return float(_special().fdtri(dfn, dfd, q))


t = _StudentT()
norm = _Normal()
f = _FisherF()

__all__ = ["f", "norm", "t"]
