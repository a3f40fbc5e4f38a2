"""`cobbdesk measure`/import_points: corner labels checked against the film's facing, guards."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

HEADER = (
    "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
    "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,lower_posterior_y"
)
UPPER = ((100.0, 100.0), (140.0, 110.0))
LOWER = ((100.0, 300.0), (140.0, 290.0))
# hand-computed on a film facing left: each line is atan(10/40) off horizontal, converging
# posteriorly, in pixels; with spacing (row 0.5, column 0.8) mm: atan(5/32) each
REFERENCE = 2 * math.degrees(math.atan((10 * 0.5) / (40 * 0.8)))
SOP = "1.2.3.4.5"


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = Study.create(tmp_path / "study.cobbdesk", actor="tester")
    s.add_visit(s.add_patient(dicom_patient_id="MRN-1"), "admission", visit_date="20260105")
    yield s
    s.close()


def add_film(study: Study, tmp_path: Path, *, orientation: bool = True) -> int:
    """A left-facing film (Patient Orientation P\\F unless ``orientation`` is False)."""
    spine = make_lateral_spine("cervical", 20.0, rows=400, columns=320, spacing_mm=(0.5, 0.8))
    (tmp_path / "films").mkdir(exist_ok=True)
    path = write_dicom(spine, tmp_path / "films" / "f.dcm", sop_instance_uid=SOP,
                       patient_id="MRN-1", study_date="20260105")  # fmt: skip
    if not orientation:
        ds = pydicom.dcmread(path)
        del ds.PatientOrientation
        ds.save_as(path)
    assert import_paths(study, [path]).ok
    film = study.film_by_sop(SOP)
    assert film is not None
    return film.id


def run(study: Study, tmp_path: Path, *pairs):
    rows = [
        ",".join([SOP, "C2-C7", *(repr(c) for line in pair for point in line for c in point)])
        for pair in pairs
    ]
    path = tmp_path / "points.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return import_points(study, path)


def test_labels_agreeing_with_the_facing_import_silently(study: Study, tmp_path: Path) -> None:
    add_film(study, tmp_path)
    report = run(study, tmp_path, (UPPER, LOWER))
    assert report.ok and report.imported == 1 and report.warnings == []
    (saved,) = study.measurements()
    assert saved.angle == pytest.approx(REFERENCE)


@pytest.mark.parametrize(("flip_upper", "flip_lower"), [(True, False), (False, True), (1, 1)])
def test_contradicting_labels_are_swapped_with_a_warning(
    study: Study, tmp_path: Path, flip_upper: bool, flip_lower: bool
) -> None:
    film = add_film(study, tmp_path)
    upper = UPPER[::-1] if flip_upper else UPPER
    lower = LOWER[::-1] if flip_lower else LOWER
    report = run(study, tmp_path, (upper, lower))
    assert report.ok and report.imported == 1
    (saved,) = study.measurements()
    assert saved.angle == pytest.approx(REFERENCE)  # never the opposite sign
    warned = " | ".join(str(w) for w in report.warnings)
    for flipped, name in ((flip_upper, "C2 inferior"), (flip_lower, "C7 inferior")):
        assert (f"row 2: film #{film}: {name} endplate: corners were labelled" in warned) == bool(
            flipped
        )
    assert "swapped to match the film's facing (left)" in warned


def test_lines_given_lower_first_are_stored_cranial_first_with_a_warning(
    study: Study, tmp_path: Path
) -> None:
    """A row whose 'upper' line is the lower one on the film (the CSV twin of clicking C7
    first): stored with upper = the line higher on the film, as the viewer stores it, the
    angle the hand-computed one (same sign), and one warning saying so."""
    film = add_film(study, tmp_path)
    report = run(study, tmp_path, (LOWER, UPPER))
    assert report.ok and report.imported == 1
    (saved,) = study.measurements()
    assert (saved.upper.anterior, saved.lower.anterior) == (UPPER[0], LOWER[0])
    assert saved.angle == pytest.approx(REFERENCE)
    (warning,) = [str(w) for w in report.warnings]
    assert f"film #{film}: the 'lower' line lies above the 'upper' line" in warning


def test_the_users_facing_wins_over_the_header(study: Study, tmp_path: Path) -> None:
    film = add_film(study, tmp_path)
    study.set_facing(film, "right", "user", reason="the header is wrong")
    report = run(study, tmp_path, (UPPER, LOWER))
    assert report.ok and len(report.warnings) == 2
    (saved,) = study.measurements()
    flipped = cobb_angle(UPPER[::-1], LOWER[::-1], (0.5, 0.8))
    assert saved.angle == pytest.approx(flipped) and flipped == pytest.approx(-REFERENCE)


def test_an_estimated_facing_never_rewrites_labels(study: Study, tmp_path: Path) -> None:
    film = add_film(study, tmp_path)
    study.set_facing(film, "right", "estimate", reason="estimate")
    report = run(study, tmp_path, (UPPER, LOWER), (UPPER[::-1], LOWER[::-1]))
    assert [e.row for e in report.errors] == [2]
    assert "contradict the film's estimated facing (right)" in report.errors[0].message
    assert report.imported == 1 and report.warnings == []


def test_unknown_facing_takes_labels_as_given_with_a_warning(study: Study, tmp_path: Path) -> None:
    add_film(study, tmp_path, orientation=False)
    report = run(study, tmp_path, (UPPER, LOWER))
    assert report.ok and report.imported == 1
    assert "facing is unknown" in str(report.warnings[0])
    # one line labelled the other way: 90° or more apart, refused even without a facing
    refused = run(study, tmp_path, (UPPER, LOWER[::-1]))
    assert "a Cobb angle is under 90°" in refused.errors[0].message


@pytest.mark.parametrize(
    ("upper", "lower", "message"),
    [
        (UPPER, ((100.0, 300.0), (100.0 + 1e-9, 300.0)), "C7 inferior endplate is 0.0 mm long"),
        (UPPER, UPPER, "lie on top of each other"),
        (((100.0, 100.0), (200.0, 150.0)), ((100.0, 160.0), (200.0, 120.0)), "cross between"),
        (((100.0, 100.0), (110.0, 300.0)), LOWER, "within 30° of vertical"),
    ],
)
def test_impossible_pairs_refuse_the_row(study: Study, tmp_path: Path, upper, lower, message):
    film = add_film(study, tmp_path)
    report = run(study, tmp_path, (UPPER, LOWER), (upper, lower))
    assert report.imported == 1 and [e.row for e in report.errors] == [3]
    assert str(report.errors[0]).startswith(f"row 3: film #{film}: ")
    assert message in report.errors[0].message
    assert len(study.measurements()) == 1


def test_unknown_facing_never_stores_both_signs_on_one_film(study: Study, tmp_path: Path) -> None:
    """With no facing, the labels must agree across rows and with the saved measurements."""
    film = add_film(study, tmp_path, orientation=False)
    report = run(study, tmp_path, (UPPER, LOWER), (UPPER[::-1], LOWER[::-1]))
    assert report.imported == 1 and [e.row for e in report.errors] == [3]
    assert "run the opposite way to those of row 2" in report.errors[0].message
    assert f"film #{film}" in report.errors[0].message
    # a later import is checked against the measurement saved by the first one
    mirrored = (((150.0, 110.0), (90.0, 120.0)), ((150.0, 300.0), (90.0, 280.0)))
    later = run(study, tmp_path, mirrored)
    assert later.imported == 0 and "of its saved measurements" in later.errors[0].message
    (saved,) = study.measurements()
    assert saved.angle == pytest.approx(REFERENCE)
    # once the facing is set, the other labelling is corrected instead of refused
    study.set_facing(film, "left", "user")
    fixed = run(study, tmp_path, (UPPER[::-1], LOWER[::-1]))
    assert fixed.ok and fixed.unchanged + fixed.imported == 1


def test_an_older_relative_path_reads_the_facing_from_the_study_folder(
    study: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older study stores ``films/f.dcm`` relative to the study file: the header facing is
    read there, never from a same-named file in the working folder (here one facing right,
    which would have turned the labels round and stored the opposite sign)."""
    film = add_film(study, tmp_path)
    study.engine.dispose()
    import sqlite3

    with sqlite3.connect(study.path) as conn:  # as an older version wrote it
        conn.execute("UPDATE films SET path = 'films/f.dcm', facing = NULL, facing_source = NULL"
                     " WHERE id = ?", (film,))  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "films").mkdir(parents=True)
    decoy = pydicom.dcmread(tmp_path / "films" / "f.dcm")
    decoy.PatientOrientation = ["A", "F"]  # the mirror image's: facing right
    decoy.save_as(elsewhere / "films" / "f.dcm")
    monkeypatch.chdir(elsewhere)
    with Study.open(study.path) as again:
        report = run(again, tmp_path, (UPPER[::-1], LOWER[::-1]))
        assert report.ok and report.imported == 1
        (saved,) = again.measurements()
    assert saved.angle == pytest.approx(REFERENCE)  # left, from the study's own file
    assert "swapped to match the film's facing (left)" in " | ".join(map(str, report.warnings))
