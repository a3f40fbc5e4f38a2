"""The redaction index of an opened study is built off the UI thread after the browser's
first paint (#17), and whatever is redacted sooner on the UI thread is still redacted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core import redact
from cobbdesk.core.errors import StoreError
from cobbdesk.core.redact import keys
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.gui.ui_thread_sql import UiThreadSql

SECRETS = ("Quixote", "Alonso", "77123", "Panza", "88321", "1961", "Carrasco", "55501")
#: Spellings only the remembered identifiers hide (no caret, no ISO/DA date).
LINE = "Quixote, MRN h 77123 (03.02.1961); Panza 88321; Carrasco x-55501"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    redact.forget_all()
    yield shown
    redact.forget_all()


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    """Three patients; their identifiers forgotten again, as in a fresh app."""
    path = tmp_path / "three.cobbdesk"
    with Study.create(path, actor="setup") as study:
        study.add_patient("P001", name="Quixote^Alonso", mrn="H-77123", birth_date="1961-02-03")
        study.add_patient("P002", name="Panza^Sancho", mrn="88321")
        study.add_patient("P003", name="Carrasco^Sanson", dicom_patient_id="X-55501")
    redact.forget_all()
    return path


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that built pending identifiers' keys."""
    seen: list[str] = []
    real = keys._build_joined

    def spy(*args: object, **kwargs: object) -> None:
        if kwargs.get("batch") is not None:
            seen.append(threading.current_thread().name)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keys, "_build_joined", spy)
    return seen


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    yield win
    win.session.shutdown()


class _Records(logging.Handler):
    """The ``cobbdesk`` logger's records as written (after the redacting filter)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.addFilter(redact.RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def records() -> Iterator[_Records]:
    handler, logger = _Records(), logging.getLogger("cobbdesk")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_index_is_built_off_the_ui_thread_after_the_rows_are_shown(
    qtbot, window: MainWindow, study_path: Path, builds: list[str], records: _Records
) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    assert session.open_study(study_path)
    assert redact.pending() and builds == []  # opening built nothing on the UI thread
    assert session.study is not None
    with UiThreadSql(session.study) as seen:
        qtbot.waitUntil(lambda: session.browser.model.rowCount() == 3, timeout=10_000)
        qtbot.waitUntil(lambda: not redact.pending(), timeout=10_000)
        qtbot.waitUntil(lambda: any("Opened study" in line for line in records.lines))
    assert seen.statements == []
    assert len(builds) == 1 and builds[0] != threading.main_thread().name
    assert "Opened study three.cobbdesk" in records.lines
    redacted = redact.redact(LINE)
    for secret in SECRETS:
        assert secret not in redacted


def test_an_error_shown_right_after_opening_is_redacted(
    qtbot, window: MainWindow, study_path: Path, _env: list[str], records: _Records
) -> None:  # type: ignore[no-untyped-def]
    assert window.session.open_study(study_path)
    assert redact.pending()  # the dialog comes before the index was built
    errors.report(window, StoreError(study_path, f"write failed for {LINE}"), "Saving")
    assert not redact.pending()  # built on this thread first: the dialog waited for it
    (shown,) = _env
    assert "write failed for" in shown
    written = " ".join(records.lines)
    for text in (shown, written):
        for secret in SECRETS:
            assert secret not in text


def test_a_study_closed_before_the_index_was_built_logs_and_stays_redacted(
    qtbot, window: MainWindow, study_path: Path, records: _Records
) -> None:  # type: ignore[no-untyped-def]
    assert window.session.open_study(study_path)
    window.session.close_study()
    assert window.session.study is None
    redacted = redact.redact(LINE)  # the closed study's identifiers are still matched
    for secret in SECRETS:
        assert secret not in redacted
    qtbot.waitUntil(lambda: "Closed study three.cobbdesk" in records.lines, timeout=10_000)
    assert records.lines[:2] == ["Opened study three.cobbdesk", "Closed study three.cobbdesk"]


def test_closing_before_the_index_was_built_builds_it_off_the_ui_thread(
    qtbot, window: MainWindow, study_path: Path, builds: list[str], records: _Records
) -> None:  # type: ignore[no-untyped-def]
    """Closing (or opening another study) before the deferred index is built logs "Opened"
    and "Closed study" after building it on a worker: the UI thread builds nothing (0.4–0.7 s
    at 100,000 patients), and nothing is written unredacted meanwhile."""
    assert window.session.open_study(study_path)
    assert redact.pending()
    window.session.close_study()
    assert window.session.study is None
    qtbot.waitUntil(lambda: "Closed study three.cobbdesk" in records.lines, timeout=10_000)
    assert builds and threading.main_thread().name not in builds
    assert not redact.pending()
    assert records.lines[:2] == ["Opened study three.cobbdesk", "Closed study three.cobbdesk"]
    redacted = redact.redact(LINE)
    for secret in SECRETS:
        assert secret not in redacted


def test_the_file_check_and_the_index_start_from_one_first_paint_trigger(
    qtbot, window: MainWindow, study_path: Path, builds: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The study window has one first-paint trigger (``StudyReads.after_rows_painted``): the
    study file's quick_check and the redaction index both start from it, after the rows were
    painted — one paint watcher per patient list, not one per kind of work."""
    from cobbdesk.gui.study import reads

    watchers: list[object] = []
    real = reads._FirstPaint.__init__

    def counting(self, *args: object, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
        watchers.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(reads._FirstPaint, "__init__", counting)
    session = window.session
    assert session.open_study(study_path)
    study = session.study
    assert study is not None and study.file_check is not None
    assert not study.file_check.started and redact.pending()  # nothing before the paint
    qtbot.waitUntil(lambda: session.browser.model.rowCount() == 3, timeout=10_000)
    qtbot.waitUntil(lambda: study.file_check.started and not redact.pending(), timeout=10_000)
    assert len(watchers) == 1
    assert builds and threading.main_thread().name not in builds
