"""Admission vs month-3 comparison: the maths and rules behind the compare view (no Qt).

**Synchronised zoom and pan in physical units.**  A view's ``zoom`` is screen pixels per
image pixel; dividing by the film's pixel size gives screen pixels per millimetre, and the
other view gets the zoom that shows the same screen pixels per millimetre.  Pan keeps one
*anchor* of each film (the film centres, or a landmark clicked on both films) at the same
offset from the view centre, measured in millimetres.

Anisotropic spacing: the film view now draws pixels with their physical shape, so one zoom
matches both axes exactly; the compare view syncs with the per-axis
:func:`cobbdesk.core.viewing.synced_zoom_mm` and :func:`~cobbdesk.core.viewing.synced_center_mm`.
:func:`synced_zoom` and :func:`synced_center` here use the geometric-mean pixel size
``sqrt(row_mm × col_mm)`` (right for square-drawn pixels only, with the residual per-axis error
:func:`anisotropy`); the GUI no longer uses them.

When either film is uncalibrated the views sync in image pixels and say so (:func:`sync_units`).

**Which angle counts.**  Each film may carry several measurements (raters, repeats).  The angle
compared is the *current rater's most recently created* measurement on that film (ties broken
by id) — the rule of the dataset export — so one rater's reading is never differenced against
another's.  ``delta = month 3 − admission`` is None when either angle is missing.

**Reading order.**  Region first, then patient (all cervical pairs in study-ID order, then all
lumbar pairs), so "next patient" walks through the whole study.  A pair is *complete* when both
visits have a film of the region and the current rater measured both.

>>> synced_zoom(0.5, (0.2, 0.2), (0.1, 0.1))  # 1 mm is twice as many 0.1 mm pixels
0.25
>>> synced_center((110.0, 60.0), (100.0, 50.0), (400.0, 300.0), (0.2, 0.2), (0.1, 0.1))
(420.0, 320.0)
>>> delta(10.0, 14.5), delta(None, 14.5)
(4.5, None)
>>> day_label("2026-04-03", "2026-01-05")
'day +88'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from cobbdesk.core.dicom.film import Film, Window
from cobbdesk.core.measure.formatting import day_text
from cobbdesk.core.measure.measurement import CobbMeasurement, Template
from cobbdesk.core.store.records import FilmRecord, PatientOverview, Region, Visit, VisitKind

Spacing = tuple[float, float] | None
Point = tuple[float, float]
REGIONS = (Region.CERVICAL, Region.LUMBAR)
KINDS = (VisitKind.ADMISSION, VisitKind.MONTH3)
VISIT_TITLES = {VisitKind.ADMISSION: "Admission", VisitKind.MONTH3: "Month 3"}
TEMPLATES = {Region.CERVICAL: Template.C2_C7, Region.LUMBAR: Template.L1_S1}


# --- physical-unit synchronisation -----------------------------------------------------------
def pixel_size(spacing: Spacing) -> float | None:
    """Geometric-mean pixel size in mm (None when uncalibrated)."""
    if spacing is None:
        return None
    return math.sqrt(spacing[0] * spacing[1])


def sync_units(spacing_a: Spacing, spacing_b: Spacing) -> Literal["mm", "px"]:
    """``"mm"`` when both films are calibrated, else ``"px"`` (sync in image pixels)."""
    return "mm" if spacing_a is not None and spacing_b is not None else "px"


def _ratio(spacing_a: Spacing, spacing_b: Spacing) -> float:
    """Image pixels of film b per image pixel of film a covering the same distance."""
    a, b = pixel_size(spacing_a), pixel_size(spacing_b)
    return a / b if a is not None and b is not None else 1.0


def synced_zoom(zoom_a: float, spacing_a: Spacing, spacing_b: Spacing) -> float:
    """Zoom of view b showing film b at the screen pixels per mm of view a (per px if either
    film is uncalibrated).

    >>> synced_zoom(0.5, None, (0.1, 0.1))
    0.5
    """
    return zoom_a / _ratio(spacing_a, spacing_b)


def synced_center(
    center_a: Point, anchor_a: Point, anchor_b: Point, spacing_a: Spacing, spacing_b: Spacing
) -> Point:
    """View-b centre (film-b image coordinates) with the same physical offset from ``anchor_b``
    as ``center_a`` has from ``anchor_a``."""
    k = _ratio(spacing_a, spacing_b)
    return (
        anchor_b[0] + (center_a[0] - anchor_a[0]) * k,
        anchor_b[1] + (center_a[1] - anchor_a[1]) * k,
    )


def anisotropy(spacing: Spacing) -> float:
    """Residual per-axis scale error of the geometric-mean sync (1.0 = square pixels).

    >>> round(anisotropy((0.2, 0.1)), 4)
    1.4142
    """
    if spacing is None:
        return 1.0
    return math.sqrt(max(spacing) / min(spacing))


def film_center(columns: int, rows: int) -> Point:
    """Image coordinates of a film's centre (pixel centres are at integers)."""
    return ((columns - 1) / 2.0, (rows - 1) / 2.0)


def synced_window(window_a: Window, base_a: Window, base_b: Window) -> Window:
    """Window for film b making the same *relative* change as ``window_a`` made to ``base_a``.

    Films differ in bit depth and exposure, so raw centre/width values do not transfer; the
    change is expressed in units of each film's base (default or automatic) window width.

    >>> w = synced_window(Window(600, 400), Window(500, 1000), Window(2000, 4000))
    >>> (w.center, w.width)
    (2400.0, 1600.0)
    """
    scale = base_b.width / base_a.width
    center = base_b.center + (window_a.center - base_a.center) * scale
    return Window(center, max(2.0, window_a.width * scale), window_a.function, "synchronised")


# --- angles ----------------------------------------------------------------------------------
def counted_measurement(
    measurements: Iterable[CobbMeasurement], rater: str
) -> CobbMeasurement | None:
    """The current rater's most recently created measurement (ties: larger id), or None."""
    own = [m for m in measurements if m.rater == rater]
    return max(own, key=lambda m: (m.created_utc, m.id)) if own else None


def delta(admission: float | None, month3: float | None) -> float | None:
    """``month3 − admission`` in degrees; None when either is missing."""
    if admission is None or month3 is None:
        return None
    return month3 - admission


def delta_text(value: float | None, calibrated: bool = True) -> str:
    """``"Δ +4.9°"`` (U+2212 for negatives), ``"Δ —"`` when missing.

    >>> delta_text(-3.21), delta_text(None), delta_text(1.0, calibrated=False)
    ('Δ −3.2°', 'Δ —', 'Δ +1.0° (px)')
    """
    if value is None:
        return "Δ —"
    text = f"{abs(value):.1f}"
    sign = "±" if text == "0.0" else ("+" if value > 0 else "\u2212")
    return f"Δ {sign}{text}°" + ("" if calibrated else " (px)")


@dataclass(frozen=True)
class MeasurementChanges:
    """What changed between the saved measurements of a film and the view's current ones."""

    added: list[CobbMeasurement] = field(default_factory=list)
    adjusted: list[CobbMeasurement] = field(default_factory=list)
    removed: list[CobbMeasurement] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.adjusted or self.removed)


def measurement_changes(
    saved: Mapping[str, CobbMeasurement], current: Mapping[str, CobbMeasurement]
) -> MeasurementChanges:
    """Added, adjusted and removed measurements (by id; order as in the mappings)."""
    return MeasurementChanges(
        [m for mid, m in current.items() if mid not in saved],
        [m for mid, m in current.items() if mid in saved and saved[mid] != m],
        [m for mid, m in saved.items() if mid not in current],
    )


# --- what a pair holds -----------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """One side of a comparison: the visit (if any) and its film of the region (if any).

    When a visit has several films of the region the first (lowest id) is compared.
    """

    kind: VisitKind
    visit: Visit | None
    film: FilmRecord | None
    films: int = 0

    @property
    def title(self) -> str:
        """The visit's heading: ``"Admission"``, ``"Month 3"``, or the kind's value otherwise."""
        return VISIT_TITLES.get(self.kind, self.kind.value)

    def missing(self, region: Region) -> str:
        """What is missing, for the placeholder ("" when the film is there)."""
        if self.visit is None:
            return f"No {self.title.lower()} visit"
        return "" if self.film is not None else f"No {region.value} film at {self.title.lower()}"


def slot(po: PatientOverview, kind: VisitKind, region: Region) -> Slot:
    """The first visit of ``kind`` (the export's rule) and its first film of ``region``."""
    visit = next((v for v in po.visits if v.visit.kind is kind), None)
    if visit is None:
        return Slot(kind, None, None)
    films = sorted(visit.films.get(region, []), key=lambda f: f.id)
    return Slot(kind, visit.visit, films[0] if films else None, len(films))


def slots(po: PatientOverview, region: Region) -> tuple[Slot, Slot]:
    """(admission, month 3) of a patient and region."""
    return slot(po, VisitKind.ADMISSION, region), slot(po, VisitKind.MONTH3, region)


def rater_measured_films(
    overview: Sequence[PatientOverview], measurements: Iterable[CobbMeasurement], rater: str
) -> set[int]:
    """Ids of the films ``rater`` measured (measurements identify films by SOP Instance UID)."""
    by_uid = {
        f.sop_instance_uid: f.id
        for po in overview
        for v in po.visits
        for films in v.films.values()
        for f in films
    }
    return {by_uid[m.sop_instance_uid] for m in measurements
            if m.rater == rater and m.sop_instance_uid in by_uid}  # fmt: skip


def is_complete(po: PatientOverview, region: Region, measured: set[int]) -> bool:
    """Both visits have a film of ``region`` and both films are in ``measured``."""
    pair = slots(po, region)
    return all(s.film is not None and s.film.id in measured for s in pair)


def reading_order(overview: Sequence[PatientOverview]) -> list[tuple[int, Region]]:
    """Every (patient id, region) pair: all cervical pairs, then all lumbar ones."""
    return [(po.patient.id, region) for region in REGIONS for po in overview]


def next_item(
    overview: Sequence[PatientOverview],
    current: int | None,
    region: Region,
    skip_complete: bool = False,
    *,
    step: int = 1,
    measured: set[int] | None = None,
) -> tuple[int, Region] | None:
    """The (patient id, region) after (``step=-1``: before) ``current`` in :func:`reading_order`,
    skipping complete pairs on request (``measured``: film ids the rater measured); None at the
    end.  ``current=None`` starts from the beginning (or the end for ``step=-1``).

    >>> next_item([], None, Region.CERVICAL) is None
    True
    """
    order = reading_order(overview)
    by_id = {po.patient.id: po for po in overview}
    if current is not None and (current, region) in order:
        index = order.index((current, region))
    else:
        index = -1 if step > 0 else len(order)
    index += step
    while 0 <= index < len(order):
        pid, reg = order[index]
        if not (skip_complete and is_complete(by_id[pid], reg, measured or set())):
            return pid, reg
        index += step
    return None


# --- labels ----------------------------------------------------------------------------------
def day_offset(visit_date: str | None, admission_date: str | None) -> int | None:
    """Days from admission to ``visit_date`` (None when a date is unknown)."""
    if not visit_date or not admission_date:
        return None
    return (date.fromisoformat(visit_date) - date.fromisoformat(admission_date)).days


def day_label(visit_date: str | None, admission_date: str | None) -> str:
    """``"day 0"``, ``"day +88"``, or ``"day ?"`` when a date is missing."""
    return day_text(day_offset(visit_date, admission_date))


def date_label(
    visit: Visit | None, admission: Visit | None, *, deidentified: bool, blinded: bool
) -> str:
    """The date part of a side's title: hidden when blinded, a day offset when de-identified.

    >>> v = Visit(2, 1, VisitKind.MONTH3, visit_date="2026-04-03")
    >>> a = Visit(1, 1, VisitKind.ADMISSION, visit_date="2026-01-05")
    >>> [date_label(v, a, deidentified=d, blinded=b) for d, b in ((1, 0), (0, 0), (0, 1))]
    ['day +88', '2026-04-03', 'date hidden']
    """
    if blinded:
        return "date hidden"
    if visit is None:
        return ""
    if deidentified:
        return day_label(visit.visit_date, admission.visit_date if admission else None)
    return visit.visit_date or "no date"


def side_title(
    slot: Slot, admission: Visit | None, rater: str, *, deidentified: bool, blinded: bool
) -> str:
    """``"Month 3  ·  day +88  ·  rater dr_a"`` (study IDs and day offsets only).

    >>> s = Slot(VisitKind.ADMISSION, Visit(1, 1, VisitKind.ADMISSION, visit_date="2026-01-05"),
    ...          None, 2)
    >>> side_title(s, s.visit, "dr_a", deidentified=True, blinded=False)
    'Admission  ·  day 0  ·  rater dr_a  ·  first of 2 films'
    """
    when = date_label(slot.visit, admission, deidentified=deidentified, blinded=blinded)
    parts = [slot.title, when, f"rater {rater}"]
    if slot.films > 1:
        parts.append(f"first of {slot.films} films")
    return "  ·  ".join(p for p in parts if p)


def template_for(region: Region) -> Template:
    """The measurement template of a region (FREE for unknown regions)."""
    return TEMPLATES.get(region, Template.FREE)


def other_region(region: Region) -> Region:
    """Lumbar for cervical, cervical for anything else (lumbar or unknown)."""
    return Region.LUMBAR if region is Region.CERVICAL else Region.CERVICAL


def base_window(film: Film) -> Window:
    """The window W/L sync measures changes against: the film's default, else automatic."""
    from cobbdesk.core.dicom.display import auto_window, default_voi

    voi = default_voi(film)
    return voi if isinstance(voi, Window) else auto_window(film.pixels, film.voi_function)
