"""One study film open in the viewer and in the compare view at once (#15 "never a lost update").

Each window measures through its own session (``film_session``: the compare one shows only its
rater's measurements) on the same :class:`Study` object, writing through the study's write
queue.  A window still showing an old version must never overwrite, unseen, what the other
window saved: it either caught up (the other window's save is shown as soon as it lands) or its
edit meets the conflict question (Keep theirs / Keep mine / Cancel).

Geometry (image px, y down): m1's upper line is (100,100)–(140,100), its lower line
(100,300)–(140,290).  ``MoveLine(.., "upper", 0, dy)`` moves both upper ends down by ``dy``,
so the stored ``upper_posterior_y`` is 100 + the moves applied to the version edited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.compare.saver import film_session
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.commands import MoveLine
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.gui.film_follow import follow_film
from cobbdesk.gui.study.saving import SaveStatus, StudySaver
from cobbdesk.gui.viewer import measure_tool
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine
from tests.gui.ui_thread_sql import UiThreadSql


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A study file, or a fresh study on the throwaway PostgreSQL cluster."""
    if request.param == "sqlite":
        return tmp_path / "s.cobbdesk"
    return request.getfixturevalue("pg_url")


class Windows:
    """The viewer's and the compare view's controllers on one film of one open study."""

    def __init__(self, qtbot: Any, tmp_path: Path, location: Any, *, queue: bool,
                 follow: bool) -> None:  # fmt: skip
        path = write_dicom(make_lateral_spine("cervical", 25.0, seed=3), tmp_path / "c.dcm")
        film = read_film(path)
        self.location = location
        with Study.create(location, actor="A") as study:
            vid = study.add_visit(study.add_patient("P0001"), "admission",
                                  visit_date="2026-01-05")  # fmt: skip
            self.fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=path,
                                      region="cervical")  # fmt: skip
            study.save_measurement(self.fid, CobbMeasurement(
                film.sop_instance_uid, "", "C2-C7", EndplateLine((100, 100), (140, 100)),
                EndplateLine((100, 300), (140, 290)), spacing=None, rater="A", id="m1",
                created_utc="2026-01-01T10:00:00+00:00"))  # fmt: skip
        self.study = Study.open(location, actor="A")
        self.saver = None
        if queue:  # the app's write queue: writes run on its worker
            status = SaveStatus()
            qtbot.addWidget(status)
            self.saver = StudySaver(self.study, status)
        record = self.study.films()[0]
        self.viewer = self._controller(qtbot, path, record, only_rater=False)
        self.compare = self._controller(qtbot, path, record, only_rater=True)
        if follow:
            follow_film(self.viewer, self.study, self.fid)
            follow_film(self.compare, self.study, self.fid)

    def _controller(self, qtbot: Any, path: Path, record: Any, *, only_rater: bool) -> Any:
        film = read_film(path)  # each window decodes its own copy
        view = FilmView()
        qtbot.addWidget(view)
        view.set_film(film)
        controller = MeasureController(film, "A", parent=view)
        controller.attach(view)
        controller.bind(film_session(self.study, record, film, "A", only_rater=only_rater,
                                     ask_reason=lambda changes: "re-read"))  # fmt: skip
        return controller

    def stored(self) -> tuple[float, bool]:
        """(upper_posterior_y, deleted) as stored, read by a fresh study object."""
        with Study.open(self.location, actor="C") as other:
            found = other.reread_measurement("m1")
        return (found.upper.posterior[1], False) if found is not None else (float("nan"), True)

    def close(self) -> None:
        if self.saver is not None:
            self.saver.close()
        self.study.close()


def _asked(monkeypatch: pytest.MonkeyPatch, answer: str | None) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(measure_tool, "ask_conflict",
                        lambda parent, text: asked.append(text) or answer)  # fmt: skip
    return asked


# --- (a) the stale window's edit meets the conflict question ------------------------------
@pytest.mark.parametrize("case", [(None, 105.0, 100.0), ("theirs", 105.0, 105.0),
                                  ("mine", 110.0, 110.0)])  # fmt: skip
def test_adjust_in_a_stale_window_asks(qtbot: Any, tmp_path: Path, monkeypatch: Any,
                                       case: tuple[str | None, float, float]) -> None:  # fmt: skip
    """Cancel keeps the compare view's 105 stored and the viewer's old 100 shown; Keep theirs
    shows 105; Keep mine writes the viewer's 110 knowingly."""
    answer, stored_y, viewer_y = case
    w = Windows(qtbot, tmp_path, tmp_path / "s.cobbdesk", queue=False, follow=False)
    asked = _asked(monkeypatch, answer)
    assert w.compare.push(MoveLine("m1", "upper", 0, 5)).ok  # compare: saved, 105
    assert w.viewer.measurements["m1"].upper.posterior[1] == 100.0  # the viewer is stale
    w.viewer.push(MoveLine("m1", "upper", 0, 10))  # an edit of the old version (110)
    assert len(asked) == 1 and "upper_posterior_y" in asked[0]
    assert w.stored() == (stored_y, False)  # 110 only when "Keep mine" was chosen
    assert w.viewer.measurements["m1"].upper.posterior[1] == viewer_y
    assert w.viewer.session.pending_conflict is None
    w.close()


@pytest.mark.parametrize("first", ["compare", "viewer"])
def test_delete_vs_adjust_in_two_windows_asks(qtbot: Any, tmp_path: Path, monkeypatch: Any,
                                              first: str) -> None:  # fmt: skip
    """One window deletes m1, the other (stale) adjusts it; and the other way round."""
    w = Windows(qtbot, tmp_path, tmp_path / "s.cobbdesk", queue=False, follow=False)
    asked = _asked(monkeypatch, None)  # Cancel
    one, two = (w.compare, w.viewer) if first == "compare" else (w.viewer, w.compare)
    one.select("m1")
    one.delete_selected()
    two.push(MoveLine("m1", "upper", 0, 10))  # adjusts the deleted measurement
    assert len(asked) == 1 and "deleted_utc" in asked[0]
    assert w.stored()[1]  # still deleted, its points not overwritten
    w.close()
    (tmp_path / "again").mkdir()
    w = Windows(qtbot, tmp_path / "again", tmp_path / "t.cobbdesk", queue=False, follow=False)
    asked.clear()
    one, two = (w.compare, w.viewer) if first == "compare" else (w.viewer, w.compare)
    assert one.push(MoveLine("m1", "upper", 0, 5)).ok
    two.select("m1")
    two.delete_selected()  # deletes the version it showed: refused, asked
    assert len(asked) == 1
    assert w.stored() == (105.0, False)  # the adjustment was not deleted unseen
    w.close()


# --- (b) the other window catches up as soon as a save lands --------------------------------
def test_the_other_window_shows_a_save_at_once(qtbot: Any, tmp_path: Path, monkeypatch: Any,
                                               location: Any) -> None:  # fmt: skip
    w = Windows(qtbot, tmp_path, location, queue=True, follow=True)
    asked = _asked(monkeypatch, None)
    with UiThreadSql(w.study) as seen:
        assert w.compare.push(MoveLine("m1", "upper", 0, 5)).ok
        qtbot.waitUntil(lambda: w.viewer.measurements["m1"].upper.posterior[1] == 105.0)
        assert w.viewer.push(MoveLine("m1", "upper", 0, 10)).ok  # on top of 105: no question
        qtbot.waitUntil(lambda: w.compare.measurements["m1"].upper.posterior[1] == 115.0)
        w.viewer.select("m1")
        w.viewer.delete_selected()
        qtbot.waitUntil(lambda: "m1" not in w.compare.measurements)
        assert w.saver is not None and w.saver.outbox.wait_idle(30)
    assert seen.statements == []  # the catching up ran no SQL on the UI thread
    assert asked == []
    assert w.stored()[1]
    w.close()


def test_an_unsaved_edit_is_not_replaced_by_the_other_windows_save(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The viewer holds a refused edit of m1 (waiting for its answer) when the compare view's
    save lands: the held edit stays, and its answer still decides."""
    w = Windows(qtbot, tmp_path, tmp_path / "s.cobbdesk", queue=False, follow=True)
    viewer = w.viewer.session
    w.compare.push(MoveLine("m1", "upper", 0, 5))  # lands; the viewer is told (UI thread, soon)
    held: list[Any] = []

    def answer(parent: Any, text: str) -> str | None:  # the question is open: the
        held.append(viewer.pending_conflict)  # compare view saves once more meanwhile
        assert w.compare.push(MoveLine("m1", "upper", 0, 1)).ok
        qtbot.wait(100)  # the other window's save is delivered while the question is open
        held.append(viewer.pending_conflict)
        return "theirs"

    monkeypatch.setattr(measure_tool, "ask_conflict", answer)
    w.viewer.push(MoveLine("m1", "upper", 0, 10))  # before the first event was delivered
    assert held[0] is not None and held[1] is held[0]  # not replaced while held
    assert w.viewer.measurements["m1"].upper.posterior[1] == 106.0  # theirs, the latest
    assert w.stored() == (106.0, False)
    w.close()


def test_a_facing_set_in_one_window_is_shown_in_the_other(qtbot: Any, tmp_path: Path) -> None:
    """The film's facing is unknown in both windows; the compare view sets it (m1's lines are
    relabelled and saved): the viewer takes the facing and the relabelled m1, so its next edit
    is one of the stored version (no question) and keeps the film's facing."""
    w = Windows(qtbot, tmp_path, tmp_path / "s.cobbdesk", queue=True, follow=True)
    assert w.viewer.session.facing is None and w.compare.session.facing is None
    assert w.compare.session.set_facing("right", "user").ok
    qtbot.waitUntil(lambda: w.viewer.session.facing is not None)
    assert w.viewer.session.facing.value == "right"
    qtbot.waitUntil(lambda: w.viewer.measurements["m1"] == w.compare.measurements["m1"])
    assert w.viewer.push(MoveLine("m1", "upper", 0, 5)).ok
    assert w.saver is not None and w.saver.outbox.wait_idle(30)
    assert w.stored() == (105.0, False)
    with Study.open(w.location, actor="C") as other:
        assert other.films()[0].facing == "right"
    w.close()
