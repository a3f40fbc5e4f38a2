"""The demo study loads, has the stated contents, and is identical across runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.synth.demo_study import write_demo_study


def _contents(study_path: Path) -> dict[str, object]:
    study = Study.open(study_path)
    try:
        patients = study.patients()
        visits = [v for p in patients for v in study.visits(p.id)]
        films = study.films()
        return {
            "patients": [(p.study_id, p.sex, p.birth_date, p.dose_mg_kg_day) for p in patients],
            "visits": [(v.kind.value, v.visit_date) for v in visits],
            "films": [
                (f.sop_instance_uid, f.pixel_sha256, f.region.value, Path(f.path).name)
                for f in films
            ],
            "measurements": sorted(
                (m.id, m.rater, round(m.angle, 9)) for m in study.measurements()
            ),
            "labs": [study.labs(v.id) for v in visits],
        }
    finally:
        study.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_study(tmp_path_factory.mktemp("demo"))


def test_stated_contents(demo: Path) -> None:
    study = Study.open(demo)
    try:
        overview = study.overview()
        films = study.films()
        measurements = study.measurements()
        assert len(overview) == 12 and all(len(p.visits) == 2 for p in overview)
        assert {v.visit.kind.value for p in overview for v in p.visits} == {"admission", "month3"}
        assert len(films) == 48
        assert all(study.labs(v.visit.id)["vas"] is not None for p in overview for v in p.visits)
        assert {m.rater for m in measurements} == {"dr_a", "dr_b"}
        measured = {f.id for f in films if study.measurements(f.id)}
        assert 0 < len(measured) < len(films), "some films are left for the user to measure"
        assert [p.complete for p in overview] == [True] * 8 + [False] * 4
        assert study.verify_audit().ok
    finally:
        study.close()
    read = [read_film(f.path) for f in films]
    assert {f.photometric for f in read} == {"MONOCHROME1", "MONOCHROME2"}
    assert "1.2.840.10008.1.2.4.70" in {f.transfer_syntax for f in read}
    assert sum(not f.calibrated for f in read) == 1
    assert [f.pixel_sha256 for f in read] == [f.pixel_sha256 for f in films]


def test_measured_angles_follow_the_films(demo: Path) -> None:
    study = Study.open(demo)
    try:
        by_rater: dict[str, dict[str, float]] = {}
        for m in study.measurements():
            by_rater.setdefault(m.rater, {})[m.sop_instance_uid] = m.angle
    finally:
        study.close()
    shared = set(by_rater["dr_a"]) & set(by_rater["dr_b"])
    assert len(shared) == 20  # patients 1-5, 2 visits x 2 regions
    assert max(abs(by_rater["dr_a"][u] - by_rater["dr_b"][u]) for u in shared) < 5


def test_identical_across_runs(demo: Path, tmp_path: Path) -> None:
    again = write_demo_study(tmp_path / "again")
    assert _contents(again) == _contents(demo)
    for film in sorted((demo.parent / "films").glob("*.dcm")):
        assert (again.parent / "films" / film.name).read_bytes() == film.read_bytes(), film.name
