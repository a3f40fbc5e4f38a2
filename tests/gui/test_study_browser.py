"""The study browser: completeness at a glance, filters, identifiers, film activation, speed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.model import (
    COL_CERVICAL,
    COL_ID,
    COL_LABS,
    COL_LUMBAR,
    COL_MISSING,
    COL_VISIT,
    MEASURED,
    MISSING,
    UNMEASURED,
)

SHOTS = Path(os.environ.get("COBBDESK_SCREENSHOTS", "/tmp/cobbdesk_shots"))
LABS = {"vas": 6, "neutrophil": 4.2, "lymphocyte": 2.1, "crp": 12}


def measurement(sop: str, template: Template = Template.C2_C7) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=sop,
        pixel_sha256="",
        template=template,
        upper=EndplateLine((100.0, 100.0), (160.0, 110.0)),
        lower=EndplateLine((100.0, 300.0), (160.0, 280.0)),
        rater="r1",
    )


def add_film(study: Study, visit: int, region: str, path: Path, measured: bool) -> int:
    sop = f"1.2.3.{visit}.{region == 'lumbar'}"
    film = study.add_film(visit, sop_instance_uid=sop, path=path, region=region)
    if measured:
        template = Template.C2_C7 if region == "cervical" else Template.L1_S1
        study.save_measurement(film, measurement(sop, template))
    return film


@pytest.fixture
def study(tmp_path: Path) -> Study:
    """P0001 complete; P0002 admission with an unmeasured cervical film; P0003 no visits."""
    s = Study.create(tmp_path / "s.cobbdesk", actor="tester")
    p1 = s.add_patient("P0001", name="Doe^Jane", sex="F")
    for kind, day in (("admission", "2026-01-05"), ("month3", "2026-04-06")):
        v = s.add_visit(p1, kind, visit_date=day)
        for region in ("cervical", "lumbar"):
            film_file = tmp_path / f"{v}-{region}.dcm"
            film_file.write_bytes(b"x")
            add_film(s, v, region, film_file, measured=True)
        s.set_labs(v, LABS)
    p2 = s.add_patient("P0002", name="Roe^Richard")
    v2 = s.add_visit(p2, "admission", visit_date="2026-02-01")
    add_film(s, v2, "cervical", tmp_path / "gone.dcm", measured=False)
    s.add_patient("P0003")
    yield s
    s.close()


@pytest.fixture
def browser(qtbot, study: Study) -> StudyBrowser:  # type: ignore[no-untyped-def]
    widget = StudyBrowser()
    qtbot.addWidget(widget)
    widget.resize(900, 420)
    widget.set_overview(study.overview())
    widget.show()
    return widget


def texts(browser: StudyBrowser, index: QModelIndex) -> list[str]:
    model = browser.model
    return [model.data(model.index(index.row(), c, index.parent())) for c in range(6)]


def tooltip(browser: StudyBrowser, index: QModelIndex) -> str:
    return browser.model.data(index, Qt.ItemDataRole.ToolTipRole)  # type: ignore[no-any-return]


def child(browser: StudyBrowser, parent: QModelIndex, row: int) -> QModelIndex:
    return browser.model.index(row, 0, parent)


def test_patient_rows_show_completeness(browser: StudyBrowser) -> None:
    model = browser.model
    assert model.rowCount() == 3
    p1, p2, p3 = (texts(browser, model.index(r, 0)) for r in range(3))
    assert p1 == ["P0001", "2 visits", MEASURED, MEASURED, MEASURED, "complete"]
    assert p2[:5] == ["P0002", "1 visit", UNMEASURED, MISSING, MISSING]
    assert p2[COL_MISSING] == "no month 3"  # a few words in the column, in full in its tip
    assert tooltip(browser, browser.model.index(1, COL_MISSING)) == (
        "no month 3 visit; Admission: lumbar film, cervical measurement, labs"
    )
    assert p3[COL_CERVICAL:COL_MISSING] == [MISSING, MISSING, MISSING]
    assert p3[COL_MISSING] == "no visits"
    assert tooltip(browser, browser.model.index(2, COL_MISSING)).startswith(
        "no admission visit; no month 3 visit"
    )
    assert browser.summary.text() == "3 patients · 2 incomplete"


def test_visit_and_film_rows(browser: StudyBrowser) -> None:
    p1 = browser.model.index(0, 0)
    admission, month3 = child(browser, p1, 0), child(browser, p1, 1)
    assert texts(browser, admission)[:COL_MISSING] == [
        "Admission",
        "2026-01-05",
        MEASURED,
        MEASURED,
        MEASURED,
    ]
    assert texts(browser, month3)[COL_VISIT] == "2026-04-06  (day +91)"
    assert tooltip(browser, month3) == "Month 3: 2026-04-06  (day +91)"  # the dates may be hidden
    film = texts(browser, child(browser, admission, 1))
    assert film[COL_ID].startswith("Lumbar #")
    assert (film[COL_CERVICAL], film[COL_LUMBAR], film[COL_MISSING]) == ("", MEASURED, "")
    film_tip = tooltip(browser, child(browser, admission, 1))
    assert film_tip == f"{film[COL_ID]} — double-click to open (.dcm)"  # no study date
    p2_visit = child(browser, browser.model.index(1, 0), 0)
    assert texts(browser, p2_visit)[COL_MISSING] == "3 items"
    assert tooltip(browser, p2_visit.siblingAtColumn(COL_MISSING)) == (
        "lumbar film, cervical measurement, labs"
    )
    p2_film = texts(browser, child(browser, p2_visit, 0))
    assert p2_film[COL_CERVICAL] == UNMEASURED
    assert p2_film[COL_MISSING] == "file not found"  # "not measured" is the orange mark
    assert tooltip(browser, child(browser, p2_visit, 0).siblingAtColumn(COL_MISSING)) == (
        "file not found — double-click to relink, not measured"
    )
    colour = browser.model.data(browser.model.index(1, COL_LUMBAR), Qt.ItemDataRole.ForegroundRole)
    assert colour.name() == "#c62828"
    tip = browser.model.data(browser.model.index(1, COL_CERVICAL), Qt.ItemDataRole.ToolTipRole)
    assert tip == "Cervical: film not measured yet"


def test_filter_and_incomplete_toggle(browser: StudyBrowser, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClicks(browser.filter, "p0002")
    assert [
        texts(browser, browser.model.index(r, 0))[0] for r in range(browser.model.rowCount())
    ] == ["P0002"]
    assert browser.summary.text() == "3 patients · 2 incomplete · showing 1"
    browser.filter.clear()
    browser.incomplete.setChecked(True)
    shown = [browser.model.data(browser.model.index(r, 0)) for r in range(browser.model.rowCount())]
    assert shown == ["P0002", "P0003"]


def test_names_only_with_show_identifiers(browser: StudyBrowser) -> None:
    browser.filter.setText("doe")
    assert browser.model.rowCount() == 0  # names are not searched while hidden
    browser.identifiers.setChecked(True)
    assert browser.model.rowCount() == 1
    assert browser.model.data(browser.model.index(0, COL_ID)) == "P0001  (Doe^Jane)"
    browser.identifiers.setChecked(False)
    browser.filter.clear()
    assert all(
        "Doe" not in (browser.model.data(browser.model.index(r, c)) or "")
        for r in range(3)
        for c in range(6)
    )


def test_double_click_on_film_emits_it(browser: StudyBrowser, qtbot) -> None:  # type: ignore[no-untyped-def]
    tree = browser.tree
    qtbot.waitExposed(browser)
    p1 = browser.model.index(0, 0)
    tree.expand(p1)
    admission = child(browser, p1, 0)
    tree.expand(admission)
    film_index = child(browser, admission, 0)
    tree.scrollTo(film_index)
    qtbot.wait(50)  # the tree lays out expanded rows lazily
    rect = tree.visualRect(film_index)
    assert rect.isValid()
    with qtbot.waitSignal(browser.filmActivated) as signal:
        left, viewport = Qt.MouseButton.LeftButton, tree.viewport()
        qtbot.mouseClick(viewport, left, pos=rect.center())  # a real double-click's events
        qtbot.mouseDClick(viewport, left, pos=rect.center())
        qtbot.mouseRelease(viewport, left, pos=rect.center())
    record = signal.args[0]
    assert isinstance(record, FilmRecord) and record.region.value == "cervical"
    tree.setCurrentIndex(film_index)
    assert browser.selected_visit_id() == record.visit_id


def test_live_updates_of_counts(browser: StudyBrowser, study: Study) -> None:
    p2 = browser.model.index(1, 0)
    film = browser.model.node(child(browser, child(browser, p2, 0), 0)).item  # type: ignore[union-attr]
    browser.model.set_measured(film.id, 1)
    assert browser.model.data(browser.model.index(1, COL_CERVICAL)) == MEASURED
    browser.model.set_labs(film.visit_id, 3)
    assert browser.model.data(browser.model.index(1, COL_LABS)) == MEASURED


def test_screenshot(browser: StudyBrowser, qtbot) -> None:  # type: ignore[no-untyped-def]
    for row in range(2):
        browser.tree.expandRecursively(browser.model.index(row, 0))
    browser.tree.setCurrentIndex(child(browser, browser.model.index(1, 0), 0))
    qtbot.waitExposed(browser)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.grab().save(str(SHOTS / "study_browser.png"))


def test_large_study_fills_every_patient(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from cobbdesk.core.store.schema import films, patients, visits

    n = 3000
    with Study.create(tmp_path / "big.cobbdesk") as study:
        now = "2026-01-01T00:00:00Z"
        with study.transaction() as conn:
            conn.execute(
                insert(patients),
                [{"id": i, "study_id": f"P{i:05d}", "created_utc": now} for i in range(1, n + 1)],
            )
            conn.execute(
                insert(visits),
                [
                    {"id": i, "patient_id": i, "kind": "admission", "label": "", "created_utc": now}
                    for i in range(1, n + 1)
                ],
            )
            conn.execute(
                insert(films),
                [
                    {
                        "visit_id": i,
                        "sop_instance_uid": f"1.{i}",
                        "path": f"/x/{i}.dcm",
                        "region": "lumbar",
                        "view": "",
                        "created_utc": now,
                    }
                    for i in range(1, n + 1)
                ],
            )
        widget = StudyBrowser()
        qtbot.addWidget(widget)
        widget.set_overview(study.overview())
    # every patient, in study-ID order (no timing here: benchmarks/bench_study_browser.py
    # measures the fill; tests/gui/test_study_browser_chunks.py the lazy hand-over)
    model = widget.model
    assert model.rowCount() == n
    first, last = model.index(0, 0), model.index(n - 1, 0)
    assert (model.data(first), model.data(last)) == ("P00001", f"P{n:05d}")


@pytest.mark.parametrize(
    ("gaps", "short"),
    [
        ([], ""),
        (["labs"], "labs"),
        (["cervical measurement"], "cervical angle"),
        (["lumbar film"], "lumbar film"),
        (["cervical measurement", "lumbar measurement"], "2 angles"),
        (["cervical film", "lumbar film"], "2 films"),
        (["labs", "labs"], "2 labs"),
        (["lumbar film", "cervical measurement", "labs"], "3 items"),
    ],
)
def test_missing_says_its_gaps_in_a_few_words(gaps: list[str], short: str) -> None:
    from cobbdesk.gui.study.model_text import short_gaps

    assert short_gaps(gaps) == short  # the column has ~90 px at 1366×768; tooltips say all
