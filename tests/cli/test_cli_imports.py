"""What each subcommand imports: a fresh process pays for every heavy library it loads.

Each case runs one ``cobbdesk`` command in a fresh interpreter on a tiny study and lists the
heavy modules in ``sys.modules`` afterwards.  The lists guard the lazy imports: a plain export
loads neither scipy nor matplotlib nor Qt, a wide export (with or without ``--stats-json``) no
pandas (issue #17: its numpy path), ``inspect`` no database or table library, and a
mistyped subcommand or ``--help`` nothing heavy at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cobbdesk.core.store import Study

HEAVY = ("scipy", "scipy.stats", "scipy.special", "matplotlib", "PySide6", "cv2", "pandas",
         "pydicom", "openpyxl", "pyreadstat", "sqlalchemy", "numpy")  # fmt: skip

PROBE = """
import contextlib, io, json, sys
from cobbdesk.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        status = main(sys.argv[2:])
    except SystemExit as exit_:
        status = exit_.code
print(json.dumps([status, [m for m in json.loads(sys.argv[1]) if m in sys.modules]]))
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cobbdesk.synth.dicom import write_dicom
    from cobbdesk.synth.spine import make_lateral_spine

    base = tmp_path_factory.mktemp("imports")
    with Study.create(base / "tiny.cobbdesk", actor="test") as study:
        patient = study.add_patient("P001", sex="F")
        study.add_visit(patient, "admission", visit_date="20260105")
    spine = make_lateral_spine("cervical", 20.0, rows=200, columns=160, spacing_mm=(0.6, 0.6))
    write_dicom(spine, base / "film.dcm")
    (base / "labs.csv").write_text("study_id,visit,vas\nP001,admission,3\n", encoding="utf-8")
    return base


def loaded(folder: Path, args: list[str]) -> tuple[int, set[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *args],
        check=True, cwd=folder, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return int(status), set(modules)


# (command, heavy modules it must NOT load)
CASES = [
    (["export", "tiny.cobbdesk", "--format", "wide", "-o", "w.csv"],
     {"scipy", "matplotlib", "PySide6", "cv2", "pydicom", "openpyxl", "pyreadstat", "pandas"}),
    (["export", "tiny.cobbdesk", "--format", "wide", "-o", "w2.csv", "--stats-json", "w2.json"],
     {"scipy.stats", "matplotlib", "PySide6", "cv2", "pydicom", "openpyxl", "pyreadstat",
      "pandas"}),
    (["export", "tiny.cobbdesk", "--format", "long", "-o", "l.csv", "--stats-json", "s.json"],
     {"scipy.stats", "matplotlib", "PySide6", "cv2", "pydicom", "openpyxl", "pyreadstat"}),
    (["stats", "tiny.cobbdesk", "--json"], {"scipy.stats", "matplotlib", "PySide6", "cv2"}),
    (["inspect", "film.dcm"], {"sqlalchemy", "pandas", "scipy", "matplotlib", "PySide6"}),
    (["verify", "tiny.cobbdesk"], {"pandas", "scipy", "matplotlib", "PySide6", "cv2"}),
    (["film", "tiny.cobbdesk", "--list"], {"pandas", "scipy", "matplotlib", "PySide6", "cv2"}),
    (["import", "tiny.cobbdesk", "film.dcm"], {"pandas", "scipy", "matplotlib", "PySide6"}),
    (["labs", "tiny.cobbdesk", "labs.csv"], {"scipy", "matplotlib", "PySide6", "cv2"}),
    (["stat"], set(HEAVY)),
    (["--help"], set(HEAVY)),
]  # fmt: skip


@pytest.mark.parametrize(("args", "forbidden"), CASES, ids=[" ".join(a[:4]) for a, _ in CASES])
def test_subcommand_loads_only_what_it_needs(
    folder: Path, args: list[str], forbidden: set[str]
) -> None:
    status, modules = loaded(folder, args)
    assert status in (0, 2), (args, status)
    assert not modules & forbidden, f"{' '.join(args)} loaded {sorted(modules & forbidden)}"


def test_statistics_compute_without_scipy_stats(folder: Path, tmp_path: Path) -> None:
    """A study with enough pairs for every test: p values come from scipy.special only."""
    path = tmp_path / "pairs.cobbdesk"
    with Study.create(path, actor="test") as study:
        for n in range(12):
            pid = study.add_patient(f"S{n:03d}")
            for kind, vas in (("admission", 3 + n % 5), ("month3", 2 + n % 3)):
                visit = study.add_visit(pid, kind)
                study.set_labs(visit, {"vas": float(vas), "crp": float(5 + (n * 7) % 11)})
    status, modules = loaded(folder, ["stats", str(path), "--json"])
    assert status == 0
    assert "scipy.special" in modules  # the statistics did run
    assert "scipy.stats" not in modules


def test_wide_export_statistics_compute_without_pandas(folder: Path, tmp_path: Path) -> None:
    """``export --format wide --stats-json`` on a study with pairs and two raters: the
    statistics run (scipy.special) from numpy columns, with neither pandas nor scipy.stats."""
    from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine

    path = tmp_path / "pairs.cobbdesk"
    with Study.create(path, actor="test") as study:
        for n in range(12):
            pid = study.add_patient(f"S{n:03d}", birth_date="1970-01-01")
            for kind, vas in (("admission", 3 + n % 5), ("month3", 2 + n % 3)):
                visit = study.add_visit(pid, kind, visit_date="2026-01-10")
                study.set_labs(visit, {"vas": float(vas), "crp": float(5 + (n * 7) % 11)})
                film = study.add_film(visit, sop_instance_uid=f"1.2.{n}.{kind}",
                                      path=f"/f/{n}{kind}.dcm", region="cervical")  # fmt: skip
                for rater, tilt in (("A", 0.0), ("B", 4.0)):
                    lower = EndplateLine((100.0, 400.0), (300.0, 420.0 + n + tilt + vas))
                    study.save_measurement(film, CobbMeasurement(
                        sop_instance_uid=f"1.2.{n}.{kind}", pixel_sha256="", template="C2-C7",
                        upper=EndplateLine((100.0, 100.0), (300.0, 100.0)), lower=lower,
                        spacing=(0.15, 0.15), spacing_source="PixelSpacing", rater=rater))
    out = tmp_path / "w.csv"
    status, modules = loaded(folder, ["export", str(path), "--format", "wide", "-o", str(out),
                                      "--stats-json", str(tmp_path / "s.json")])  # fmt: skip
    assert status == 0
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert data["wilcoxon"][0]["computable"] and data["icc"]  # the statistics did run
    assert "scipy.special" in modules
    assert not modules & {"pandas", "scipy.stats"}
