"""Study > Reading plans… end to end (#14): a two-rater, two-round plan created and read by
simulated clicks in the blinded reading view (round 2 opened early with an audited override),
then the plan's ICCs recomputed by hand from the stored readings; nothing blinded leaks.

The hand computation is McGraw & Wong (1996) case 2A / Shrout & Fleiss (1979) ICC(2,1) from
the two-way ANOVA mean squares: ICC(A,1) = (MSR − MSE)/(MSR + (k − 1)MSE + k(MSC − MSE)/n).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QWidget,
)
from sqlalchemy import select

from cobbdesk.cli.main import main
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit, readings
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.reading.plans_dialog import PlansDialog
from cobbdesk.gui.reading.reading_window import ReadingWindow, round_text
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

LORDOSIS = (12.0, 27.0, 18.0, 33.0, 22.0, 15.0)  # film i: patient i // 2, visit i % 2
NAMES = ("Doe^Ann", "Roe^Bea", "Poe^Cid")
SECRETS = ("P000", "Doe", "Roe", "Poe", "MRN", "1961", "2026", "admission", "month")
OFFSET_PX = {("A", 1): 0.0, ("A", 2): 1.0, ("B", 1): 4.0, ("B", 2): 3.0, ("C", 0): 2.0}
"""How far each rater × round moves the lower anterior corner down (different readings)."""
REASON = "protocol test: no time to wait"


def spine(i: int) -> SyntheticSpine:
    return make_lateral_spine("cervical", LORDOSIS[i], rows=420, columns=340,
                              spacing_mm=(0.5, 0.5), seed=i)  # fmt: skip


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    """Three patients, each an admission and a month-3 cervical film (facing left)."""
    path, folder = tmp_path / "rel.cobbdesk", tmp_path / "films"
    folder.mkdir()
    with Study.create(path, actor="setup") as study:
        for p, name in enumerate(NAMES):
            pid = study.add_patient(f"P000{p + 1}", name=name, mrn=f"MRN{p}",
                                    birth_date="1961-07-23")  # fmt: skip
            for v, (kind, day) in enumerate((("admission", "2026-01-05"),
                                             ("month3", "2026-04-06"))):  # fmt: skip
                vid = study.add_visit(pid, kind, visit_date=day)
                i = 2 * p + v
                file = write_dicom(spine(i), folder / f"{name}_{kind}.dcm", patient_name=name,
                                   patient_id=f"P000{p + 1}", study_date=day.replace("-", ""),
                                   sop_instance_uid=f"1.2.826.0.1.9.{i + 1}")  # fmt: skip
                film = read_film(file)
                fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=file,
                                     region="cervical", pixel_sha256=film.pixel_sha256)  # fmt: skip
                study.set_facing(fid, "left", "user")
    return path


@pytest.fixture
def window(qtbot, study_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    assert win.session.open_study(study_path)
    yield win
    win.session.shutdown()


def plans_dialog(qtbot, win: MainWindow) -> PlansDialog:  # type: ignore[no-untyped-def]
    win.actions_by_name["plans"].trigger()
    dialog = win.findChild(PlansDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.isolated = False  # films decoded in a thread (tests)
    dialog.reason_prompt = lambda _parent, _text: REASON
    idle(qtbot, dialog)
    return dialog


def idle(qtbot, window: PlansDialog | ReadingWindow) -> None:  # type: ignore[no-untyped-def]
    """Wait for the window's reads of the study (they run off the UI thread, #15)."""
    qtbot.waitUntil(lambda: not window.busy, timeout=10000)


def create_plan_by_clicks(qtbot, dialog: PlansDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
    form = dialog.create_dialog
    assert form is not None
    qtbot.keyClicks(form.name, "rel")
    qtbot.keyClicks(form.raters, "A,B")
    form.seed.setValue(7)
    form.region.setCurrentText("cervical")
    qtbot.mouseClick(form.adjudicate_on, Qt.MouseButton.LeftButton)
    form.threshold.setValue(3.0)
    qtbot.keyClicks(form.adjudicator, "C")
    qtbot.mouseClick(form.buttons.button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)  # fmt: skip
    idle(qtbot, dialog)
    assert dialog.plans.count() == 1 and dialog.plans.currentItem().text() == "rel"


def choose(qtbot, dialog: PlansDialog, rater: str, round_no: int) -> None:  # type: ignore[no-untyped-def]
    idle(qtbot, dialog)
    dialog.rater.setCurrentText(rater)
    dialog.round.setValue(round_no)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)


def film_index(rw: ReadingWindow) -> int:
    assert rw.record is not None
    return rw.record.id - 1  # films were added in LORDOSIS order


def wait_film(qtbot, rw: ReadingWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: rw.controller is not None and rw.view.film is not None, timeout=20000)


def click(qtbot, rw: ReadingWindow, p: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    where: QPoint = rw.view.mapFromScene(QPointF(*p))
    qtbot.mousePress(rw.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseRelease(rw.view.viewport(), Qt.MouseButton.LeftButton, pos=where)


def read_current(qtbot, rw: ReadingWindow, rater: str, round_no: int) -> None:  # type: ignore[no-untyped-def]
    wait_film(qtbot, rw)
    assert rw.controller is not None and rw.controller.placing  # the template is started
    upper, lower = spine(film_index(rw)).template_endplates
    shift = OFFSET_PX[(rater, round_no)] + 0.5 * film_index(rw)
    points = [*upper, (lower[0][0], lower[0][1] + shift), lower[1]]
    for p in points:
        click(qtbot, rw, p)
    assert len(rw.controller.measurements) == 1, rw.message.text()


def read_round(qtbot, dialog: PlansDialog, rater: str, round_no: int) -> ReadingWindow:  # type: ignore[no-untyped-def]
    rw = dialog.windows[-1]
    qtbot.waitExposed(rw)
    idle(qtbot, rw)
    total = len(rw.items)
    for n in range(1, total + 1):
        read_current(qtbot, rw, rater, round_no)
        assert rw.windowTitle() == (f"Reading plan rel — rater {rater}, {round_text(round_no)} — "
                                    f"{rw.current.position} of {total}")  # fmt: skip
        qtbot.mouseClick(rw.next_button, Qt.MouseButton.LeftButton)
        idle(qtbot, rw)
        assert rw.complete == (n == total)
    assert rw.windowTitle().endswith("round complete") and "Round complete" in rw.done.text()
    return rw


def texts(widget: QWidget) -> list[str]:
    """Every text a user could read in ``widget``: labels, line edits, buttons, table and list
    items, the window title and the status bar."""
    found = [w.text() for w in widget.findChildren(QLabel)]
    found += [w.text() for w in widget.findChildren(QLineEdit)]
    found += [w.text() for w in widget.findChildren(QPushButton)]
    for table in widget.findChildren(QTableWidget):
        found += [table.item(r, c).text() for r in range(table.rowCount())
                  for c in range(table.columnCount()) if table.item(r, c) is not None]  # fmt: skip
    for lst in widget.findChildren(QListWidget):
        found += [lst.item(r).text() for r in range(lst.count())]
    status = widget.statusBar().currentMessage() if hasattr(widget, "statusBar") else ""
    return [*found, status, widget.windowTitle()]


def stored_angles(path: Path) -> dict[tuple[str, int], dict[int, float]]:
    with Study.open(path) as study, study.engine.connect() as conn:
        rows = conn.execute(
            select(
                readings.c.rater, readings.c.round, readings.c.film_id, readings.c.angle_deg
            ).where(readings.c.deleted_utc.is_(None))
        )
        table: dict[tuple[str, int], dict[int, float]] = {}
        for rater, round_no, film_id, angle in rows:
            table.setdefault((rater, round_no), {})[film_id] = angle
    return table


def icc_a1_by_hand(x: np.ndarray) -> float:
    """McGraw & Wong 1996 case 2A (Shrout & Fleiss ICC(2,1)) from the mean squares."""
    n, k = x.shape
    grand = x.mean()
    msr = k * ((x.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    sse = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + grand) ** 2).sum()
    mse = sse / ((n - 1) * (k - 1))
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


def test_two_raters_two_rounds_by_clicks(qtbot, window: MainWindow, study_path: Path,  # type: ignore[no-untyped-def]
                                         capsys) -> None:  # fmt: skip
    dialog = plans_dialog(qtbot, window)
    create_plan_by_clicks(qtbot, dialog)
    for rater in ("A", "B"):
        choose(qtbot, dialog, rater, 1)
        read_round(qtbot, dialog, rater, 1).close()
    for rater in ("A", "B"):  # round 2 before the 14 days: refused, overridden with a reason
        choose(qtbot, dialog, rater, 2)
        box = dialog.washout_box
        assert box is not None and "washout of 14 day(s)" in box.text()
        override = next(b for b in box.buttons() if "Override" in b.text())
        qtbot.mouseClick(override, Qt.MouseButton.LeftButton)
        rw = read_round(qtbot, dialog, rater, 2)
        assert not window.view.isVisible()  # the main window behind shows nothing meanwhile
        assert not window.findChild(QDockWidget, "Films").isVisible()
        rw.close()
    assert window.view.isVisible() and window.findChild(QDockWidget, "Films").isVisible()
    idle(qtbot, dialog)
    cell = dialog.progress.item
    done = {cell(r, 0).text() + cell(r, 1).text(): cell(r, 2).text()
            for r in range(dialog.progress.rowCount())}  # fmt: skip
    assert done == {"Around 1": "6", "Around 2": "6", "Bround 1": "6", "Bround 2": "6",
                    "Cadjudication": done["Cadjudication"]}  # fmt: skip
    with Study.open(study_path) as study, study.engine.connect() as conn:
        assert study.measurements() == []  # readings never became clinical measurements
        rows = conn.execute(select(audit.c.entity_id, audit.c.new_value, audit.c.reason).where(
            audit.c.entity == "plan_round", audit.c.field == "override_reason")).all()  # fmt: skip
    overridden = [r for r in rows if f"washout overridden: {REASON}" in r.reason]
    assert len(overridden) == 2 and all(r.new_value == REASON for r in overridden)
    table = stored_angles(study_path)
    films = sorted(table[("A", 1)])
    assert len(films) == 6 and all(sorted(t) == films for t in table.values())
    inter = np.array([[table[(r, 1)][f] for r in ("A", "B")] for f in films])
    intra_a = np.array([[table[("A", n)][f] for n in (1, 2)] for f in films])
    assert np.all(np.abs(inter[:, 1] - inter[:, 0]) > 0.5)  # the raters' readings differ
    assert main(["stats", str(study_path), "--plan", "rel", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["regions"][0]
    assert data["inter_rater"]["icc_a1"]["icc"] == pytest.approx(icc_a1_by_hand(inter), abs=1e-9)
    intra = {a["label"]: a for a in data["intra_rater"]}
    assert intra["intra-rater A"]["icc_a1"]["icc"] == pytest.approx(icc_a1_by_hand(intra_a),
                                                                   abs=1e-9)  # fmt: skip
    assert data["inter_rater"]["icc_a1"]["n_subjects"] == 6


def test_reading_view_shows_no_other_value_date_or_identifier(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, study_path: Path, capsys
) -> None:
    dialog = plans_dialog(qtbot, window)
    create_plan_by_clicks(qtbot, dialog)
    choose(qtbot, dialog, "A", 1)
    read_round(qtbot, dialog, "A", 1).close()
    a_values = stored_angles(study_path)[("A", 1)]
    choose(qtbot, dialog, "B", 1)
    rw = dialog.windows[-1]
    qtbot.waitExposed(rw)
    wait_film(qtbot, rw)
    qtbot.mouseClick(rw.next_button, Qt.MouseButton.LeftButton)  # unread: refused
    assert "before the next one" in rw.message.text() and rw.current.position == 1
    for step in range(len(rw.items)):
        wait_film(qtbot, rw)
        a_text = angle_text(a_values[rw.record.id], calibrated=True)
        shown = texts(rw) + texts(dialog)
        assert not any(s in t for t in shown for s in SECRETS), shown
        assert not any(a_text in t or a_text[1:] in t for t in shown), (a_text, shown)
        assert rw.windowTitle() == f"Reading plan rel — rater B, round 1 — {step + 1} of 6"
        if step == 2:  # a film skipped with a reason: C7 behind the shoulders
            rw.reason_prompt = lambda _parent, _text: "C7 not visible"
            qtbot.mouseClick(rw.skip_button, Qt.MouseButton.LeftButton)
            idle(qtbot, rw)
            continue
        read_current(qtbot, rw, "B", 1)
        own = angle_text(next(iter(rw.controller.measurements.values())).angle, calibrated=True)
        after = texts(rw)
        assert any(own in t for t in after)  # the rater's own reading is shown …
        assert not any(a_text in t for t in after)  # … never the other rater's
        qtbot.mouseClick(rw.next_button, Qt.MouseButton.LeftButton)
        idle(qtbot, rw)
    assert rw.complete and "5 read, 1 skipped" in rw.done.text()
    assert main(["plan", "worklist", str(study_path), "rel", "--rater", "B", "--round", "1",
                 "--json"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert '"skipped"' in out and not any(s in out for s in SECRETS)
    assert not any(angle_text(v, calibrated=True)[1:] in out for v in a_values.values())


def test_adjudication_by_clicks_feeds_the_consensus_policy(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, study_path: Path, _env: list[str]
) -> None:
    from cobbdesk.core.export.policy import parse_policy, resolve, study_raters
    from cobbdesk.core.reading.adjudication import adjudication_films
    from cobbdesk.core.reading.plan import get_plan

    dialog = plans_dialog(qtbot, window)
    create_plan_by_clicks(qtbot, dialog)
    again = dialog.new_plan()  # the same name: refused, the form stays
    again.name.setText("rel")
    again.raters.setText("A,B")
    dialog.create_from(again)
    assert "already a reading plan named 'rel'" in _env[-1]
    assert again.isVisible() and dialog.plans.count() == 1
    again.reject()
    for rater in ("A", "B"):
        choose(qtbot, dialog, rater, 1)
        read_round(qtbot, dialog, rater, 1).close()
    with Study.open(study_path) as study, study.engine.connect() as conn:
        expected = adjudication_films(conn, get_plan(study, "rel"))
    assert expected  # B's corner 4 px lower than A's: several films differ by more than 3°
    qtbot.mouseClick(dialog.adjudicate_button, Qt.MouseButton.LeftButton)
    rw = read_round(qtbot, dialog, "C", 0)
    assert len(rw.items) == len(expected)
    rw.close()
    adjudicated = stored_angles(study_path)[("C", 0)]
    assert sorted(adjudicated) == expected
    with Study.open(study_path) as study:
        policy = resolve(study, parse_policy("consensus"), study_raters(study))
        films = {f.id: f for f in study.films()}
        kinds = {v.id: (p.study_id, v.kind.value) for p in study.patients()
                 for v in study.visits(p.id)}  # fmt: skip
    values = {(r, e): v for r, e, _region, v in policy.values}
    table = stored_angles(study_path)
    for film_id, film in films.items():
        want = adjudicated.get(film_id, (table[("A", 1)][film_id] + table[("B", 1)][film_id]) / 2)
        assert values[kinds[film.visit_id]] == pytest.approx(want, abs=1e-9)
