"""Identifiers of an opened study are built into the redaction index on first use (#17):
``Study.open`` hands them over pending; every matching call builds them first, under a
lock, whatever its thread; nothing is ever matched while a batch is pending."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import keys
from cobbdesk.core.store import Study

#: Spellings that only the remembered identifiers hide (no caret, no ISO/DA date): a name's
#: word alone, the MRN with a space, the birth date day-first with dots.
LINE = "Film of Quixote, MRN h 77123, born 03.02.1961; Sancho asked about mrn 88321"
EXPECTED = (
    "Film of [redacted], MRN [redacted], born [redacted]; [redacted] asked about mrn [redacted]"
)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    """A closed 3-patient study, its identifiers forgotten again (a fresh process)."""
    path = tmp_path / "three.cobbdesk"
    with Study.create(path, actor="t") as study:
        study.add_patient("P001", name="Quixote^Alonso", mrn="H-77123", birth_date="1961-02-03")
        study.add_patient("P002", name="Panza^Sancho", mrn="88321")
        study.add_patient("P003", name="Carrasco^Sanson", dicom_patient_id="X-55501")
    redact.forget_all()
    assert redact.redact(LINE) == LINE  # nothing remembered: the line is unchanged
    return path


def _in_thread(text: str) -> str:
    out: list[str] = []
    worker = threading.Thread(target=lambda: out.append(redact.redact(text)))
    worker.start()
    worker.join()
    return out[0]


def test_open_builds_nothing_and_the_first_redact_from_another_thread_hides_all(
    study_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real = keys._build_joined
    monkeypatch.setattr(keys, "_build_joined", lambda *a, **k: (
        built.append(threading.current_thread().name), real(*a, **k))[1])  # fmt: skip
    with Study.open(study_file, actor="t"):
        assert redact.pending() and built == [] and not keys.registry.single
        assert _in_thread(LINE) == EXPECTED
        assert len(built) == 1 and built[0] != threading.current_thread().name
        assert not redact.pending()
        assert redact.redact(LINE) == EXPECTED and len(built) == 1  # built once


def test_the_logging_filter_builds_the_pending_identifiers_first(study_file: Path) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("cobbdesk.test_pending")
    logger.addHandler(handler)
    logger.propagate = False
    redact.install(logger)
    try:
        with Study.open(study_file, actor="t"):
            assert redact.pending()
            worker = threading.Thread(target=lambda: logger.warning("Line: %s", LINE))
            worker.start()
            worker.join()
            try:
                raise ValueError(LINE)
            except ValueError:
                logger.exception("Failed for Carrasco x 55501")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    written = stream.getvalue()
    assert f"Line: {EXPECTED}" in written
    assert f"ValueError: {EXPECTED}" in written
    assert "Failed for [redacted] [redacted]" in written
    for word in ("Quixote", "77123", "Sancho", "88321", "1961", "Carrasco", "55501"):
        assert word not in written


def test_two_threads_redacting_while_pending_both_wait_for_the_one_build(
    study_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []
    real = keys._build_joined

    def slow_build(*args: object, **kwargs: object) -> None:
        calls.append(threading.current_thread().name)
        entered.set()
        release.wait(10)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keys, "_build_joined", slow_build)
    results: dict[str, str] = {}
    with Study.open(study_file, actor="t"):
        first = threading.Thread(target=lambda: results.update(a=redact.redact(LINE)))
        first.start()
        assert entered.wait(10)  # the first thread is building, holding the build lock
        second = threading.Thread(target=lambda: results.update(b=redact.redact(LINE)))
        second.start()
        second.join(0.5)  # a second caller that did not wait would have finished unredacted
        assert "b" not in results
        release.set()
        first.join()
        second.join()
    assert results == {"a": EXPECTED, "b": EXPECTED}
    assert len(calls) == 1  # the second found nothing pending once it had the lock


def test_a_study_closed_before_the_build_stays_redacted(study_file: Path) -> None:
    study = Study.open(study_file, actor="t")
    study.close()
    assert redact.pending()
    assert _in_thread(LINE) == EXPECTED


def test_a_failed_build_keeps_its_batch_pending_and_redacts_nothing(
    study_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = keys._build_joined

    def fail(*args: object, **kwargs: object) -> None:
        raise MemoryError("no room")

    with Study.open(study_file, actor="t"):
        monkeypatch.setattr(keys, "_build_joined", fail)
        with pytest.raises(MemoryError):
            redact.redact(LINE)  # never an unredacted text instead
        assert redact.pending()
        monkeypatch.setattr(keys, "_build_joined", real)
        assert redact.redact(LINE) == EXPECTED


def test_pending_batches_of_two_studies_are_all_built_and_forget_all_drops_them(
    tmp_path: Path, study_file: Path
) -> None:
    other = tmp_path / "other.cobbdesk"
    with Study.create(other, actor="t") as study:
        study.add_patient("P001", name="Rocinante^Horse", mrn="R-99123")
    redact.forget_all()
    with Study.open(study_file, actor="t"), Study.open(other, actor="t"):
        Study.open(study_file, actor="t").close()  # the same rows again: kept once
        assert len(keys.registry.pending) == 2
        assert redact.redact("rocinante r 99123; Sancho") == "[redacted] [redacted]; [redacted]"
    redact.remember_later("Dulcinea^Toboso", "")
    redact.forget_all()
    assert not redact.pending() and redact.redact("Dulcinea") == "Dulcinea"


def test_remember_patients_later_hands_them_over_pending() -> None:
    """``remember_patients(..., later=True)`` (the bulk import's new patients) builds nothing
    now; the next redact() builds them before it matches, the same keys as at once."""
    names, values = ["Quixote^Alonso", "Panza^Sancho"], ["H-77123", "1961-02-03", "88321"]
    redact.remember_patients(names, values, later=True)
    assert redact.pending() and not keys.registry.single and not keys.registry.multi
    assert _in_thread(LINE) == EXPECTED
    assert not redact.pending()
    built = (set(keys.registry.single), set(keys.registry.multi))
    redact.forget_all()
    redact.remember_patients(names, values)
    assert not redact.pending()
    assert (keys.registry.single, keys.registry.multi) == built
