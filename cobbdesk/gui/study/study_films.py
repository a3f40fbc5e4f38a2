"""Study films in the window: opening them (browser, Open recent, the first unmeasured film)
and binding each decoded film to its study's measurement session.

A mixin of :class:`~cobbdesk.gui.study.session.StudySession` (the save policy is described
there): it uses the session's ``window``, ``study``, ``links``, ``saver``, ``reason_prompt``,
``_pending``, ``_waiting``, ``_recent_labels`` and its ``open_study`` / ``_on_change`` /
``_read_film`` / ``_attach_when_read`` / ``_in_background`` / ``relink_dialog`` methods.  It
comes first among the session's bases: :meth:`StudyFilms._attach` and
:meth:`StudyFilms.open_film` replace the placeholders of the reads and jobs mixins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer

from cobbdesk.core.compare.saver import SavedFilm, film_session
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.films import same_film, stored_film_path, study_film_path
from cobbdesk.core.importing.relink import from_saved, mismatch
from cobbdesk.core.measure.changes import Change
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.session import MeasurementSession
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.film_aspect import record_file_aspect
from cobbdesk.gui import errors, settings
from cobbdesk.gui.film_follow import follow_film
from cobbdesk.gui.study import lab_form
from cobbdesk.gui.study.reads import LoadingStore
from cobbdesk.gui.study.saving import StudySaver
from cobbdesk.gui.study.session_actions import FilmLink, visit_title
from cobbdesk.gui.viewer import prompts

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow

    OpenFilm = Any  # the window's film entry (path, film, controller, error)

logger = logging.getLogger("cobbdesk.gui.study")


class StudyFilms:
    """Opening study films and binding them to the study (see the module docstring)."""

    window: MainWindow
    study: Study | None
    links: dict[Path, FilmLink]
    saver: StudySaver | None
    reason_prompt: lab_form.ReasonPrompt | None
    _pending: dict[Path, FilmRecord]
    _waiting: dict[Path, Any]
    _recent_labels: dict[int, str]
    # the session's (annotations only: no attribute here may shadow it in the MRO)
    open_study: Callable[..., bool]
    relink_dialog: Callable[[FilmRecord], None]
    _on_change: Callable[[], None]
    _read_film: Callable[[FilmRecord, Path], None]
    _attach_when_read: Callable[[FilmRecord, Any], bool]
    _in_background: Callable[..., None]

    def open_film(self, record: FilmRecord) -> None:
        """Show a study film with its saved measurements (relink first if its file moved)."""
        if self.study is None:
            return
        path = self.film_path(record)
        if not path.is_file():
            self.relink_dialog(record)
            return
        for row, entry in enumerate(self.window.films):
            if entry.path == path:
                clean = entry.controller is not None and entry.controller.is_clean()
                if path not in self.links and path not in self._waiting and clean:
                    self._pending[path] = record
                    self._read_film(record, path)
                    self.adopt(entry)
                self.window.film_list.setCurrentRow(row)
                return
        self._pending[path] = record
        self._read_film(record, path)  # on the reads worker while the film decodes
        from cobbdesk.gui.demo import is_demo_path

        if not is_demo_path(Path(self.study.path)):
            settings.add_recent_film(Path(self.study.path), record.id)
            self._read_recent_labels([record.id])
        self.window.open_paths([path])

    def film_path(self, record: FilmRecord) -> Path:
        """The study film's file, absolute and resolved as the window names opened files (a
        relative path of an older study is found from the study file's folder, never from
        the working folder: :func:`~cobbdesk.core.importing.films.study_film_path`)."""
        if self.study is None:
            return stored_film_path(record.path, None)
        return study_film_path(self.study, record.path)

    def recent_film_label(self, study: Path, film_id: int) -> str:
        """The Open recent entry of a study film: pseudonym, visit and region (never a file
        name), as read off the UI thread when the film was opened or the study listed
        (:meth:`_read_recent_labels`); just the study and the id until then, or when that
        study is not the open one."""
        if self.study is not None and self.study.path == study:
            label = self._recent_labels.get(film_id)
            if label is not None:
                return label
        return f"{study.name}: film #{film_id}"

    def _read_recent_labels(self, film_ids: list[int]) -> None:
        """The Open recent labels of the open study's ``film_ids``, read on the reads worker."""
        study = self.study
        if study is None or not film_ids:
            return
        self._in_background(study, lambda s: recent_labels(s, film_ids),
                            self._recent_labels.update, what="Reading recent films",
                            reads=True, browser=False)  # fmt: skip

    def open_recent(self, study: str, film_id: int) -> None:
        """Open a remembered study film (opening its study first when needed); its record is
        read on the reads worker."""
        path = Path(study)
        if (self.study is None or self.study.path != path) and not self.open_study(path):
            return
        assert self.study is not None
        self._in_background(self.study, lambda s: s.film(film_id), self.open_film,
                            what="Opening a recent film", reads=True, browser=False)  # fmt: skip

    def open_first_unmeasured(self) -> None:
        """Open the study's first film without a measurement (found on the reads worker)."""
        if self.study is not None:
            self._in_background(self.study, first_unmeasured,
                                lambda found: None if found is None else self.open_film(found),
                                what="Finding a film to measure", reads=True)  # fmt: skip

    def pending_paths(self) -> set[Path]:
        """Study films being loaded into the window."""
        return set(self._pending)

    def adopt(self, entry: OpenFilm) -> bool:
        """Called by the window when a film loads: attach the study's measurements to it."""
        record = self._pending.pop(entry.path, None)
        if record is None or self.study is None or entry.controller is None or not entry.film:
            return False
        if not same_film(record, entry.film):
            problem = "this file is not the film in the study (other pixels or UID); relink it"
            errors.present(
                self.window, "Opening a study film failed", f"{entry.path.name}: {problem}"
            )
            return self._refuse_edits(record, entry, problem)
        return self._attach_when_read(record, entry)  # "loading…" until the read arrived

    def _refuse_edits(self, record: FilmRecord, entry: OpenFilm, problem: str) -> bool:
        """A film opened from the study but not linked to it: shown, every edit refused with
        ``problem`` (one line naming the film), so nothing is measured that the study would
        not keep while the status bar says its changes are saved.  True: handled (no
        sidecar is read for it)."""
        store = LoadingStore(record.id)
        store.problem = f"not linked to the study: {problem}"
        context = FilmContext.from_film(entry.film, self.window.rater)
        refusing = MeasurementSession(context, store, [])
        entry.controller.bind(refusing)
        entry.controller.set_clean()
        self.window.status.showMessage(f"Film #{record.id}: {store.problem}", 15000)
        return True

    def _attach(self, record: FilmRecord, entry: OpenFilm, read: SavedFilm) -> bool:
        """Bind the decoded film to its study session built from ``read``."""
        if self.study is None or entry.controller is None:
            return False
        if not self._as_recorded(record, entry, read):  # hashed too: aspect, spacing
            return self._refuse_edits(record, entry, "its header is not the one recorded")
        try:
            record = self._aspect_on_first_open(record, entry.film, read)
            record = self._hash_on_first_open(record, entry.film)
            session = film_session(
                self.study,
                record,
                entry.film,
                self.window.rater,
                ask_reason=lambda changes: self._ask(record, changes),
                saved_film=read,
            )
        except Exception as exc:
            errors.report(self.window, exc, f"Reading the measurements of film #{record.id}")
            return self._refuse_edits(record, entry, "its measurements could not be read")
        entry.controller.bind(session)
        entry.controller.set_clean()
        follow_film(entry.controller, self.study, record.id)  # the compare view's saves
        self.links[entry.path] = FilmLink(record, entry.controller)
        entry.controller.measurementsChanged.connect(self._on_change)
        row = self.window.films.index(entry)
        QTimer.singleShot(0, lambda: self.window.film_list.setCurrentRow(row))
        count = len(session.measurements)
        logger.info("Film #%d opened with %d saved measurement(s)", record.id, count)
        stale = session.discrepancies()
        if stale:
            self.window.status.showMessage(
                f"Film #{record.id}: {len(stale)} saved angle(s) differ from their "
                f"recomputation ({stale[0].reason})", 15000)  # fmt: skip
        return True

    def _as_recorded(self, record: FilmRecord, entry: OpenFilm, read: SavedFilm) -> bool:
        """The film is the study's only when it agrees with what the study recorded
        (:func:`~cobbdesk.core.importing.relink.mismatch`: a film never opened by its header,
        Pixel Aspect Ratio carried by the record included; a hashed one by its pixels,
        aspect and spacing); otherwise says which field differs and returns False (no hash
        is stored)."""
        expected = from_saved(record, read.measurements, aspect_unrecorded=read.aspect_unrecorded)
        problem = mismatch(expected, entry.film)
        if problem is None:
            return True
        text = f"{entry.path.name}: not the film in the study ({problem}); relink it"
        errors.present(self.window, "Opening a study film failed", text)
        return False

    def _ask(self, record: FilmRecord, changes: Sequence[Change]) -> str | None:
        """The reason prompt of every view (tests inject :attr:`reason_prompt`)."""
        prompt = self.reason_prompt or prompts.ask_reason
        return prompt(self.window, prompts.reason_text(f"film #{record.id}", changes))

    def _aspect_on_first_open(self, record: FilmRecord, film: Film, read: SavedFilm) -> FilmRecord:
        """A hashed film imported before CobbDesk read Pixel Aspect Ratio takes its file's
        (:mod:`~cobbdesk.core.store.film_aspect`), queued like the pixel hash below."""
        study, aspect = self.study, film.pixel_aspect
        unread = read.aspect_unrecorded and record.pixel_sha256 is not None
        if not unread or aspect is None or study is None:
            return record

        def write() -> None:
            record_file_aspect(study, record.id, aspect)

        if self.saver is None:
            write()
        else:
            self.saver.outbox.submit(write, f"recording the pixel aspect of film #{record.id}")
        return record._replace(pixel_aspect_row=aspect[0], pixel_aspect_col=aspect[1])

    def _hash_on_first_open(self, record: FilmRecord, film: Film) -> FilmRecord:
        """Films imported from headers get their pixel hash (for relinking) when first read:
        queued on the study's write queue (off the UI thread, in order with the film's other
        writes; a relink queued later lands after it), not waited for."""
        study = self.study
        if record.pixel_sha256 is not None or study is None:
            return record

        def write() -> None:
            study.update_film(record.id, reason="pixels hashed on first opening",
                              pixel_sha256=film.pixel_sha256, pixel_rows=film.rows,
                              pixel_columns=film.columns)  # fmt: skip

        if self.saver is None:
            write()
        else:
            self.saver.outbox.submit(write, f"hashing the pixels of film #{record.id}")
        return record._replace(pixel_sha256=film.pixel_sha256, pixel_rows=film.rows,
                               pixel_columns=film.columns)  # fmt: skip

    def _settle(self) -> None:
        """Another film is on screen: what was measured before is now settled."""
        shown = self.window.view.film
        for link in self.links.values():
            if link.controller.film is not shown:
                link.controller.session.settle()


def recent_labels(study: Study, film_ids: list[int]) -> dict[int, str]:
    """Worker thread: film id → "study ID · visit · region" of the Open recent menu (never a
    name or file name); films gone since are left out (the menu shows their id)."""
    found: dict[int, str] = {}
    for film_id in film_ids:
        try:
            film = study.film(film_id)
        except ValidationError:  # deleted since
            continue
        found[film_id] = f"{visit_title(study, film.visit_id)} · {film.region.value}"
    return found


def first_unmeasured(study: Study) -> FilmRecord | None:
    """Worker thread: the first film of the study's overview that holds no measurement."""
    films = (f for p in study.overview() for v in p.visits for fs in v.films.values()
             for f in fs if not v.measured.get(f.id))  # fmt: skip
    return next(films, None)
