"""A whole DICOM import written as one batch keeps every guarantee, on SQLite and PostgreSQL.

One folder mixes new films of several patients, a copy of a film (duplicate within the batch),
a film already in the study, a truncated DICOM file, a file that is not DICOM and a film
without Patient ID; the batch must report each, write the rest once with a chained audit that
``verify`` accepts and that replays to the stored rows, and leave the study untouched when
it is cancelled during the scan or when its write fails half-way.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.store import Study
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.schema import audit, films, patients, visits
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine


@cache
def _spine() -> SyntheticSpine:
    return make_lateral_spine("cervical", 20.0, rows=256, columns=200, spacing_mm=(0.6, 0.6))


def _film(folder: Path, n: int, patient: str, day: str) -> Path:
    return write_dicom(
        _spine(), folder / f"film{n:03d}.dcm", patient_id=patient, study_date=day,
        sop_instance_uid=f"1.2.826.0.1.3680043.10.7777.{n}", body_part="CSPINE",
    )  # fmt: skip


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Iterator[Study]:
    s = Study.create(study_location("batch.cobbdesk"), actor="tester")  # type: ignore[arg-type]
    yield s
    s.close()


def _batch(folder: Path) -> dict[str, Path]:
    """24 films of 6 patients (admission and month 3) plus the odd files; returns them."""
    folder.mkdir()
    for n in range(24):
        _film(folder, n, f"MRN-{n % 6}", ("20260105", "20260406")[n // 12])
    odd = {"copy": folder / "film005-copy.dcm", "truncated": folder / "broken.dcm",
           "text": folder / "notes.txt"}  # fmt: skip
    shutil.copy(folder / "film005.dcm", odd["copy"])
    odd["truncated"].write_bytes((folder / "film006.dcm").read_bytes()[:700])
    odd["text"].write_text("not a film")
    odd["no id"] = _film(folder, 90, "", "20260105")
    return odd


def _counts(study: Study) -> dict[str, Any]:
    with study.engine.connect() as conn:
        found: dict[str, Any] = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (patients, visits, films, audit)
        }
        found["head"] = audit_log.head(conn)
    return found


def test_one_batch_reports_every_file_and_audits_every_row(study: Study, tmp_path: Path) -> None:
    early = _film(tmp_path, 100, "MRN-0", "20260105")  # in the study before the batch
    import_paths(study, [early])
    before = _counts(study)
    odd = _batch(tmp_path / "in")
    shutil.copy(early, tmp_path / "in" / "already.dcm")
    report = import_paths(study, [tmp_path / "in"])
    assert len(report.imported) == 24
    assert sorted(Path(d.path).name for d in report.duplicates) == ["already.dcm", "film005.dcm"]
    assert {Path(e.path).name for e in report.errors} == {"broken.dcm", odd["no id"].name}
    assert [Path(s.path).name for s in report.skipped] == ["notes.txt"]
    assert report.files == 29 and len(report.new_patients) == 5  # MRN-0 existed
    after = _counts(study)
    assert after["films"] - before["films"] == 24
    assert after["visits"] - before["visits"] == 11  # MRN-0's admission existed
    # the chain runs on from the head before the batch, row after row, and verifies
    with study.engine.connect() as conn:
        rows = conn.execute(
            select(audit.c.seq, audit.c.prev_hash, audit.c.hash, audit.c.entity,
                   audit.c.entity_id, audit.c.field, audit.c.new_value)
            .where(audit.c.seq > before["head"][0]).order_by(audit.c.seq)
        ).all()  # fmt: skip
    assert rows[0].prev_hash == before["head"][1]
    assert [r.seq for r in rows] == list(range(before["head"][0] + 1, after["head"][0] + 1))
    assert all(b.prev_hash == a.hash for a, b in pairwise(rows))
    assert after["head"] == (rows[-1].seq, rows[-1].hash)
    assert study.verify_audit().ok
    check = study.verify_integrity()
    assert check.ok, check.problems
    # every imported film is audited once, field by field, exactly as its stored row
    by_film: dict[str, dict[str, str | None]] = {}
    for row in rows:
        if row.entity == "film":
            by_film.setdefault(row.entity_id, {})[row.field] = row.new_value
    assert sorted(int(k) for k in by_film) == sorted(f.film_id for f in report.imported)
    stored = {str(f.id): f for f in study.films()}
    for film_id, fields in by_film.items():
        film = stored[film_id]
        values = {k: getattr(film, k, None) for k in fields}
        values["region"] = film.region.value
        expected = {k: audit_log._text(v) for k, (_, v) in inserted("film", values).items()}
        assert fields == expected


def test_cancel_during_the_scan_leaves_the_study_as_it_was(study: Study, tmp_path: Path) -> None:
    import_paths(study, [_film(tmp_path, 100, "MRN-0", "20260105")])
    before = _counts(study)
    _batch(tmp_path / "in")
    seen: list[int] = []
    report = import_paths(
        study, [tmp_path / "in"], progress=lambda done, _total: seen.append(done),
        cancel=lambda: len(seen) >= 10,
    )  # fmt: skip
    assert report.cancelled and not report.imported
    assert _counts(study) == before
    assert study.verify_audit().ok and study.verify_integrity().ok


def test_a_write_failing_half_way_leaves_nothing_and_can_be_run_again(
    study: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patients, visits and films are inserted, then the audit write fails: all rolled back."""
    before = _counts(study)
    _batch(tmp_path / "in")

    def fail(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("disk gone")

    with monkeypatch.context() as patch:
        patch.setattr(audit_log, "record_texts", fail)
        with pytest.raises(RuntimeError, match="disk gone"):
            import_paths(study, [tmp_path / "in"])
    assert _counts(study) == before
    report = import_paths(study, [tmp_path / "in"])
    assert len(report.imported) == 24 and study.verify_integrity().ok


def test_audit_templates_hash_like_the_canonical_json(
    study_location: Callable[[str], object],
) -> None:
    """record_texts builds each row's canonical JSON from a template per (entity, field,
    reason); braces, quotes, backslashes and non-ASCII text in any shared or own field must
    give the bytes json.dumps gives (audit.row_hash recomputes every row)."""
    odd = 'we{i}rd "x" \\ {0} } é'
    actor = audit_log.Actor(user=f"user {odd}", rater=f"rater{{{odd}")
    with Study.create(study_location("t.cobbdesk"), actor="tester") as study:  # type: ignore[arg-type]
        entries: list[audit_log.Change] = [
            ("film", n, {f"f{{{n % 2}}}": (None if n % 3 else odd, f"v{n}{odd}")},
             odd if n % 2 else "")
            for n in range(12)
        ]  # fmt: skip
        with study.transaction() as conn:
            assert audit_log.record_many(conn, actor, entries) == 12
        with study.engine.connect() as conn:
            rows = conn.execute(select(*audit.c).order_by(audit.c.seq)).mappings().all()
            assert audit_log.verify(conn).ok
    assert rows and all(audit_log.row_hash(dict(r)) == r["hash"] for r in rows)


_LAB_NAMES = ("name", "visit_id", "value_num", "value_text", "unit", "updated_utc")


def test_bulk_rows_store_every_value_as_given(
    study_location: Callable[[str], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """insert_rows (COPY on PostgreSQL from pg_copy.MIN_ROWS rows, INSERT below it and on
    SQLite) stores tabs, newlines, CRs, backslashes, a literal \\N, empty text, None, unicode,
    big ints and every kind of float exactly as given, and the audit replays them."""
    from cobbdesk.core.store import pg_copy
    from cobbdesk.core.store.schema import labs

    copied: list[bool] = []
    real_copy = pg_copy.copy_rows
    monkeypatch.setattr(pg_copy, "copy_rows", lambda *a: copied.append(real_copy(*a)) or copied[-1])
    texts = ["a\tb", "line\nnext", "cr\r", "back\\slash", "\\N", "", "é 山田 ☃", " pad "]
    floats = [0.1, -0.0, 1e-310, 1.7976931348623157e308, math.inf, -math.inf, 5e-324, 2.5]
    with Study.create(study_location("rows.cobbdesk"), actor="tester") as study:  # type: ignore[arg-type]
        visit = study.add_visit(study.add_patient("P1"), "admission")
        for count in (pg_copy.MIN_ROWS - 1, pg_copy.MIN_ROWS + 5):
            rows = [(f"n{count}-{i}", visit, floats[i % 8] if i % 9 else None,
                     texts[i % 8] if i % 5 else None, texts[(i + 3) % 8], "2026-01-01Z")
                    for i in range(count)]  # fmt: skip
            with study.transaction() as conn:
                audit_log.insert_rows(conn, labs, _LAB_NAMES, rows)
            with study.engine.connect() as conn:
                stored = conn.execute(
                    select(*(labs.c[n] for n in _LAB_NAMES)).where(
                        labs.c.name.like(f"n{count}-%"))
                ).all()  # fmt: skip
            assert sorted(tuple(r) for r in stored) == sorted(rows, key=lambda r: r[0])
        nan = [(f"nan{i}", visit, math.nan, None, "", "2026-01-01Z")
               for i in range(pg_copy.MIN_ROWS)]  # fmt: skip
        with study.transaction() as conn:
            audit_log.insert_rows(conn, labs, _LAB_NAMES, nan)
        with study.engine.connect() as conn:
            values = conn.execute(select(labs.c.value_num).where(labs.c.name.like("nan%")))
            found = [v for (v,) in values]
        # SQLite stores a NaN REAL as NULL (its own rule); PostgreSQL keeps NaN
        if study.engine.dialect.name == "postgresql":
            assert len(found) == pg_copy.MIN_ROWS and all(math.isnan(v) for v in found)
            assert copied.count(True) == 2  # the two batches of MIN_ROWS or more rows: COPY
