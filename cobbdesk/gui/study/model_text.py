"""The study browser's texts and tooltips of each row and column (a mixin of
:class:`~cobbdesk.gui.study.model.StudyModel`): patients by study ID (names only with "Show
identifiers"), visits with their day after admission, films with what they still lack and
their flags."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cobbdesk.core.measure.formatting import day_text
from cobbdesk.core.store import FilmRecord, PatientOverview, Region, VisitKind, VisitOverview
from cobbdesk.gui.study.model_nodes import (
    _RANK,
    COL_CERVICAL,
    COL_ID,
    COL_LABS,
    COL_LUMBAR,
    COL_MISSING,
    COL_VISIT,
    COLUMNS,
    LOADING,
    MEASURED,
    MISSING,
    NOT_AVAILABLE,
    NOTE,
    PATIENT,
    STATUS_TIPS,
    UNMEASURED,
    VISIT,
    VISIT_LABELS,
    _Node,
    patient_gaps,
    region_status,
    visit_label,
)


class ModelTexts:
    """Row texts for :class:`~cobbdesk.gui.study.model.StudyModel` (a mixin)."""

    show_identifiers: bool
    film_flags: dict[int, list[str]]
    _exists: dict[int, bool]
    study_file: Path | None = None  # relative film paths are found from its folder

    # --- texts ------------------------------------------------------------------------------
    def _text(self, node: _Node, column: int) -> str:
        if node.kind == PATIENT and not node.loaded and node.source is None:
            return self._unread_text(node, column)
        if node.kind == NOTE:
            return str(node.item) if column == COL_ID else ""
        if node.kind == PATIENT:
            return self._patient_text(node.item, column)
        if node.kind == VISIT:
            return self._visit_text(node, column)
        return self._film_text(node, column)

    def _unread_text(self, node: _Node, column: int) -> str:
        """A patient row whose visits are being read off the UI thread."""
        if column == COL_ID:
            name = node.name if self.show_identifiers else ""
            return f"{node.study_id}  ({name})" if name else node.study_id
        if column == COL_VISIT:
            return NOT_AVAILABLE.rstrip(" —") if node.failed else LOADING
        return ""

    def _patient_text(self, po: PatientOverview, column: int) -> str:
        if column == COL_ID:
            name = po.patient.name if self.show_identifiers and po.patient.name else ""
            return f"{po.patient.study_id}  ({name})" if name else po.patient.study_id
        if column == COL_VISIT:
            return f"{len(po.visits)} visit{'s' * (len(po.visits) != 1)}"
        if column in (COL_CERVICAL, COL_LUMBAR):
            region = Region.CERVICAL if column == COL_CERVICAL else Region.LUMBAR
            marks = [region_status(v, region) for v in po.visits] or [MISSING]
            return min(marks, key=_RANK.__getitem__)
        if column == COL_LABS:
            return MEASURED if po.visits and all(v.labs for v in po.visits) else MISSING
        return short_patient_gaps(po) if not po.complete else "complete"

    def _visit_text(self, node: _Node, column: int) -> str:
        vo: VisitOverview = node.item
        if column == COL_ID:
            return visit_label(vo)
        if column == COL_VISIT:
            return self._visit_date(node)
        if column in (COL_CERVICAL, COL_LUMBAR):
            return region_status(vo, Region.CERVICAL if column == COL_CERVICAL else Region.LUMBAR)
        if column == COL_LABS:
            return MEASURED if vo.labs else MISSING
        return short_gaps(vo.missing())

    @staticmethod
    def _visit_date(node: _Node) -> str:
        """The visit's date, and for a later visit its day after admission."""
        visit = node.item.visit
        if not visit.visit_date:
            return "no date"
        assert node.parent is not None
        admission = next(
            (
                v.visit.visit_date
                for v in node.parent.item.visits
                if v.visit.kind is VisitKind.ADMISSION and v.visit.visit_date
            ),
            None,
        )
        if admission is None or visit.kind is VisitKind.ADMISSION:
            return visit.visit_date  # type: ignore[no-any-return]
        days = (date.fromisoformat(visit.visit_date) - date.fromisoformat(admission)).days
        return f"{visit.visit_date}  ({day_text(days)})"

    def _film_text(self, node: _Node, column: int) -> str:
        film: FilmRecord = node.item
        count = node.visit.measured.get(film.id, 0) if node.visit else 0
        if column == COL_ID:
            return f"{film.region.value.capitalize()} #{film.id}"
        if column == COL_VISIT:
            return film.study_date or ""
        if column == (COL_CERVICAL if film.region is Region.CERVICAL else COL_LUMBAR):
            return MEASURED if count else UNMEASURED
        if column != COL_MISSING:
            return ""
        problems = [] if self.file_exists(film) else [FILE_NOT_FOUND]
        if film.region is Region.UNKNOWN:
            problems.append("region not set")
        if self.film_flags.get(film.id):
            problems.append(CHECK_ANGLE)
        if len(problems) > 1:
            return f"{len(problems)} problems"
        return problems[0] if problems else "" if count else "not measured"

    def _film_gaps(self, node: _Node) -> str:
        """The film's "Missing" text in full (its tooltip): every flag in its own words."""
        film: FilmRecord = node.item
        count = node.visit.measured.get(film.id, 0) if node.visit else 0
        gaps = [] if self.file_exists(film) else [f"{FILE_NOT_FOUND} — double-click to relink"]
        if film.region is Region.UNKNOWN:
            gaps.append("region not set")
        gaps += [f"\u26a0 {flag}" for flag in self.film_flags.get(film.id, [])]
        return ", ".join(gaps + ([] if count else ["not measured"]))

    def file_exists(self, film: FilmRecord) -> bool:
        """Checked lazily (only for film rows that are shown) and cached."""
        if film.id not in self._exists:
            path = Path(film.path)
            if not path.is_absolute():  # an older study's: from the study file's folder
                from cobbdesk.core.importing.films import stored_film_path

                path = stored_film_path(path, self.study_file)
            self._exists[film.id] = path.is_file()
        return self._exists[film.id]

    def _tooltip(self, node: _Node, column: int) -> str | None:
        """Each cell's full text: the row's date and day (the "Visit" column may be hidden
        for want of room), a status mark's meaning, and what is missing in its own words."""
        text = self._text(node, column)
        if text in STATUS_TIPS:
            return f"{COLUMNS[column]}: {STATUS_TIPS[text]}"
        if node.kind == NOTE:  # "Loading…", or why the read failed (may be long)
            return text or None
        if column == COL_MISSING and text:
            return self._full_gaps(node)
        if column not in (COL_ID, COL_VISIT) or node.kind == PATIENT:
            return None
        when = self._visit_date(node) if node.kind == VISIT else node.item.study_date
        label = self._text(node, COL_ID)
        if node.kind == VISIT:
            return f"{label}: {when}"
        shown = node.item.path if self.show_identifiers else Path(node.item.path).suffix
        dated = f", film of {when}" if when else ""
        return f"{label}{dated} — double-click to open ({shown or 'file'})"

    def _full_gaps(self, node: _Node) -> str:
        if node.kind == PATIENT:
            return "; ".join(patient_gaps(node.item)) or "complete"
        if node.kind == VISIT:
            return ", ".join(node.item.missing())
        return self._film_gaps(node)


FILE_NOT_FOUND = "file not found"
CHECK_ANGLE = "\u26a0 check angle"
"""A film's flags in the "Missing" column (each flag in full in its tooltip)."""
GAP_KINDS = {"measurement": "angle", "film": "film", "labs": "labs"}
"""The last word of a visit's gap (:meth:`~cobbdesk.core.store.records.VisitOverview.missing`:
"cervical film", "lumbar measurement", "labs") → what the "Missing" column calls it."""


def short_gaps(gaps: list[str]) -> str:
    """Gaps in the "Missing" column, which has about 90 px at 1366×768 (#17; the tooltip says
    them in full): one as "cervical angle", several of a kind counted ("2 angles", "2 films",
    "2 labs"), a mix as "3 items"."""
    kinds = {GAP_KINDS.get(gap.split()[-1], "item") for gap in gaps}
    if len(gaps) == 1:
        last = gaps[0].split()[-1]
        return gaps[0].removesuffix(last) + GAP_KINDS.get(last, last)
    if not gaps:
        return ""
    kind = kinds.pop() if len(kinds) == 1 else "item"
    return f"{len(gaps)} {kind}{'' if kind.endswith('s') else 's'}"


def short_patient_gaps(po: PatientOverview) -> str:
    """What an incomplete patient lacks, in a few words: a whole visit first ("no month 3",
    "no visits"), else how many gaps its visits have (their rows and marks show which)."""
    if not po.visits:
        return "no visits"
    kinds = {v.visit.kind for v in po.visits}
    absent = [label for kind, label in VISIT_LABELS.items() if kind not in kinds]
    if absent:
        return f"no {absent[0].lower()}"
    return short_gaps([gap for v in po.visits for gap in v.missing()]) or "incomplete"
