"""Viewer (#12): a measurement another rater changed since the film was opened asks Keep
theirs / Keep mine / Cancel (the lab form's question) instead of losing the edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.compare.saver import film_session
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.commands import MoveLine
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.gui.viewer import measure_tool
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine


def _setup(qtbot, tmp_path: Path) -> tuple[MeasureController, Study, Study, int]:
    film: Film = read_film(write_dicom(make_lateral_spine("cervical", 25.0, seed=3),
                                       tmp_path / "c.dcm"))  # fmt: skip
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="A") as study:
        vid = study.add_visit(study.add_patient("P0001"), "admission", visit_date="2026-01-05")
        fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=tmp_path / "c.dcm",
                             region="cervical")  # fmt: skip
        m = CobbMeasurement(film.sop_instance_uid, "", "C2-C7",
                            EndplateLine((100, 100), (140, 100)),
                            EndplateLine((100, 300), (140, 290)), spacing=None, rater="A",
                            created_utc="2026-01-01T10:00:00+00:00", id="m1")  # fmt: skip
        study.save_measurement(fid, m)
    a, b = Study.open(path, actor="A"), Study.open(path, actor="B")
    view = FilmView()
    qtbot.addWidget(view)
    view.set_film(film)
    controller = MeasureController(film, "A", parent=view)
    controller.attach(view)
    session = film_session(a, a.films()[0], film, "A", ask_reason=lambda changes: "re-read")
    controller.bind(session)
    # rater B moves the upper line in another window after A opened the film
    theirs = b.measurements(fid)[0]
    moved = CobbMeasurement(theirs.sop_instance_uid, "", "C2-C7",
                            EndplateLine((100, 130), (140, 130)), theirs.lower, spacing=None,
                            rater="A", created_utc=theirs.created_utc, id="m1")  # fmt: skip
    b.save_measurement(fid, moved, reason="B re-read it")
    return controller, a, b, fid


@pytest.mark.parametrize(("answer", "upper_y"), [("mine", 105.0), ("theirs", 130.0), (None, 100.0)])
def test_conflict_asks_theirs_mine_cancel(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str | None, upper_y: float
) -> None:
    controller, a, b, fid = _setup(qtbot, tmp_path)
    asked: list[str] = []
    monkeypatch.setattr(measure_tool, "ask_conflict",
                        lambda parent, text: asked.append(text) or answer)  # fmt: skip
    messages: list[str] = []
    controller.messageChanged.connect(messages.append)
    controller.push(MoveLine("m1", "upper", 0, 5))
    assert len(asked) == 1 and "upper_posterior_y" in asked[0]
    assert asked[0].startswith("Another rater (B) saved this measurement")  # who it was
    assert any("another rater (B) changed it" in m for m in messages)
    stored = b.measurements(fid)[0].upper.posterior[1]
    shown = controller.measurements["m1"].upper.posterior[1]
    if answer is None:  # cancel: B's value stays stored, A's view unchanged, nothing held
        assert (stored, shown) == (130.0, 100.0)
    else:
        assert stored == shown == upper_y
    assert controller.session.pending_conflict is None
    a.close()
    b.close()
