"""Compare view: a patient's admission and month-3 films of one region side by side.

Each side has its own measurement tool (undo, snapping); zoom and pan follow each other in mm
(pixels if a film is uncalibrated), window/level optionally; the two angles and their
difference (month 3 − admission) update live.  Keys (also while the mouse is over a film):

=====================  =====================================================
Alt+Right / Alt+Left   next / previous patient (cervical pairs, then lumbar)
Alt+Down / Alt+Up      the other region of the same patient
M                      measure on the active side (the one last clicked)
Ctrl+Z / Ctrl+Shift+Z  undo / redo on the active side
(click a film)          makes its side the active one (highlighted)
=====================  =====================================================

Edits are saved at once under the viewer's policy (the film's
:class:`~cobbdesk.core.measure.session.MeasurementSession`): a measurement made in this sitting
changes freely; changing or deleting a settled one asks for a reason with the same prompt as
the main window (tests set :attr:`CompareView.reason_prompt`).  Only study IDs are ever shown.

Nothing here waits on the study: the overview and each film's saved measurements are read on
the view's worker ("Loading…" meanwhile, Retry on failure: :mod:`~cobbdesk.gui.compare.data`),
and every edit goes through the film's session to the study's write queue, as in the viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPixmap
from PySide6.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from cobbdesk.core.compare.model import delta, delta_text, side_title, template_for
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.changes import Change
from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.private import write_private
from cobbdesk.core.store import FilmRecord, Region, Study
from cobbdesk.gui import errors
from cobbdesk.gui.compare.cache import FilmCache
from cobbdesk.gui.compare.chrome import CompareHeader, CompareToolbar
from cobbdesk.gui.compare.data import CompareData
from cobbdesk.gui.compare.reads import LoadingBar, StudyReader
from cobbdesk.gui.compare.side import CompareSide
from cobbdesk.gui.compare.sync import Aligner, ViewSync
from cobbdesk.gui.viewer import prompts
from cobbdesk.gui.workers import FilmLoader

EXPORT_SCALE = 2.0
"""Device pixel ratio of exported figures (sharper text and lines)."""


class CompareView(CompareData, QWidget):
    importRequested = Signal(int)  # patient id
    patientChanged = Signal(int, str)  # patient id, region value
    messageChanged = Signal(str)  # status-bar text
    blindedChanged = Signal(bool)  # windows behind must hide values too (no leak, #14)

    def __init__(self, study: Study, rater: str, loader: FilmLoader,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.study, self.rater = study, rater
        self.patient_id: int | None = None
        self.region = Region.CERVICAL
        self.deidentified = True
        self.blinded = False
        self.reason_prompt: prompts.ReasonPrompt | None = None  # tests inject answers
        self._init_data()
        self.reader = StudyReader(study, self, "compare")
        self.bar = LoadingBar(self.retry)
        self.active = 0
        self.cache = FilmCache(loader, self)
        self.cache.ready.connect(self._film_ready)
        self.sides = (CompareSide(study, rater), CompareSide(study, rater))
        self.sync = ViewSync((self.sides[0].view, self.sides[1].view), self)
        self.aligner = Aligner(self.sides, self.sync, self)
        self.toolbar = CompareToolbar(self)
        self.header = CompareHeader()
        self._build()
        self._connect()
        self.refresh()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        self.figure = QWidget()  # what export_png draws: header and both films
        figure = QVBoxLayout(self.figure)
        figure.setContentsMargins(0, 0, 0, 0)
        figure.setSpacing(2)
        figure.addWidget(self.header)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for side in self.sides:
            splitter.addWidget(side)
        figure.addWidget(splitter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.bar)
        layout.addWidget(self.figure, 1)
        self.figure.setStyleSheet("background: #101418;")
        self.set_active(0)

    def _connect(self) -> None:
        bar = self.toolbar
        bar.next_button.clicked.connect(self.next_patient)
        bar.previous_button.clicked.connect(self.previous_patient)
        bar.region.currentIndexChanged.connect(self._region_picked)
        bar.sync_zoom.toggled.connect(self.set_sync_zoom)
        bar.sync_window.toggled.connect(self.set_sync_window)
        bar.blinded.toggled.connect(self.set_blinded)
        bar.deidentified.toggled.connect(self.set_deidentified)
        bar.align.toggled.connect(self.set_align_mode)
        bar.measure.clicked.connect(self.measure)
        bar.snapping.toggled.connect(self._set_snapping)
        bar.export.clicked.connect(self._export_dialog)
        self.sync.unitsChanged.connect(self.header.set_sync)
        self.aligner.messageChanged.connect(self.messageChanged)
        self.aligner.finished.connect(lambda: self.set_align_mode(False))
        for index, side in enumerate(self.sides):
            side.activated.connect(lambda i=index: self.set_active(i))
            side.anglesChanged.connect(self._angles_changed)
            side.messageChanged.connect(self.messageChanged)
            side.importRequested.connect(self._import_requested)
            side.retryRequested.connect(self.retry)
            side.ask_reason = self._ask_reason
        self._shortcut("Alt+Right", self.next_patient)
        self._shortcut("Alt+Left", self.previous_patient)
        self._shortcut("Alt+Down", self.switch_region)
        self._shortcut("Alt+Up", self.switch_region)
        self._shortcut("M", self.measure)
        self._shortcut(QKeySequence.StandardKey.Undo, lambda: self._undo(redo=False))
        self._shortcut(QKeySequence.StandardKey.Redo, lambda: self._undo(redo=True))

    def _shortcut(self, keys: str | QKeySequence.StandardKey, slot: object) -> QAction:
        action = QAction(self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # --- angles -----------------------------------------------------------------------------
    def angles(self) -> tuple[float | None, float | None]:
        return self.sides[0].angle(), self.sides[1].angle()

    def difference(self) -> float | None:
        """Month 3 − admission of the counted measurements (None when one is missing)."""
        return delta(*self.angles())

    def _angle_text(self, index: int) -> str:
        side = self.sides[index]
        if self.blinded and index != self.active:
            return "hidden (blinded)"
        angle = side.angle()
        if angle is None:
            return "not measured" if side.film is not None else "—"
        return angle_text(angle, calibrated=side.film is not None and side.film.calibrated)

    def _angles_changed(self) -> None:
        self._update_measured()
        texts = [self._angle_text(i) for i in (0, 1)]
        calibrated = all(s.film is None or s.film.calibrated for s in self.sides)
        shown = "hidden (blinded)" if self.blinded else delta_text(self.difference(), calibrated)
        study_id = self._patient(self.patient_id)
        title = f"{study_id.patient.study_id} · {self.region.value}" if study_id else "No patient"
        self.header.set_numbers(title, texts, shown)

    def _update_measured(self) -> None:
        for side in self.sides:
            record = side.slot.film if side.slot is not None else None
            if record is None or side.controller is None:
                continue
            if side.counted() is not None:
                self.measured.add(record.id)
            else:
                self.measured.discard(record.id)

    def _update_titles(self) -> None:
        admission = self.sides[0].slot.visit if self.sides[0].slot else None
        for side in self.sides:
            if side.slot is not None:
                side.title.setText(side_title(side.slot, admission, self.rater,
                                              deidentified=self.deidentified,
                                              blinded=self.blinded))  # fmt: skip

    # --- toggles ----------------------------------------------------------------------------
    def set_active(self, index: int) -> None:
        self.active = index
        for i, side in enumerate(self.sides):
            side.set_active(i == index)
        if self.blinded:
            self.set_blinded(True)

    def set_sync_zoom(self, on: bool) -> None:
        self.toolbar.sync_zoom.setChecked(on)
        self.sync.zoom_pan = on
        if on:
            self.sync.follow(self.active)
        self.header.set_sync(self.sync.describe())

    def set_sync_window(self, on: bool) -> None:
        self.toolbar.sync_window.setChecked(on)
        self.sync.window = on

    def set_blinded(self, on: bool) -> None:
        """Blinded reading: the other visit's measurements, angle, the difference and all
        dates are hidden; the active side (last clicked) is the one being read."""
        changed = on != self.blinded
        self.blinded = on
        self.toolbar.blinded.setChecked(on)
        for index, side in enumerate(self.sides):
            side.set_overlays_visible(not on or index == self.active)
        self._update_titles()
        self._angles_changed()
        if changed:
            self.blindedChanged.emit(on)

    def set_deidentified(self, on: bool) -> None:
        """Show dates as day offsets from admission (on) or as dates (off)."""
        self.deidentified = on
        self.toolbar.deidentified.setChecked(on)
        self._update_titles()

    def _set_snapping(self, on: bool) -> None:
        for side in self.sides:
            if side.controller is not None:
                side.controller.set_snapping(on)

    # --- measuring --------------------------------------------------------------------------
    def measure(self) -> None:
        """Start a measurement (the region's template) on the active side."""
        side = self.sides[self.active]
        if side.controller is None:
            self.messageChanged.emit("No film to measure on this side")
            return
        self.set_align_mode(False)
        side.controller.start_placement(template_for(self.region))
        side.view.setFocus()

    def _undo(self, redo: bool) -> None:
        controller = self.sides[self.active].controller
        if controller is not None:
            (controller.redo if redo else controller.undo)()

    def _ask_reason(self, record: FilmRecord, changes: Sequence[Change]) -> str | None:
        """The main window's reason prompt, with the same text."""
        prompt = self.reason_prompt or prompts.ask_reason
        return prompt(self, prompts.reason_text(f"film #{record.id}", changes))

    # --- alignment on a vertebra --------------------------------------------------------------
    def set_align_mode(self, on: bool) -> None:
        """On: click the same landmark on both films; pan then keeps it level in both."""
        started = self.aligner.start() if on else False
        if not on:
            self.aligner.stop()
        self.toolbar.align.blockSignals(True)
        self.toolbar.align.setChecked(started)
        self.toolbar.align.blockSignals(False)

    def set_align(self, a: tuple[float, float] | None, b: tuple[float, float] | None,
                  leader: int = 0) -> None:  # fmt: skip
        """Align the films on landmarks ``a`` and ``b`` (None: on the film centres)."""
        self.aligner.set_align(a, b, leader)

    # --- export ---------------------------------------------------------------------------------
    def export_png(self, path: str | Path) -> Path:
        """Save both films with their measurements and the numbers as a PNG figure."""
        target = Path(path)
        size = self.figure.size()
        pixmap = QPixmap(QSize(int(size.width() * EXPORT_SCALE),
                               int(size.height() * EXPORT_SCALE)))  # fmt: skip
        pixmap.setDevicePixelRatio(EXPORT_SCALE)
        pixmap.fill(Qt.GlobalColor.black)
        for side in self.sides:  # no "active side" frame in a figure
            side.set_active(False)
        self.figure.render(pixmap)
        self.set_active(self.active)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not pixmap.save(buffer, "PNG"):
            raise OSError(f"could not write {target}")
        # 0600, atomic, never over a study, its companion file or a film (core.private)
        return write_private(target, bytes(data.data()))

    def _export_dialog(self) -> None:
        po = self._patient(self.patient_id)
        name = f"{po.patient.study_id}_{self.region.value}_compare.png" if po else "compare.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export comparison", name, "PNG (*.png)")
        if path:
            try:
                self.messageChanged.emit(f"Saved {self.export_png(path).name}")
            except (CobbdeskError, OSError) as exc:  # e.g. the name of a study: refused
                errors.report(self, exc, "Exporting the comparison")

    def close_films(self) -> None:
        """Release both films and the cache, drop reads still to come (the window closes)."""
        self.reader.close()
        self.set_align_mode(False)
        for side in self.sides:
            side.clear()
        self.cache.want([])
