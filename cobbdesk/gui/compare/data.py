"""What the compare view shows, read off the UI thread (#15), and its navigation.

A mixin of :class:`~cobbdesk.gui.compare.view.CompareView`:

* the study overview (patients, visits, films) and the films the rater measured
  (:func:`read_overview`) are read on the view's :class:`~cobbdesk.gui.compare.reads.StudyReader`
  while the view says "Loading the study…" and its toolbar is disabled; a failure shows its one
  line with Retry.  A patient asked for meanwhile (or one not in the overview, e.g. added since:
  the overview is read again once) is shown when it arrives; so is the patient of a visit
  (:meth:`CompareData.show_visit`: "Compare visits" on a film whose patient the browser never
  showed — no query on the UI thread);
* each shown film's saved measurements and calibration (:func:`read_saved_films`) are read on
  the same worker while the film decodes, for the current patient and the next one (prefetched
  with its films); a side shows "Loading…" until both are there, then measures through the
  film's session (:func:`~cobbdesk.core.compare.saver.film_session`: the viewer's store, hence
  the study's write queue).  A failed read shows its one line on the side with Retry.

Saved states are kept for the films of the current and the next patient only, so a film shown
again after moving on is read again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import SignalInstance

from cobbdesk.core.compare.model import Slot, next_item, other_region, rater_measured_films, slots
from cobbdesk.core.compare.saver import SavedFilm, read_saved
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.importing.relink import from_saved, mismatch
from cobbdesk.core.store import FilmRecord, PatientOverview, Region, Study
from cobbdesk.gui.compare.cache import key
from cobbdesk.gui.compare.reads import one_line

_NOT_RECORDED = ("this file is not the film the study recorded (other pixels, SOP Instance UID "
                 "or header fields); relink it from the study window")  # fmt: skip

if TYPE_CHECKING:
    from cobbdesk.gui.compare.cache import FilmCache
    from cobbdesk.gui.compare.chrome import CompareHeader, CompareToolbar
    from cobbdesk.gui.compare.reads import LoadingBar, StudyReader
    from cobbdesk.gui.compare.side import CompareSide
    from cobbdesk.gui.compare.sync import ViewSync

LOADING_STUDY = "Loading the study…"
Target = tuple[int | None, int | None, Region]
"""(patient id, visit id, region): what to show once the overview is there."""


def read_overview(study: Study, rater: str) -> tuple[list[PatientOverview], set[int]]:
    """Worker thread: every patient's overview and the ids of the films ``rater`` measured."""
    overview = study.overview()
    return overview, rater_measured_films(overview, study.measurements(), rater)


def read_saved_films(study: Study, records: list[FilmRecord]) -> dict[int, Any]:
    """Worker thread: film id → its :class:`SavedFilm`, or the exception its read raised."""
    found: dict[int, Any] = {}
    for record in records:
        try:
            found[record.id] = read_saved(study, record)
        except Exception as exc:  # shown on the film's side
            found[record.id] = exc
    return found


class CompareData:
    """The overview, the films' saved states and the navigation of
    :class:`~cobbdesk.gui.compare.view.CompareView` (a mixin)."""

    rater: str
    reader: StudyReader
    bar: LoadingBar
    toolbar: CompareToolbar
    header: CompareHeader
    sides: tuple[CompareSide, CompareSide]
    sync: ViewSync
    cache: FilmCache
    overview: list[PatientOverview]
    measured: set[int]
    loaded: bool
    saved: dict[int, SavedFilm | BaseException]
    patient_id: int | None
    region: Region
    blinded: bool
    messageChanged: SignalInstance
    patientChanged: SignalInstance
    importRequested: SignalInstance
    _target: Target | None
    _reading: set[int]
    _wanted_records: list[FilmRecord]

    def _init_data(self) -> None:
        self.overview, self.measured, self.loaded = [], set(), False
        self.saved, self._target, self._reading, self._wanted_records = {}, None, set(), []

    # provided by CompareView
    def set_align_mode(self, on: bool) -> None:
        raise NotImplementedError

    def set_blinded(self, on: bool) -> None:
        raise NotImplementedError

    def _set_snapping(self, on: bool) -> None:
        raise NotImplementedError

    def _update_titles(self) -> None:
        raise NotImplementedError

    def _angles_changed(self) -> None:
        raise NotImplementedError

    # --- the overview -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the study overview (patients, films, who measured what) off the UI thread;
        "Loading the study…" and the toolbar disabled until it arrives."""
        self.loaded = False
        self.bar.loading(LOADING_STUDY)
        self.toolbar.setEnabled(False)
        rater = self.rater
        self.reader.run(lambda study: read_overview(study, rater), self._overview_arrived)

    def _overview_arrived(self, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self.bar.failed("The study could not be read", error)
            self.messageChanged.emit("The study could not be read: Retry when it is reachable")
            return
        self.overview, self.measured = result
        self.loaded = True
        self.bar.ready()
        self.toolbar.setEnabled(True)
        target, self._target = self._target, None
        if target is not None:
            self._show_target(target, again=False)

    def retry(self) -> None:
        """Read again what failed: the overview, or the saved state of a side's film."""
        if not self.loaded:
            self.refresh()
            return
        for side in self.sides:
            record = side.slot.film if side.slot is not None else None
            if record is not None and isinstance(self.saved.get(record.id), BaseException):
                del self.saved[record.id]
                side.show_loading()
        self._want_saved(self._wanted_records)

    def _patient(self, patient_id: int | None) -> PatientOverview | None:
        return next((po for po in self.overview if po.patient.id == patient_id), None)

    def _patient_of_visit(self, visit_id: int) -> PatientOverview | None:
        return next((po for po in self.overview
                     if any(v.visit.id == visit_id for v in po.visits)), None)  # fmt: skip

    # --- what is shown ------------------------------------------------------------------------
    def show_patient(self, patient_id: int, region: Region | str) -> None:
        """Show ``patient_id``'s admission and month-3 films of ``region`` (once the overview
        is there)."""
        self._show_target((patient_id, None, Region(region)), again=True)

    def show_visit(self, visit_id: int, region: Region | str) -> None:
        """Show the patient of ``visit_id`` (the film on screen in the main window)."""
        self._show_target((None, visit_id, Region(region)), again=True)

    def _show_target(self, target: Target, *, again: bool) -> None:
        patient_id, visit_id, region = target
        if not self.loaded:
            self._target = target
            for side in self.sides:
                side.show_loading()
            return
        po = self._patient(patient_id) if visit_id is None else self._patient_of_visit(visit_id)
        if po is None and again:  # added since the overview was read: read it again
            self._target = target
            self.refresh()
            return
        if po is None:
            self.messageChanged.emit("That patient is not in the study")
            return
        self._show(po, region)

    def _show(self, po: PatientOverview, region: Region) -> None:
        self.set_align_mode(False)
        self.patient_id, self.region = po.patient.id, region
        self.toolbar.show_region(region)
        pair = slots(po, region)
        for side, one in zip(self.sides, pair, strict=True):
            side.show_slot(one, one.missing(region))
        self.sync.set_anchors(None, None)
        self._prefetch(po, pair)
        self._show_ready()
        self._update_titles()
        self._angles_changed()
        self.patientChanged.emit(po.patient.id, region.value)

    def _prefetch(self, po: PatientOverview, pair: tuple[Slot, Slot]) -> None:
        """Decode and read the films of this patient and of the next one."""
        groups = [(po.patient.id, [s.film for s in pair if s.film is not None])]
        upcoming = self._step(1)
        if upcoming is not None and (after := self._patient(upcoming[0])) is not None:
            films = [s.film for s in slots(after, upcoming[1]) if s.film is not None]
            groups.append((after.patient.id, films))
        self.cache.want([(pid, [self._film_file(f) for f in films]) for pid, films in groups])
        self._want_saved([f for _pid, films in groups[:2] for f in films])

    def _film_file(self, record: FilmRecord) -> str:
        """The file of a study film: its stored path, or for an older study's relative path
        the file found from the study file's folder
        (:func:`~cobbdesk.core.importing.films.study_film_path`; never the working folder)."""
        if Path(record.path).is_absolute():
            return record.path
        return str(study_film_path(self.reader.study, record.path))

    def _want_saved(self, records: list[FilmRecord]) -> None:
        """Keep the saved states of ``records`` only; read those not read yet."""
        self._wanted_records = records
        keep = {r.id for r in records}
        self.saved = {k: v for k, v in self.saved.items() if k in keep}
        missing = [r for r in records if r.id not in self.saved and r.id not in self._reading]
        if missing:
            self._reading |= {r.id for r in missing}
            self.reader.run(lambda study: read_saved_films(study, missing), self._saved_arrived)

    def _saved_arrived(self, result: Any, error: BaseException | None) -> None:
        found: dict[int, SavedFilm | BaseException] = result or {}
        if error is not None:  # not a store error of one film: every film of the job
            found = dict.fromkeys(self._reading, error)
        wanted = {r.id for r in self._wanted_records}
        for fid, value in found.items():
            self._reading.discard(fid)
            if fid in wanted:
                self.saved[fid] = value
        self._show_ready()

    def _film_ready(self, _path: str) -> None:
        self._show_ready()

    def _show_ready(self) -> None:
        """Give each side its film once both the film and its saved state are there."""
        shown = False
        for side in self.sides:
            record = side.slot.film if side.slot is not None else None
            if record is None or side.film is not None or side.error:
                continue
            film, saved = self.cache.get(key(self._film_file(record))), self.saved.get(record.id)
            if isinstance(film, str):
                side.set_error(film)
            elif film is None or saved is None:
                continue
            elif isinstance(saved, BaseException):
                side.set_read_error(one_line(saved))
            elif mismatch(from_saved(record, saved.measurements), film) is not None:
                side.set_error(_NOT_RECORDED)  # no values: the view may be blinded
            else:
                side.set_film(film, saved)
                shown = True
        if shown:
            self.sync.fit_both()
            self.set_blinded(self.blinded)
            self._set_snapping(self.toolbar.snapping.isChecked())
            self.header.set_sync(self.sync.describe())

    def films_shown(self) -> bool:
        """True when every side that has a film shows it (or its error) and no patient is
        waiting for the overview."""
        if self._target is not None:
            return False
        return all(s.slot is None or s.slot.film is None or s.film is not None or bool(s.error)
                   for s in self.sides)  # fmt: skip

    # --- navigation ---------------------------------------------------------------------------
    def _step(self, step: int) -> tuple[int, Region] | None:
        skip = self.toolbar.skip_complete.isChecked()
        return next_item(self.overview, self.patient_id, self.region, skip,
                         step=step, measured=self.measured)  # fmt: skip

    def _go(self, step: int) -> None:
        if not self.loaded:
            self.messageChanged.emit(LOADING_STUDY)
            return
        target = self._step(step)
        if target is None:
            end = "last" if step > 0 else "first"
            self.messageChanged.emit(f"This is the {end} patient to read")
            return
        self.show_patient(*target)

    def next_patient(self) -> None:
        self._go(1)

    def previous_patient(self) -> None:
        self._go(-1)

    def switch_region(self) -> None:
        if self.patient_id is not None and self.loaded:
            self.show_patient(self.patient_id, other_region(self.region))

    def _region_picked(self, index: int) -> None:
        region = self.toolbar.region.itemData(index)
        if self.patient_id is not None and region != self.region:
            self.show_patient(self.patient_id, region)

    def _import_requested(self) -> None:
        if self.patient_id is not None:
            self.importRequested.emit(self.patient_id)


__all__ = ["LOADING_STUDY", "CompareData", "read_overview", "read_saved_films"]
