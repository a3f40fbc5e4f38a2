"""The SR import's "the SR states …, the points give …" warning prints its values consistently:
signed (``+``/``-``) when the SR states a sign (CobbDesk's), magnitudes when it does not
(OHIF's |angle|), the signed angle stored named too — never an unsigned recomputed angle next
to a signed stated one (breaker 9: "the SR states -14.24°, the points give 10.44°" while
-10.44° was stored, and the difference computed between the two was 24.68°).

Angles by hand (tests/core/sr/test_sr.py): lines (100, 100)→(140, 110) and (100, 300)→(140, 290)
on square pixels, film facing left: each tilts atan(10/40), converging posteriorly: lordosis
+2·atan(1/4) = +28.0725°; both lines mirrored top to bottom, (100, 100)→(140, 90) and
(100, 300)→(140, 310), converge anteriorly: kyphosis −28.0725°."""

from __future__ import annotations

import math
from pathlib import Path

import pydicom
import pytest

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.store import Study
from tests.core.sr.ohif import ohif_cobb_sr
from tests.core.sr.test_sr import _film

ANGLE = math.degrees(2 * math.atan(1 / 4))  # 28.0724869°


def _warning(tmp_path: Path, kyphosis: bool, stated: float) -> tuple[str, float]:
    film = _film(tmp_path)
    tilt = -10 if kyphosis else 10
    points = [(100.5, 100.5), (140.5, 100.5 + tilt), (100.5, 300.5), (140.5, 300.5 - tilt)]
    sr = tmp_path / "ohif.dcm"
    ohif_cobb_sr(pydicom.dcmread(film), points, stated).save_as(sr, enforce_file_format=True)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        report = import_report(study, sr, template="C2-C7")
        (m,) = study.measurements()
    assert report.ok, report.errors
    (warning,) = [w for w in report.warnings if "states" in w]
    return warning, m.angle


def test_a_negative_ohif_value_is_compared_and_printed_as_a_magnitude(tmp_path: Path) -> None:
    warning, stored = _warning(tmp_path, True, -31.0)
    assert stored == pytest.approx(-ANGLE, abs=1e-9)
    assert (f"the SR states 31.00° (no sign), the points give {ANGLE:.2f}° (difference "
            f"{31.0 - ANGLE:.2f}°); the angle from the points is kept: -{ANGLE:.2f}° "
            "signed") in warning  # fmt: skip


def test_a_lordosis_stated_too_large_is_printed_with_its_stored_sign(tmp_path: Path) -> None:
    warning, stored = _warning(tmp_path, False, 31.0)
    assert stored == pytest.approx(ANGLE, abs=1e-9)
    assert f"states 31.00° (no sign), the points give {ANGLE:.2f}°" in warning
    assert warning.endswith(f"kept: +{ANGLE:.2f}° signed")


def test_cobbdesks_signed_value_is_printed_signed(tmp_path: Path) -> None:
    """CobbDesk's own SR (its record) states a signed angle: both printed with their signs."""
    from cobbdesk.core.sr.writer import export_sr
    from tests.core.sr.test_sr import _measure

    film = _film(tmp_path)
    with Study.create(tmp_path / "a.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        (record,) = study.films()
        study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
        (written,), _ = export_sr(study, tmp_path / "sr")
    ds = pydicom.dcmread(written.path)
    (num,) = [i for i in _walk(ds) if i.get("ValueType") == "NUM"]
    num.MeasuredValueSequence[0].NumericValue = "31"
    ds.save_as(written.path, enforce_file_format=True)
    with Study.create(tmp_path / "b.cobbdesk", actor="bob") as fresh:
        import_paths(fresh, [film])
        report = import_report(fresh, written.path)
    assert report.ok, report.errors
    assert (f"the SR states +31.00°, the points give +{ANGLE:.2f}° (difference "
            f"{31.0 - ANGLE:.2f}°)") in " ".join(report.warnings)  # fmt: skip


def _walk(item: pydicom.Dataset):  # type: ignore[no-untyped-def]
    for child in item.get("ContentSequence", []):
        yield child
        yield from _walk(child)
