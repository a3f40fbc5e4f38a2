"""The study browser hears of others' changes: the audit head polled off the UI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.store import Study
from cobbdesk.gui.study.watch import StudyWatcher


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_change_by_another_rater_is_noticed(qtbot: Any, tmp_path: Path, backend: str,
                                              request: pytest.FixtureRequest) -> None:  # fmt: skip
    where = tmp_path / "w.cobbdesk" if backend == "sqlite" else request.getfixturevalue("pg_url")
    Study.create(where, actor="dr_a").close()
    with Study.open(where, actor="dr_a") as mine, Study.open(where, actor="dr_b") as theirs:
        watcher = StudyWatcher(mine)
        watcher.timer.setInterval(50)
        heard: list[int] = []
        watcher.changed.connect(lambda: heard.append(1))
        watcher.start()
        qtbot.wait(300)
        assert heard == []  # nothing changed: no refresh
        with qtbot.waitSignal(watcher.changed, timeout=10_000):
            theirs.add_patient("P0001")
        watcher.stop()


def test_an_unreachable_study_is_reported_not_raised(qtbot: Any, tmp_path: Path) -> None:
    """Read-only (no file identity to check: a writable study's missing file is a move,
    ``test_study_file_moved.py``): the failing read is reported."""
    Study.create(tmp_path / "w.cobbdesk").close()
    study = Study.open(tmp_path / "w.cobbdesk", read_only=True)
    watcher = StudyWatcher(study)
    watcher.timer.setInterval(50)
    watcher.start()
    qtbot.wait(200)
    study.engine.dispose()
    (tmp_path / "w.cobbdesk").unlink()
    (tmp_path / "w.cobbdesk").mkdir()  # the file is gone: every read fails
    with qtbot.waitSignal(watcher.unreachable, timeout=10_000):
        pass
    watcher.stop()
    study.close()


def test_the_unreachable_message_is_short_and_leaves_when_the_study_is_back(
    qtbot: Any, tmp_path: Path
) -> None:
    """A tester saw "Study not reachable (… nothing was saved. Check that the server is running
    and the address is r" cut mid-word, and still there after the server came back."""
    from cobbdesk.gui.main_window import MainWindow
    from cobbdesk.gui.study.session import UNREACHABLE
    from cobbdesk.gui.workers import FilmLoader

    path = tmp_path / "w.cobbdesk"
    Study.create(path, actor="dr_a").close()
    win = MainWindow(rater="dr_a", loader=FilmLoader(isolated=False))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    assert win.session.open_study(path)
    watcher = win.session._watch
    assert watcher is not None
    long_reason = "the study cannot be read: " + "a very long reason, " * 20
    watcher.unreachable.emit(long_reason)
    message = win.status.currentMessage()
    assert message.startswith(UNREACHABLE) and len(message) < 60 and "saved" not in message
    assert win.status.toolTip() == long_reason  # the whole reason is one hover away
    watcher.timer.setInterval(50)
    watcher.down = True  # the next successful poll is the study coming back
    qtbot.waitUntil(lambda: not win.status.currentMessage().startswith(UNREACHABLE), timeout=10_000)
    assert win.status.toolTip() == ""
    win.session.shutdown()
