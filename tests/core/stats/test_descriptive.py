"""Descriptive statistics: hand-checked values, formatting, missing and degenerate input."""

from __future__ import annotations

import numpy as np
import pytest

from cobbdesk.core.stats import describe, describe_table


def test_hand_calculated_even_n() -> None:
    # 1..8: mean 4.5 ; SD = sqrt(42/7) = sqrt(6) = 2.449490 ;
    # weighted average at p(n+1): Q1 at 0.25*9 = 2.25 -> 2.25 ; Q3 at 6.75 -> 6.75.
    d = describe([1, 2, 3, 4, 5, 6, 7, 8], name="x", unit="°")
    assert (d.n, d.missing, d.minimum, d.maximum) == (8, 0, 1.0, 8.0)
    assert d.mean == 4.5
    assert d.sd == pytest.approx(6**0.5)
    assert (d.q1, d.median, d.q3, d.iqr) == (2.25, 4.5, 6.75, 4.5)
    assert d.mean_sd == "4.50±2.45"
    assert d.median_iqr == "4.50 (2.25–6.75)"
    assert d.unit == "°"
    assert "HAVERAGE" in d.method


def test_hand_calculated_odd_n_with_missing() -> None:
    # 1,3,...,13 (n = 7): Q1 at 0.25*8 = 2 -> 3 ; Q3 at 6 -> 11 ; two missing values.
    d = describe([1, None, 3, 5, 7, np.nan, 9, 11, 13], name="x")
    assert (d.n, d.missing) == (7, 2)
    assert (d.q1, d.median, d.q3) == (3.0, 7.0, 11.0)


def test_seed_paper_format() -> None:
    rng = np.random.default_rng(3)
    z = rng.standard_normal(61)
    values = 9.96 + 6.82 * (z - z.mean()) / z.std(ddof=1)
    assert describe(values, name="Cobb C2-C7").mean_sd == "9.96±6.82"
    assert describe([-0.001, 0.001, -0.002, 0.002], name="x", decimals=2).mean_sd[:4] == "0.00"


def test_single_value_has_no_sd() -> None:
    d = describe([5.0, None], name="x")
    assert d.computable
    assert d.sd is None
    assert d.mean_sd == "5.00"
    assert "SD needs at least 2" in d.notes[0]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([], "not computable: x has no values"),
        ([None, np.nan], "not computable: x has no values (2 missing)"),
        (["a"], "not computable: x contains values that are not numbers"),
    ],
)
def test_not_computable(values: list, reason: str) -> None:
    d = describe(values, name="x")
    assert not d.computable
    assert d.reason.startswith(reason)
    assert d.mean is None and d.sd is None and d.mean_sd == ""


def test_describe_table_keeps_order_and_units() -> None:
    rows = describe_table(
        {"Cobb C2-C7": [10.0, 12.0, 14.0], "CRP": [1.0, None, 3.0], "ESR": []},
        units={"Cobb C2-C7": "°", "CRP": "mg/L"},
    )
    assert [r.name for r in rows] == ["Cobb C2-C7", "CRP", "ESR"]
    assert [r.unit for r in rows] == ["°", "mg/L", ""]
    assert [r.n for r in rows] == [3, 2, 0]
    assert rows[0].mean_sd == "12.00±2.00"
    assert not rows[2].computable
