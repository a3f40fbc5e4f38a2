"""A lazily filled browser hands the view CHUNK patients at a time (first paint independent of
the study size); scrolling to the end, filtering and summary counts still cover every patient."""

from __future__ import annotations

from cobbdesk.core.store.overview import PatientRow
from cobbdesk.core.store.records import PatientOverview
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.model import CHUNK


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


def test_the_view_gets_chunks_and_fetches_more_when_scrolled(qtbot) -> None:  # type: ignore[no-untyped-def]
    n = 2 * CHUNK + 500
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.resize(700, 500)
    source = _Source()
    browser.set_rows(_rows(n), source)
    browser.show()
    qtbot.waitExposed(browser)
    model = browser.model
    assert model.rowCount() == CHUNK  # shown and painted: still the first chunk only
    assert len(source.loaded) < 100  # only the painted patients were loaded
    assert str(n) in browser.summary.text().replace(",", "")  # the summary counts them all
    for _ in range(50):  # each scroll to the end paints the last rows: the next chunk comes
        browser.tree.scrollToBottom()
        qtbot.wait(20)
    assert model.rowCount() == n
    assert model.index(n - 1, 0).data() == f"P{n:05d}"
    assert not model.index(n, 0).isValid()


def test_a_filter_restarts_the_chunks_and_counts_every_patient(qtbot) -> None:  # type: ignore[no-untyped-def]
    n = 3 * CHUNK
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_rows(_rows(n), _Source())
    model = browser.model
    model.fetchMore()  # nothing painted near the end: the view gets no more
    assert model.rowCount() == CHUNK
    model.load_more()
    assert model.rowCount() == 2 * CHUNK
    model.set_filter("", incomplete_only=True)  # every third patient is complete
    assert model.rowCount() == CHUNK
    assert model.counts() == (n, n - n // 3, 2 * CHUNK)
    model.set_filter("P0299", incomplete_only=False)
    assert model.rowCount() == 10 and not model.canFetchMore()  # P02990 … P02999
