"""The one source of export column names, labels, units, types and codings.

Every writer (CSV, XLSX, SAV, codebook) and the dataset builder take their columns from here,
so a name, a label or a unit is defined exactly once.  Two layouts:

* **wide** — one row per patient and rater: ``<measure>_admission``, ``<measure>_month3`` and
  (for numeric measures) ``<measure>_delta`` = month 3 − admission.
* **long** — one row per patient × visit × rater (REDCap style ``record_id`` and ``event``).

>>> [c.name for c in wide_columns()][:8]
['study_id', 'rater', 'sex', 'age_admission', 'age_90plus', 'dose_mg_kg_day', \
'duration_months', 'month3_day']
>>> column("cervical_cobb_delta").unit
'°'
>>> [c.name for c in long_columns()][:4]
['record_id', 'event', 'rater', 'visit_day']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cobbdesk.core.labs import LAB_SPECS, NLR
from cobbdesk.core.measure.measurement import CONVENTION

Kind = Literal["text", "integer", "number", "binary"]
Level = Literal["scale", "nominal", "ordinal"]

EVENTS = ("admission", "month3")
"""Visit kinds exported, in order (``other`` visits are not exported)."""
REGIONS = ("cervical", "lumbar")
AGE_CAP = 90
"""Ages above 89 are exported as 90 with ``age_90plus`` = 1 (HIPAA Safe Harbor)."""
ANGLE_DECIMALS = 4
DERIVED_DECIMALS = 4
DELTA_DECIMALS = 9
"""``<measure>_delta`` is rounded as ``cobbdesk stats`` ranks it (stats.paired.TIE_DECIMALS)."""
BINARY_CODING = {0: "negative", 1: "positive"}
SEX_CODING = {"F": "female", "M": "male", "O": "other"}
SPACING_CODING = (
    "PixelSpacing = patient plane; ImagerPixelSpacing = detector plane; "
    "ImagerPixelSpacing/ERMF = detector spacing / magnification factor; "
    "none = uncalibrated (pixel-based angle)"
)
CONVENTION_COMMENT = f"# Cobb angle sign convention: {CONVENTION}"


@dataclass(frozen=True)
class ColumnSpec:
    """One exported column: machine name, human label, unit, type, range, coding, level."""

    name: str
    label: str
    unit: str = ""
    kind: Kind = "number"
    allowed_range: str = ""
    coding: str = ""
    level: Level = "scale"
    identifying: bool = False
    value_labels: tuple[tuple[str | int, str], ...] = ()
    decimals: int | None = None
    """Decimals of a value in reports (Table 1 max/min; means and SDs get at least one)."""

    @property
    def is_text(self) -> bool:
        """True for a text column (``kind == "text"``)."""
        return self.kind == "text"

    @property
    def spss_label(self) -> str:
        """The variable label for SPSS: ``"<label> (<unit>)"``, or the label alone."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class MeasureSpec:
    """A value measured at each visit (an angle or a lab value)."""

    name: str
    label: str
    unit: str
    kind: Kind
    allowed_range: str
    coding: str = ""
    decimals: int | None = None

    def column(self, suffix: str | None) -> ColumnSpec:
        """The column of this measure at one visit (``suffix`` = event), or the long column."""
        name = self.name if suffix is None else f"{self.name}_{suffix}"
        label = self.label if suffix is None else f"{self.label}, {_EVENT_LABELS[suffix]}"
        if self.kind == "binary":
            return ColumnSpec(
                name, label, "", "binary", "0, 1", _binary_coding(), "nominal",
                value_labels=tuple(BINARY_CODING.items()),
            )  # fmt: skip
        return ColumnSpec(name, label, self.unit, self.kind, self.allowed_range, self.coding,
                          decimals=self.decimals)  # fmt: skip

    def delta(self) -> ColumnSpec:
        """The ``<name>_delta`` column: month 3 − admission in the measure's unit, rounded as
        ``cobbdesk stats`` ranks it (``DELTA_DECIMALS``).
        """
        coding = (
            f"month 3 − admission, rounded to {DELTA_DECIMALS} decimals exactly as cobbdesk "
            "stats ranks it (SPSS/PSPP Wilcoxon of this column against 0 gives CobbDesk's Z)"
        )
        coding += f"; {self.coding}" if self.coding else ""
        return ColumnSpec(f"{self.name}_delta", f"{self.label}, change", self.unit, coding=coding,
                          decimals=self.decimals)  # fmt: skip


_EVENT_LABELS = {"admission": "admission", "month3": "month 3", "delta": "change"}


def _binary_coding() -> str:
    return "; ".join(f"{k} = {v}" for k, v in BINARY_CODING.items())


def _cobb(region: str, template: str) -> MeasureSpec:
    label = f"{region.capitalize()} Cobb angle {template}"
    return MeasureSpec(f"{region}_cobb", label, "°", "number", "−180 to 180", CONVENTION, 2)


def _lab(name: str) -> MeasureSpec:
    spec = NLR if name == "nlr" else LAB_SPECS[name]
    kind: Kind = "binary" if spec.kind == "binary" else "number"
    coding = "neutrophil / lymphocyte, derived" if name == "nlr" else ""
    decimals = None if kind == "binary" else REPORT_DECIMALS[name]
    return MeasureSpec(name, spec.label, spec.unit, kind, spec.describe_range(), coding, decimals)


REPORT_DECIMALS = {
    "vas": 0, "neutrophil": 2, "lymphocyte": 2, "nlr": 2, "cpk": 0, "creatinine": 2, "crp": 1,
    "esr": 0, "alt": 0, "ast": 0,
}  # fmt: skip
"""Decimals of each lab in reports: whole numbers for scores and enzyme activities."""
LAB_ORDER = (
    "vas", "neutrophil", "lymphocyte", "nlr", "cpk", "creatinine", "crp", "esr", "alt", "ast",
    "ana", "rf",
)  # fmt: skip
MEASURES: tuple[MeasureSpec, ...] = (
    _cobb("cervical", "C2–C7"),
    _cobb("lumbar", "L1–S1"),
    *(_lab(name) for name in LAB_ORDER),
)
NUMERIC_LABS = tuple(m.name for m in MEASURES[2:] if m.kind == "number")
BINARY_LABS = tuple(m.name for m in MEASURES if m.kind == "binary")


def _spacing(region: str, suffix: str | None) -> ColumnSpec:
    name = f"{region}_spacing_source" + (f"_{suffix}" if suffix else "")
    label = f"{region.capitalize()} film pixel spacing source"
    label += f", {_EVENT_LABELS[suffix]}" if suffix else ""
    return ColumnSpec(name, label, "", "text", "", SPACING_CODING, "nominal")


STALE_CODING = (
    "empty = the stored angle was current; otherwise the reasons, separated by ';': "
    "angle = the stored angle differed from the angle recomputed from the points (the "
    "recomputed angle is exported); algorithm = stored by an older angle algorithm; "
    "spacing = the film was calibrated to another pixel spacing after measuring"
)
FLAG_CODING = (
    "empty = plausible; otherwise why the angle should be looked at again (outside "
    "−40…+60° for C2–C7, −20…+90° for L1–S1); the angle is exported unchanged"
)
MISMATCH_CODING = (
    "measurements by this rater at this visit left out of the angle columns because their "
    "template does not match the film's region (e.g. C2–C7 on a lumbar or region-unknown film)"
)


def _region_notes(region: str, suffix: str | None) -> list[ColumnSpec]:
    """Per region: plausibility flag, stale-cache reasons and snapped lines of the angle."""
    name = f"{region.capitalize()} Cobb angle"
    when = f", {_EVENT_LABELS[suffix]}" if suffix else ""
    end = f"_{suffix}" if suffix else ""
    return [
        ColumnSpec(f"{region}_cobb_flag{end}", f"{name}: plausibility flag{when}", "", "text",
                   "", FLAG_CODING, "nominal"),
        ColumnSpec(f"{region}_cobb_stale{end}", f"{name}: stored angle was stale{when}", "",
                   "text", "angle, algorithm, spacing", STALE_CODING, "nominal"),
        ColumnSpec(f"{region}_snapped{end}", f"{name}: endplate lines snapped{when}", "",
                   "integer", "0–2", "number of the two endplate lines moved by snapping",
                   "ordinal"),
    ]  # fmt: skip


def _mismatch(suffix: str | None) -> ColumnSpec:
    name = "region_mismatch" + (f"_{suffix}" if suffix else "")
    label = "Measurements on a film of another region"
    label += f", {_EVENT_LABELS[suffix]}" if suffix else ""
    return ColumnSpec(name, label, "", "integer", "≥ 0", MISMATCH_CODING, "scale")


_SEX = ColumnSpec(
    "sex", "Sex", "", "text", "F, M, O", "F = female; M = male; O = other", "nominal",
    value_labels=tuple(SEX_CODING.items()),
)  # fmt: skip
PATIENT_COLUMNS = (
    ColumnSpec("rater", "Rater who measured the angles", kind="text", level="nominal",
               coding="empty when no angle was measured for the patient"),
    _SEX,
    ColumnSpec("age_admission", "Age at admission", "years", "integer", "0–90",
               f"whole years; ages above {AGE_CAP - 1} are given as {AGE_CAP}"),
    ColumnSpec("age_90plus", f"Age above {AGE_CAP - 1} (age capped at {AGE_CAP})", "",
               "binary", "0, 1", "0 = no; 1 = yes", "nominal",
               value_labels=((0, "no"), (1, "yes"))),
    ColumnSpec("dose_mg_kg_day", "Dose", "mg/kg/day", "number", "≥ 0"),
    ColumnSpec("duration_months", "Treatment duration", "months", "number", "≥ 0"),
)  # fmt: skip
IDENTIFYING_PATIENT = (
    ColumnSpec("name", "Patient name", kind="text", level="nominal", identifying=True),
    ColumnSpec("mrn", "Medical record number", kind="text", level="nominal", identifying=True),
    ColumnSpec("birth_date", "Birth date", "", "text", "YYYY-MM-DD", "ISO 8601 date",
               "nominal", identifying=True),
    ColumnSpec("dicom_patient_id", "DICOM Patient ID", kind="text", level="nominal",
               identifying=True),
)  # fmt: skip


def _date_column(name: str, label: str) -> ColumnSpec:
    return ColumnSpec(name, label, "", "text", "YYYY-MM-DD", "ISO 8601 date", "nominal", True)


def wide_columns(identified: bool = False) -> list[ColumnSpec]:
    """Columns of the wide layout, in order."""
    cols = [
        ColumnSpec("study_id", "Study ID", kind="text", level="nominal"),
        *PATIENT_COLUMNS,
        ColumnSpec("month3_day", "Days from admission to month 3 visit", "days", "integer",
                   "≥ 0", "visit date offset; admission = day 0"),
    ]  # fmt: skip
    for measure in MEASURES:
        cols += [measure.column(event) for event in EVENTS]
        if measure.kind == "number":
            cols.append(measure.delta())
        if measure.name.endswith("_cobb"):
            region = measure.name.removesuffix("_cobb")
            cols += [_spacing(region, event) for event in EVENTS]
            cols += [c for event in EVENTS for c in _region_notes(region, event)]
            if region == REGIONS[-1]:
                cols += [_mismatch(event) for event in EVENTS]
    if identified:
        cols += [
            *IDENTIFYING_PATIENT,
            _date_column("admission_date", "Admission visit date"),
            _date_column("month3_date", "Month 3 visit date"),
        ]
    return cols


def long_columns(identified: bool = False) -> list[ColumnSpec]:
    """Columns of the long layout (one row per patient × visit × rater), in order."""
    cols = [
        ColumnSpec("record_id", "Study ID", kind="text", level="nominal"),
        ColumnSpec("event", "Visit", "", "text", "admission, month3",
                   "admission; month3 = month 3 visit", "nominal"),
        PATIENT_COLUMNS[0],
        ColumnSpec("visit_day", "Days from admission", "days", "integer", "≥ 0",
                   "visit date offset; admission = day 0; empty when the visit is missing"),
        *PATIENT_COLUMNS[1:],
    ]  # fmt: skip
    for measure in MEASURES:
        cols.append(measure.column(None))
        if measure.name.endswith("_cobb"):
            region = measure.name.removesuffix("_cobb")
            cols += [_spacing(region, None), *_region_notes(region, None)]
            if region == REGIONS[-1]:
                cols.append(_mismatch(None))
    if identified:
        cols += [*IDENTIFYING_PATIENT, _date_column("visit_date", "Visit date")]
    return cols


def _all_columns() -> dict[str, ColumnSpec]:
    return {c.name: c for c in (*long_columns(True), *wide_columns(True))}


_BY_NAME = _all_columns()


def column(name: str) -> ColumnSpec:
    """The spec of any exported column by name (KeyError when unknown)."""
    return _BY_NAME[name]


CODEBOOK_FIELDS = (
    "name", "layout", "label", "unit", "type", "allowed_range", "coding", "measurement_level",
    "identifying", "decimals",
)  # fmt: skip


def codebook_rows(identified: bool = False, *, rater_coding: str = "") -> list[dict[str, str]]:
    """The data dictionary: every wide column, then the columns only in the long layout.

    ``rater_coding`` (the export's rater policy, see :mod:`~cobbdesk.core.export.policy`)
    replaces the coding of the ``rater`` column when given.
    """
    wide = wide_columns(identified)
    long = long_columns(identified)
    wide_names = {c.name for c in wide}
    long_names = {c.name for c in long}
    rows = []
    for spec in [*wide, *(c for c in long if c.name not in wide_names)]:
        layout = "both" if spec.name in wide_names and spec.name in long_names else None
        layout = layout or ("wide" if spec.name in wide_names else "long")
        row = _codebook_row(spec, layout)
        if spec.name == "rater" and rater_coding:
            row["coding"] = rater_coding
        rows.append(row)
    return rows


def _codebook_row(spec: ColumnSpec, layout: str) -> dict[str, str]:
    return {
        "name": spec.name,
        "layout": layout,
        "label": spec.label,
        "unit": spec.unit,
        "type": spec.kind,
        "allowed_range": spec.allowed_range,
        "coding": spec.coding,
        "measurement_level": spec.level,
        "identifying": "yes" if spec.identifying else "no",
        "decimals": "" if spec.decimals is None else str(spec.decimals),
    }
