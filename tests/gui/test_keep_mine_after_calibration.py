"""Keep mine after a calibration held back by an unsaved edit: the edit's points are written
with the film's calibration in force, never with the spacing the edit began with.

The film (400 × 300 px, no Pixel Spacing, Pixel Aspect Ratio 1\\2: pixels twice as wide as
tall) holds alice's L1–S1 in pixels: upper endplate (200, 100)–(100, 100), lower endplate
(200, 340)–(100, 300).  She drags the lower posterior point to (100, 280) — the lower
endplate's run is then 60 px down over 100 px across.  While she holds it, another window
calibrates the film: a 200 px vertical line over a 20 mm ruler, square pixels, 0.1 × 0.1 mm.
Her save meets the respaced version ("changed since"), she keeps hers.  A neurosurgeon's
points are what she placed on the film; its geometry is the calibration now in force, so
the angle stored is atan(60/100) = 30.96°, not atan(60/200) = 16.70° (the aspect of the
spacing her edit began with), and the spacing stored is the calibration's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.compare.saver import calibrate_film
from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.store import Study
from cobbdesk.core.store.film_events import announce
from cobbdesk.core.store.outbox import attached
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.viewer import measure_tool
from cobbdesk.gui.workers import FilmLoader
from tests.core.test_measure_film_identity import _film, _points, _study

SQUARE_DEG = math.degrees(math.atan(60 / 100))  # 30.9638°: the calibration in force
WIDE_DEG = math.degrees(math.atan(60 / 200))  # 16.6992°: the spacing the edit began with
NO_KEYS = Qt.KeyboardModifier.NoModifier


class _OtherWindow:
    """The origin of another window's writes (its store; weakly referenced by film_events)."""


@pytest.fixture
def shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    texts: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: texts.append(text))
    return texts


def test_keep_mine_writes_the_points_with_the_calibration_in_force(
    qtbot: Any, tmp_path: Path, make_ds: Callable[..., Any], shown: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    film = _film(make_ds, tmp_path / "films" / "a.dcm", aspect="1\\2")
    with _study(tmp_path, film) as setup:
        assert import_points(setup, _points(tmp_path)).imported == 1
        path = setup.path
    asked: list[str] = []
    monkeypatch.setattr(measure_tool, "ask_conflict",
                        lambda parent, text: asked.append(text) or "mine")  # fmt: skip
    win = MainWindow(rater="alice", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    try:
        reasons: list[str] = []
        win.session.reason_prompt = lambda parent, text: reasons.append(text) or "re-read"
        assert win.session.open_study(path)
        study = win.session.study
        assert study is not None
        (record,) = study.films()
        win.session.open_film(record)
        qtbot.waitUntil(lambda: bool(win.session.links), timeout=20000)
        controller = win.current.controller  # type: ignore[union-attr]
        (mid,) = list(controller.measurements)
        pixels_1_2 = math.degrees(math.atan(40 / 200))  # 11.31°: in pixels of the 1:2 film
        assert controller.measurements[mid].angle == pytest.approx(pixels_1_2, abs=1e-9)
        assert controller.press(100.0, 300.0, NO_KEYS)  # alice holds the lower posterior end
        controller.move(100.0, 280.0, Qt.MouseButton.LeftButton)
        other = _OtherWindow()  # another window of the app calibrates the film meanwhile

        def calibrate() -> object:
            return calibrate_film(study, record.id, ((0.0, 0.0), (0.0, 200.0)), 20.0,
                                  pixel_shape=(1.0, 1.0), reason="ruler", origin=other)  # fmt: skip

        announce(study, record.id, other)
        outbox = attached(study)
        assert outbox is not None
        outbox.call(calibrate, "calibrating film")
        follower = controller.film_follower
        qtbot.waitUntil(lambda: follower.notice != "", timeout=10000)
        assert win.current.film.spacing_mm is None  # type: ignore[union-attr]  # held back
        assert win.status.spacing.text() == "Uncalibrated: measurements in pixels"
        assert "Keep mine saves your points with the new calibration" in follower.notice
        messages: list[str] = []
        controller.messageChanged.connect(messages.append)
        controller.release(100.0, 280.0)
        qtbot.waitUntil(lambda: outbox.pending() == 0, timeout=10000)
        assert len(asked) == 1 and len(reasons) == 1 and shown == []
        mine = controller.measurements[mid]
        assert mine.lower.posterior == (100.0, 280.0)
        assert win.current.film.spacing_mm == pytest.approx((0.1, 0.1))  # type: ignore[union-attr]
        assert follower.notice == ""
        assert win.status.spacing.text() == "Spacing 0.1 × 0.1 mm (user calibration)"
        assert "Kept yours, with the film's calibration (ruler 20 mm over 200.0 px" in messages[-1]
        assert messages[-1].endswith(": +31.0° lordosis")
        with Study.open(path, actor="check") as fresh:
            stored = fresh.reread_measurement(mid)
        assert stored is not None and stored.lower.posterior == (100.0, 280.0)
        assert stored.spacing == pytest.approx((0.1, 0.1)) and stored.pixel_aspect is None
        assert stored.angle == pytest.approx(SQUARE_DEG, abs=1e-9)  # lordosis: positive
        assert stored.angle != pytest.approx(WIDE_DEG, abs=1e-3)
        assert mine.angle == pytest.approx(stored.angle, abs=1e-12)  # on screen as stored
    finally:
        win.session.shutdown()
