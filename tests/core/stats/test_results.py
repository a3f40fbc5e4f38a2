"""Every result type: JSON round trip without NaN, never a NaN presented as a result."""

from __future__ import annotations

import json
import math
from dataclasses import fields

import numpy as np
import pytest

from cobbdesk.core.stats import (
    StatResult,
    bland_altman,
    describe,
    flag_changes_below_mdc,
    hodges_lehmann,
    icc_a1,
    paired_t_test,
    sem_mdc,
    spearman,
    wilcoxon_signed_rank,
)
from cobbdesk.core.stats.results import jsonable

BEFORE = [10.0, 12.0, None, 8.0, 9.0, 15.0, 11.0, 7.0, 10.0]
AFTER = [14.0, 15.0, 13.0, 8.0, 12.0, 19.0, 10.0, 12.0, np.nan]
RESULTS = {
    "wilcoxon": lambda: wilcoxon_signed_rank(BEFORE, AFTER, ids=list("ABCDEFGHI")),
    "wilcoxon_empty": lambda: wilcoxon_signed_rank([], []),
    "wilcoxon_zero": lambda: wilcoxon_signed_rank([1.0] * 8, [1.0] * 8),
    "t": lambda: paired_t_test(BEFORE, AFTER),
    "hl": lambda: hodges_lehmann(np.array([1.0, 2.0])),
    "spearman": lambda: spearman(BEFORE, AFTER, x_name="a", y_name="b"),
    "spearman_constant": lambda: spearman([1.0] * 7, AFTER[:7], x_name="a", y_name="b"),
    "describe": lambda: describe([1.0], name="x"),
    "describe_empty": lambda: describe([], name="x"),
    "icc": lambda: icc_a1([[1.0, 2.0], [3.0, 3.5], [5.0, 5.0]]),
    "icc_bad": lambda: icc_a1([[1.0, 1.0], [2.0, 2.0]]),
    "bland_altman": lambda: bland_altman(BEFORE, AFTER),
    "sem": lambda: sem_mdc(0.8, 4.0),
    "sem_bad": lambda: sem_mdc(math.nan, 4.0),
    "flags": lambda: flag_changes_below_mdc([1.0, None], 2.0),
}


def walk(value: object) -> list[object]:
    """All leaves of a nested result."""
    if isinstance(value, StatResult):
        return [leaf for f in fields(value) for leaf in walk(getattr(value, f.name))]
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in walk(item)]
    return [value]


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_json_round_trip_without_nan(name: str) -> None:
    result = RESULTS[name]()
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["result_type"] == type(result).__name__
    assert data["method"]
    assert data["computable"] == result.computable


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_no_nan_is_presented_and_reasons_are_stated(name: str) -> None:
    result = RESULTS[name]()
    for leaf in walk(result):
        assert not (isinstance(leaf, float) and not math.isfinite(leaf)), leaf
    if result.computable:
        assert result.reason == ""
    else:
        assert result.reason.startswith("not computable: ") and len(result.reason) > 20


def test_jsonable_replaces_non_finite_and_numpy_types() -> None:
    assert jsonable({"a": np.float64("nan"), "b": (np.int32(2), math.inf, np.bool_(True))}) == {
        "a": None,
        "b": [2, None, True],
    }
