"""A lazily filled browser reports every patient row at once (#17): End and Ctrl+End go to the
last patient and the scrollbar spans the whole study, while only the painted (or expanded)
patients' visits are read; filtering and summary counts cover every patient, and in a large
study the filter waits for a pause in typing."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer

from cobbdesk.core.store.overview import PatientRow
from cobbdesk.core.store.records import Patient, PatientOverview, Visit, VisitKind, VisitOverview
from cobbdesk.gui.study import browser as browser_module
from cobbdesk.gui.study.browser import StudyBrowser


class _Source:
    """Patients without visits; records which ones the model loaded."""

    def __init__(self) -> None:
        self.loaded: list[int] = []

    def patient(self, patient_id: int) -> PatientOverview | None:
        self.loaded.append(patient_id)
        return None

    def patient_of(self, *, visit_id: int | None = None, film_id: int | None = None) -> None:
        return None


def _rows(n: int) -> list[PatientRow]:
    return [PatientRow(i, f"P{i:05d}", None, i % 3 == 0) for i in range(1, n + 1)]


def _shown(qtbot: Any, n: int, source: _Source) -> StudyBrowser:
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.resize(700, 500)
    browser.set_rows(_rows(n), source)
    browser.show()
    qtbot.waitExposed(browser)
    return browser


@pytest.mark.parametrize("modifier", [Qt.KeyboardModifier.NoModifier,
                                      Qt.KeyboardModifier.ControlModifier])  # fmt: skip
def test_end_goes_to_the_last_patient_and_reads_only_painted_ones(qtbot, modifier) -> None:  # type: ignore[no-untyped-def]
    n = 2500
    source = _Source()
    browser = _shown(qtbot, n, source)
    model, tree = browser.model, browser.tree
    assert model.rowCount() == n  # every patient row, before any scrolling
    assert not model.canFetchMore()  # nothing more to hand the view at the top level
    first = len(source.loaded)
    assert 0 < first < 100  # only the painted patients were read
    tree.setFocus()
    tree.setCurrentIndex(model.index(0, 0))
    qtbot.keyClick(tree, Qt.Key.Key_End, modifier)
    qtbot.wait(20)
    assert tree.currentIndex().row() == n - 1
    assert tree.currentIndex().data() == f"P{n:05d}"
    assert model.rowCount() == n  # End loaded no more rows
    last = tree.visualRect(model.index(n - 1, 0))
    assert tree.viewport().rect().contains(last.center())  # scrolled to it
    bar = tree.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    page = tree.viewport().height() // tree.sizeHintForRow(0)
    assert bar.maximum() + bar.pageStep() >= n - 1 - page  # the bar spans every patient
    assert source.loaded[-1] > n - 100  # the rows painted at the end, none of those between
    assert all(p <= 100 or p > n - 100 for p in source.loaded)


def test_dragging_the_scrollbar_to_the_bottom_shows_the_last_patient(qtbot) -> None:  # type: ignore[no-untyped-def]
    n = 3000
    browser = _shown(qtbot, n, _Source())
    tree = browser.tree
    bar = tree.verticalScrollBar()
    bar.setValue(bar.maximum())  # as a drag of the handle to the end
    qtbot.wait(20)
    last = tree.visualRect(browser.model.index(n - 1, 0))
    assert tree.viewport().rect().contains(last.center())
    assert browser.model.rowCount() == n


def test_filters_count_every_patient(qtbot) -> None:  # type: ignore[no-untyped-def]
    n = 3000
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_rows(_rows(n), _Source())
    model = browser.model
    assert model.rowCount() == n
    model.set_filter("", incomplete_only=True)  # every third patient is complete
    assert model.rowCount() == n - n // 3
    assert model.counts() == (n, n - n // 3, n - n // 3)
    model.set_filter("p0299", incomplete_only=True)  # case-insensitive, both conditions
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        f"P0299{d}" for d in range(10) if int(f"299{d}") % 3
    ]
    model.set_filter("P0299", incomplete_only=False)
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        f"P0299{d}" for d in range(10)
    ]


def test_a_large_study_refilters_when_typing_pauses(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(browser_module, "DEBOUNCE_FROM", 100)
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_rows(_rows(500), _Source())
    model = browser.model
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    for text in ("P", "P0", "P00", "P001"):
        browser.filter.setText(text)
    assert model.rowCount() == 500 and resets == []  # typing: not yet
    qtbot.waitUntil(lambda: model.rowCount() == 100, timeout=5000)  # P00100 … P00199
    assert resets == [1]  # one refilter for four keystrokes
    browser.filter.setText("P0010")
    browser.filter.returnPressed.emit()  # Return refilters at once
    assert model.rowCount() == 10


def test_a_small_study_refilters_at_every_keystroke(qtbot) -> None:  # type: ignore[no-untyped-def]
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_rows(_rows(500), _Source())
    browser.filter.setText("P001")
    assert browser.model.rowCount() == 100


class _Later(_Source):
    """A loader answering on a later turn of the event loop (as the reads worker does): one
    admission visit per patient; ``context``: answers end with it."""

    context: Any = None

    def __call__(self, patient_id: int, arrived: Any) -> None:
        self.loaded.append(patient_id)
        patient = Patient(patient_id, f"P{patient_id:05d}")
        visit = VisitOverview(Visit(patient_id * 10, patient_id, VisitKind.ADMISSION, "",
                                    "2026-01-05"))  # fmt: skip
        QTimer.singleShot(0, self.context, lambda: arrived(PatientOverview(patient, [visit])))


def test_a_refresh_expands_a_patient_again_once_its_visits_are_in(qtbot) -> None:  # type: ignore[no-untyped-def]
    """No rows are inserted under an expanded patient (that lays out every patient row of
    the view again: ~0.2 s at 100,000): the restored patient is expanded when its visits
    arrive, and an arrived row's texts are repainted (dataChanged)."""
    n = 3000
    loader = _Later()
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    loader.context = browser
    browser.resize(700, 500)
    browser.set_rows(_rows(n), loader, loader)
    browser.show()
    qtbot.waitExposed(browser)
    model, tree = browser.model, browser.tree
    target = model.index(2, 0)
    tree.expand(target)
    qtbot.waitUntil(lambda: model.index(0, 0, model.index(2, 0)).data() == "Admission")
    inserted: list[bool] = []
    changed: list[int] = []
    model.rowsInserted.connect(lambda parent, *_: inserted.append(parent.isValid()))
    model.dataChanged.connect(lambda first, *_: changed.append(first.row()))
    browser.set_rows(_rows(n), loader, loader)  # the same study refreshed
    patient = model.index(2, 0)
    assert model.node(patient).loaded is False
    qtbot.waitUntil(lambda: tree.isExpanded(model.index(2, 0)), timeout=5000)
    assert model.index(0, 0, model.index(2, 0)).data() == "Admission"
    assert True not in inserted  # the visits were in before the row was expanded
    assert 2 in changed
    assert model.index(2, 1).data() == "1 visit"  # no longer "Loading…"
