"""Lab values kept per visit: names, units, what is possible and what is plausible.

``LAB_SPECS`` is the single source of lab column names (the CSV import reads them, the exports
write them, the codebook describes them).  A value outside ``limits`` is impossible and is
refused; a value outside ``plausible`` is accepted with a warning (a clinician may have a real
outlier).  The neutrophil/lymphocyte ratio is derived, never typed.

>>> validate_lab("vas", "7")
7.0
>>> validate_lab("vas", 12)
Traceback (most recent call last):
...
cobbdesk.core.errors.ValidationError: vas = 12 is impossible: VAS pain score must be 0–10
>>> validate_lab("ana", "Positive")
'positive'
>>> nlr(4.2, 2.1)
2.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cobbdesk.core.errors import ValidationError


@dataclass(frozen=True)
class LabSpec:
    """One lab value: column ``name``, human ``label``, ``unit`` and ``kind`` ("number" or
    "binary").  A number outside ``limits`` (inclusive) is impossible and refused; outside
    ``plausible`` it is accepted with a warning.
    """

    name: str
    label: str
    unit: str
    kind: str  # "number" or "binary"
    limits: tuple[float, float] = (0.0, math.inf)
    plausible: tuple[float, float] = (0.0, math.inf)

    def describe_range(self) -> str:
        """The possible values in words, e.g. ``"0–200 ×10⁹/L"`` or ``"positive / negative"``.

        >>> LAB_SPECS["crp"].describe_range()
        '0–1000 mg/L'
        """
        if self.kind == "binary":
            return "positive / negative"
        high = "" if math.isinf(self.limits[1]) else f"{self.limits[1]:g}"
        return f"{self.limits[0]:g}–{high}".rstrip("–") + (f" {self.unit}" if self.unit else "")


LAB_SPECS: dict[str, LabSpec] = {
    spec.name: spec
    for spec in (
        LabSpec("vas", "VAS pain score", "", "number", (0, 10), (0, 10)),
        LabSpec("neutrophil", "Neutrophils", "×10⁹/L", "number", (0, 200), (0.5, 30)),
        LabSpec("lymphocyte", "Lymphocytes", "×10⁹/L", "number", (0, 200), (0.2, 10)),
        LabSpec("cpk", "Creatine phosphokinase (CPK)", "U/L", "number", (0, 500_000), (10, 5_000)),
        LabSpec("creatinine", "Creatinine", "mg/dL", "number", (0, 40), (0.1, 15)),
        LabSpec("crp", "C-reactive protein (CRP)", "mg/L", "number", (0, 1_000), (0, 300)),
        LabSpec(
            "esr", "Erythrocyte sedimentation rate (ESR)", "mm/h", "number", (0, 200), (0, 140)
        ),
        LabSpec("alt", "Alanine aminotransferase (ALT)", "U/L", "number", (0, 50_000), (3, 1_000)),
        LabSpec(
            "ast", "Aspartate aminotransferase (AST)", "U/L", "number", (0, 50_000), (3, 1_000)
        ),
        LabSpec("ana", "Antinuclear antibodies (ANA)", "", "binary"),
        LabSpec("rf", "Rheumatoid factor (RF)", "", "binary"),
    )
}
BINARY_VALUES = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "1": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
    "0": "negative",
}
NLR = LabSpec("nlr", "Neutrophil/lymphocyte ratio (derived)", "", "number")


def is_missing(value: Any) -> bool:
    """Empty cells, None and NaN are missing (allowed for every lab)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "NA", "N/A", "na", ".")


def validate_lab(name: str, value: Any) -> float | str | None:
    """The stored form of ``value`` for lab ``name``, or ValidationError saying why not."""
    spec = LAB_SPECS.get(name)
    if spec is None:
        raise ValidationError(None, f"unknown lab {name!r}; known: {', '.join(LAB_SPECS)}")
    if is_missing(value):
        return None
    if spec.kind == "binary":
        text = str(value).strip().lower()
        if text not in BINARY_VALUES:
            raise ValidationError(None, f"{name} = {value!r} is not positive/negative")
        return BINARY_VALUES[text]
    try:
        number = (
            float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
        )
    except (TypeError, ValueError):
        raise ValidationError(None, f"{name} = {value!r} is not a number") from None
    if not math.isfinite(number) or not spec.limits[0] <= number <= spec.limits[1]:
        raise ValidationError(
            None, f"{name} = {value!s} is impossible: {spec.label} must be {spec.describe_range()}"
        )
    return number


def plausibility_warning(name: str, value: float | str | None) -> str | None:
    """A warning when a possible value lies outside the usual clinical range."""
    spec = LAB_SPECS[name]
    if spec.kind != "number" or not isinstance(value, float):
        return None
    low, high = spec.plausible
    if low <= value <= high:
        return None
    return (
        f"{name} = {value:g} {spec.unit} is unusual (expected {low:g}–{high:g}); check it".replace(
            "  ", " "
        )
    )


def nlr(neutrophil: float | None, lymphocyte: float | None) -> float | None:
    """Neutrophil/lymphocyte ratio, or None when either is missing or lymphocytes are 0."""
    if neutrophil is None or lymphocyte is None or lymphocyte <= 0:
        return None
    return neutrophil / lymphocyte
