"""Descriptive statistics of one variable, and a Table-1-like list of them.

Quartiles use the "weighted average at p(n+1)" definition: SPSS EXPLORE's default
(HAVERAGE), Hyndman & Fan (1996) type 6, numpy ``method="weibull"``.

>>> d = describe([1, 2, 3, 4, 5, 6, 7, 8, None], name="x")
>>> d.n, d.missing, d.q1, d.median, d.q3, d.mean_sd
(8, 1, 2.25, 4.5, 6.75, '4.50±2.45')
>>> describe([], name="empty").reason
'not computable: empty has no values'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from cobbdesk.core.stats.results import (
    StatResult,
    UnusableInputError,
    Values,
    as_vector,
    fmt,
    not_computable,
)

QUARTILE_METHOD = (
    "quartiles by weighted average at p(n+1) (SPSS EXPLORE default HAVERAGE; "
    "Hyndman & Fan 1996 type 6)"
)
DESCRIBE_METHOD = "n, missing, min, max, mean, SD with n-1 denominator, median, " + QUARTILE_METHOD


@dataclass(frozen=True, kw_only=True)
class Descriptive(StatResult):
    """Summary of one variable; ``mean_sd`` is formatted as in papers (``"9.96±6.82"``)."""

    name: str = ""
    unit: str = ""
    n: int = 0
    missing: int = 0
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    iqr: float | None = None
    mean_sd: str = ""
    median_iqr: str = ""


def describe(values: Values, *, name: str, unit: str = "", decimals: int = 2) -> Descriptive:
    """Describe one variable; NaN/None are counted as missing.

    Parameters
    ----------
    values
        The observations (NaN or None for missing).
    name, unit
        Label and unit for reports.
    decimals
        Decimals of the formatted ``mean_sd`` and ``median_iqr`` strings.

    Returns
    -------
    Descriptive
        Not computable when there is no value; with one value the SD is None (noted).
    """
    base = Descriptive(method=DESCRIBE_METHOD, computable=False, name=name, unit=unit)
    try:
        array = as_vector(values, name)
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    present = array[~np.isnan(array)]
    n, missing = int(present.size), int(array.size - present.size)
    if n == 0:
        why = f"{name} has no values" + (f" ({missing} missing)" if missing else "")
        return replace(base, reason=not_computable(why), missing=missing)
    mean = float(np.mean(present))
    sd = float(np.std(present, ddof=1)) if n >= 2 else None
    q1, median, q3 = (float(q) for q in np.quantile(present, [0.25, 0.5, 0.75], method="weibull"))
    mean_sd = fmt(mean, decimals) + (f"±{fmt(sd, decimals)}" if sd is not None else "")
    return replace(
        base,
        computable=True,
        notes=() if sd is not None else ("SD needs at least 2 values; reported as None",),
        n=n,
        missing=missing,
        minimum=float(np.min(present)),
        maximum=float(np.max(present)),
        mean=mean,
        sd=sd,
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        mean_sd=mean_sd,
        median_iqr=f"{fmt(median, decimals)} ({fmt(q1, decimals)}–{fmt(q3, decimals)})",
    )


def describe_table(
    columns: Mapping[str, Values],
    *,
    units: Mapping[str, str] | None = None,
    decimals: int = 2,
) -> list[Descriptive]:
    """Describe several variables in order, one row of a Table 1 per variable.

    >>> rows = describe_table({"Cobb C2-C7": [10.0, 12.0], "CRP": [None, 3.0]},
    ...                       units={"Cobb C2-C7": "°"})
    >>> [(r.name, r.unit, r.n, r.mean_sd) for r in rows]
    [('Cobb C2-C7', '°', 2, '11.00±1.41'), ('CRP', '', 1, '3.00')]
    """
    units = units or {}
    return [
        describe(values, name=name, unit=units.get(name, ""), decimals=decimals)
        for name, values in columns.items()
    ]
