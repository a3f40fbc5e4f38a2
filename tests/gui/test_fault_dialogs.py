"""Faults in the GUI (#12): a locked study's save says so in words, keeps the edit for a
retry, and neither the dialog nor the log holds a patient identifier."""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core import redact
from cobbdesk.core.store import Study, dialect
from cobbdesk.gui import errors
from cobbdesk.gui.study.lab_form import LabForm

NAME, MRN, BIRTH = "Zorkwell^Quintessa", "MRN-778899", "19610203"
PLANTED = ("Zorkwell", "Quintessa", MRN, BIRTH, "1961-02-03")


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    messages: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: messages.append(text))
    return messages


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """The cobbdesk logger writing to a buffer through the redacting filter, as the app's."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger = logging.getLogger("cobbdesk")
    logger.addHandler(handler)
    redact.install(logger)
    yield buffer
    logger.removeHandler(handler)


def _clean(text: str) -> None:
    for value in PLANTED:
        assert value.lower() not in text.lower(), f"{value!r} leaked: {text!r}"


def test_locked_save_keeps_the_edit_for_a_retry(
    qtbot, tmp_path: Path, shown: list[str], log_text: io.StringIO,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 20)
    path = tmp_path / "labs.cobbdesk"
    with Study.create(path, actor="nurse") as created:
        pid = created.add_patient("P0001", name=NAME, mrn=MRN, birth_date=BIRTH)
        created.add_visit(pid, "admission", visit_date="2026-01-05")
    study = Study.open(path)
    form = LabForm(study, 1, "P0001 · Admission")
    qtbot.addWidget(form)
    form.show()
    form.set_raw("vas", "7")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert form.save() is False
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(shown) == 1 and "the study is locked" in shown[0] and "try again" in shown[0]
    assert form.isVisible() and form.raw("vas") == "7"  # the edit is still there
    assert study.labs(1).get("vas") is None
    assert form.save() is True  # the retry succeeds once the other writer is done
    assert study.labs(1)["vas"] == 7.0
    _clean(shown[0] + log_text.getvalue())
    study.close()


def test_internal_errors_show_no_driver_text(shown: list[str], log_text: io.StringIO) -> None:
    redact.remember([NAME, MRN, BIRTH])
    error = RuntimeError(f"INSERT failed with parameters ('{NAME}', '{MRN}', '{BIRTH}')")
    message = errors.report(None, error, "Importing")
    assert message.startswith("Internal error (RuntimeError)")
    assert "RuntimeError: INSERT failed" in log_text.getvalue()  # logged, redacted
    _clean(message + log_text.getvalue())
