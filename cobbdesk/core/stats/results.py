"""Result base class and input handling shared by every statistic.

Every statistic returns a frozen dataclass derived from :class:`StatResult`.  A result
always names the ``method`` used, and says whether it is ``computable``; when it is not,
``reason`` is a complete sentence starting with ``"not computable: "`` and the numeric
fields are ``None`` -- a NaN is never presented as a result.  ``to_dict()`` gives a
JSON-able form in which NaN and infinities become ``None``.

>>> r = StatResult(method="demo", computable=False, reason=not_computable("no data"))
>>> r.to_dict()
{'result_type': 'StatResult', 'method': 'demo', 'computable': False, \
'reason': 'not computable: no data', 'notes': []}
>>> jsonable((1.5, float("nan"), np.int64(3)))
[1.5, None, 3]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
CaseId = str | int
"""A case identifier (patient or film id); positions ``0, 1, ...`` when none are given."""
Values = Sequence[float | None] | npt.ArrayLike
"""One variable: a sequence or array of numbers, with ``None``/NaN for missing."""

MIN_N_ASYMPTOTIC = 6
"""Smallest n for which an asymptotic (normal or t approximation) p-value is reported."""


def not_computable(why: str) -> str:
    """The standard wording of a ``reason``: ``"not computable: <why>"``."""
    return f"not computable: {why}"


class UnusableInputError(Exception):
    """Internal: input that cannot be analysed; caught and turned into a result."""

    def __init__(self, why: str) -> None:
        self.reason = not_computable(why)
        super().__init__(self.reason)


@dataclass(frozen=True, kw_only=True)
class StatResult:
    """Base of every statistics result.

    Attributes
    ----------
    method
        Human-readable description of the method, precise enough for a methods section.
    computable
        False when the input does not allow the statistic; numeric fields are then None.
    reason
        Why the result is not computable (empty when it is).
    notes
        Remarks about a computable result (e.g. a perfect correlation reported as p = 0).
    """

    method: str
    computable: bool
    reason: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: nested results become dicts, NaN/inf become None."""
        out: dict[str, Any] = {"result_type": type(self).__name__}
        for field in fields(self):
            out[field.name] = jsonable(getattr(self, field.name))
        return out


def jsonable(value: object) -> Any:
    """Convert ``value`` to plain JSON types (NaN and infinities become ``None``)."""
    result: Any
    if value is None or isinstance(value, str):
        result = value
    elif isinstance(value, StatResult):
        result = value.to_dict()
    elif isinstance(value, bool | np.bool_):
        result = bool(value)
    elif isinstance(value, int | np.integer):
        result = int(value)
    elif isinstance(value, float | np.floating):
        result = optional_float(value)
    elif isinstance(value, Mapping):
        result = {str(key): jsonable(item) for key, item in value.items()}
    elif isinstance(value, list | tuple | np.ndarray):
        result = [jsonable(item) for item in value]
    else:
        result = str(value)
    return result


def optional_float(value: float | np.floating[Any] | None) -> float | None:
    """``float(value)``, or None when it is None or not finite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_vector(values: Values, label: str) -> FloatArray:
    """One variable as a 1-D float array with NaN for missing values.

    Raises
    ------
    UnusableInputError
        When the values are not numeric, not one-dimensional, or contain infinities.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UnusableInputError(f"{label} contains values that are not numbers ({exc})") from exc
    if array.ndim != 1:
        raise UnusableInputError(f"{label} must be one-dimensional; got shape {array.shape}")
    if np.isinf(array).any():
        raise UnusableInputError(f"{label} contains infinite values")
    return array


def resolve_ids(ids: Sequence[CaseId] | None, n: int) -> tuple[CaseId, ...]:
    """Case ids as plain Python values; positions ``0..n-1`` when ``ids`` is None."""
    if ids is None:
        return tuple(range(n))
    resolved = tuple(item.item() if isinstance(item, np.generic) else item for item in ids)
    if len(resolved) != n:
        raise UnusableInputError(f"{len(resolved)} ids were given for {n} cases")
    return resolved


@dataclass(frozen=True)
class Pairs:
    """Complete pairs of two variables, and the cases excluded for a missing value."""

    x: FloatArray
    y: FloatArray
    ids: tuple[CaseId, ...]
    excluded_ids: tuple[CaseId, ...]
    x_all: FloatArray
    y_all: FloatArray

    @property
    def n(self) -> int:
        """Number of complete pairs."""
        return int(self.x.size)

    @property
    def n_total(self) -> int:
        """Number of cases given (complete or not)."""
        return int(self.x_all.size)


def complete_pairs(
    x: Values, y: Values, ids: Sequence[CaseId] | None, labels: tuple[str, str]
) -> Pairs:
    """Keep the cases where both ``x`` and ``y`` are present (pairwise deletion).

    Raises
    ------
    UnusableInputError
        When either variable is unusable or the two lengths differ.
    """
    x_all, y_all = as_vector(x, labels[0]), as_vector(y, labels[1])
    if x_all.size != y_all.size:
        raise UnusableInputError(
            f"{labels[0]} has {x_all.size} values but {labels[1]} has {y_all.size}"
        )
    keep = ~(np.isnan(x_all) | np.isnan(y_all))
    kept: list[CaseId]
    excluded: list[CaseId]
    if ids is None:  # positions: found by numpy, not by a Python loop over every case
        kept = list(np.flatnonzero(keep).tolist())
        excluded = list(np.flatnonzero(~keep).tolist())
    else:
        case_ids = resolve_ids(ids, x_all.size)
        flags = keep.tolist()  # Python bools: iterating numpy scalars is ~10x slower
        kept = [i for i, k in zip(case_ids, flags, strict=True) if k]
        excluded = [i for i, k in zip(case_ids, flags, strict=True) if not k]
    return Pairs(
        x=x_all[keep],
        y=y_all[keep],
        ids=tuple(kept),
        excluded_ids=tuple(excluded),
        x_all=x_all,
        y_all=y_all,
    )


def fmt(value: float, decimals: int) -> str:
    """Fixed-point text without a negative zero (``-0.001`` -> ``"0.00"``)."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text
