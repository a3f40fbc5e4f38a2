"""Synthetic lateral spine films: exact ground truth, real edges, valid DICOM files."""

from __future__ import annotations

import math
import shutil
import subprocess
from functools import cache
from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from scipy.ndimage import map_coordinates

from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

DX_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.1"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"

# Small films keep the suite fast; the anatomy is defined in mm, so only resolution changes.
SMALL = {
    "cervical": {"rows": 700, "columns": 560, "spacing_mm": (0.45, 0.45)},
    "lumbar": {"rows": 900, "columns": 700, "spacing_mm": (0.45, 0.45)},
}
ANISO = {
    "cervical": {"rows": 800, "columns": 520, "spacing_mm": (0.4, 0.5)},
    "lumbar": {"rows": 1000, "columns": 640, "spacing_mm": (0.4, 0.5)},
}
TEMPLATE = {"cervical": ("C2_inferior", "C7_inferior"), "lumbar": ("L1_superior", "S1_superior")}


@cache
def film(
    region: str,
    lordosis: float,
    facing: str = "left",
    aniso: bool = False,
    *,
    noise: float = 0.012,
    seed: int = 0,
) -> SyntheticSpine:
    size = (ANISO if aniso else SMALL)[region]
    return make_lateral_spine(
        region,
        lordosis,
        facing=facing,
        noise=noise,
        seed=seed,  # type: ignore[arg-type]
        **size,
    )  # type: ignore[arg-type]


def _mm(point: tuple[float, float], spacing: tuple[float, float]) -> np.ndarray:
    return np.array([point[0] * spacing[1], point[1] * spacing[0]])


def independent_cobb(upper, lower, spacing) -> float:
    """Unsigned angle between the endplate directions; lordosis (+) when the lower endplate's
    anterior corner is farther from the upper line than its posterior corner."""
    ua, up = _mm(upper[0], spacing), _mm(upper[1], spacing)
    la, lp = _mm(lower[0], spacing), _mm(lower[1], spacing)
    u, v = (ua - up) / np.linalg.norm(ua - up), (la - lp) / np.linalg.norm(la - lp)
    angle = math.degrees(math.acos(float(np.clip(u @ v, -1.0, 1.0))))
    normal = np.array([-u[1], u[0]])
    gap_anterior, gap_posterior = abs((la - up) @ normal), abs((lp - up) @ normal)
    return angle if gap_anterior > gap_posterior else -angle


def test_determinism_and_seed() -> None:
    a = make_lateral_spine("cervical", 20.0, **SMALL["cervical"], seed=3)  # type: ignore[arg-type]
    b = make_lateral_spine("cervical", 20.0, **SMALL["cervical"], seed=3)  # type: ignore[arg-type]
    c = make_lateral_spine("cervical", 20.0, **SMALL["cervical"], seed=4)  # type: ignore[arg-type]
    assert a.pixels.tobytes() == b.pixels.tobytes()
    assert a.endplates == b.endplates
    assert a.pixels.tobytes() != c.pixels.tobytes()


@pytest.mark.parametrize("region", ["cervical", "lumbar"])
@pytest.mark.parametrize("lordosis", [-10.0, 0.0, 10.0, 35.0, 45.0])
@pytest.mark.parametrize("facing", ["left", "right"])
@pytest.mark.parametrize("aniso", [False, True])
def test_true_angle_equals_request(region: str, lordosis: float, facing: str, aniso: bool) -> None:
    spine = film(region, lordosis, facing, aniso)
    upper, lower = (spine.endplates[k] for k in TEMPLATE[region])
    assert spine.template == ("C2-C7" if region == "cervical" else "L1-S1")
    assert spine.true_angle_deg == pytest.approx(lordosis, abs=0.05)
    assert independent_cobb(upper, lower, spine.spacing_mm) == pytest.approx(lordosis, abs=0.05)
    geometry = pytest.importorskip("cobbdesk.core.measure.geometry")
    assert geometry.cobb_angle(upper, lower, spine.spacing_mm) == pytest.approx(lordosis, abs=0.05)


@pytest.mark.parametrize("facing", ["left", "right"])
def test_facing_puts_anterior_corner_on_the_facing_side(facing: str) -> None:
    spine = film("lumbar", 30.0, facing)
    for (xa, _), (xp, _) in spine.endplates.values():
        assert (xa < xp) if facing == "left" else (xa > xp)


def test_anisotropic_film_is_stretched_in_pixels() -> None:
    """In pixels the angle differs from the true (mm) angle: the film really is anisotropic."""
    spine = film("lumbar", 45.0, "right", True)
    upper, lower = (spine.endplates[k] for k in TEMPLATE["lumbar"])
    in_pixels = independent_cobb(upper, lower, (1.0, 1.0))
    assert abs(in_pixels - 45.0) > 1.0


def test_all_endplates_listed() -> None:
    cervical, lumbar = film("cervical", 25.0), film("lumbar", 40.0)
    for level in ("C3", "C4", "C5", "C6", "C7", "T1"):
        assert {f"{level}_superior", f"{level}_inferior"} <= set(cervical.endplates)
    assert "C2_inferior" in cervical.endplates
    for level in ("L1", "L2", "L3", "L4", "L5"):
        assert {f"{level}_superior", f"{level}_inferior"} <= set(lumbar.endplates)
    assert "S1_superior" in lumbar.endplates


def _profile(
    spine: SyntheticSpine, point: np.ndarray, inward: np.ndarray, t_mm: np.ndarray
) -> np.ndarray:
    """Image values along ``point + t * inward`` (mm), bilinear."""
    rs, cs = spine.spacing_mm
    xs = point[0] + t_mm * inward[0] / cs
    ys = point[1] + t_mm * inward[1] / rs
    return map_coordinates(spine.pixels.astype(np.float64), [ys, xs], order=1)


def _inward(name: str, line, spacing) -> np.ndarray:
    """Unit normal (mm) of an endplate pointing into its own body."""
    a, p = _mm(line[0], spacing), _mm(line[1], spacing)
    d = (a - p) / np.linalg.norm(a - p)
    normal = np.array([-d[1], d[0]])
    caudal = normal if normal[1] > 0 else -normal
    return caudal if name.endswith("_superior") else -caudal


@pytest.mark.parametrize(
    ("region", "facing", "aniso"),
    [
        ("cervical", "left", False),
        ("lumbar", "right", False),
        ("cervical", "right", True),
        ("lumbar", "left", True),
    ],
)
def test_endplates_lie_on_the_cortical_edge(region: str, facing: str, aniso: bool) -> None:
    """Inside the body (bright) vs just outside in the disc (dark), and the half-way crossing
    of the edge profile within 0.25 mm of the reported line."""
    spine = film(region, 30.0, facing, aniso, noise=0.0)
    t = np.linspace(-2.0, 2.0, 161)
    top = (1 << spine.bits_stored) - 1
    for name, line in spine.endplates.items():
        inward = _inward(name, line, spine.spacing_mm)
        for f in (0.2, 0.35, 0.5, 0.65, 0.8):
            point = np.asarray(line[0]) * (1 - f) + np.asarray(line[1]) * f
            prof = _profile(spine, point, inward, t)
            outside, inside = prof[t <= -1.2].mean(), prof[(t >= 0.5) & (t <= 1.2)].mean()
            assert inside - outside > 0.08 * top, (name, f)
            half = 0.5 * (outside + prof[(t >= 0) & (t <= 1.2)].max())
            crossing = t[np.argmax(prof > half)]
            assert abs(crossing) < 0.25, (name, f, crossing)


def test_pixel_values_respect_bits_stored() -> None:
    spine = make_lateral_spine(
        "cervical",
        20.0,
        bits_stored=10,  # type: ignore[arg-type]
        **SMALL["cervical"],
    )
    assert spine.pixels.dtype == np.uint16
    assert int(spine.pixels.max()) < 1024
    assert int(spine.pixels.max()) - int(spine.pixels.min()) > 500


@pytest.mark.parametrize(
    "kwargs",
    [
        {"region": "thoracic", "lordosis_deg": 10.0},
        {"region": "lumbar", "lordosis_deg": 95.0},
        {"region": "lumbar", "lordosis_deg": 10.0, "rows": 200, "columns": 200},
    ],
)
def test_impossible_requests_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        make_lateral_spine(**kwargs)


def _native(ds: pydicom.Dataset) -> np.ndarray:
    return np.frombuffer(ds.PixelData, "<u2").reshape(ds.Rows, ds.Columns)


def test_mono2_file(tmp_path: Path) -> None:
    spine = film("cervical", 25.0)
    ds = pydicom.dcmread(write_dicom(spine, tmp_path / "a.dcm"))
    assert ds.SOPClassUID == DX_SOP_CLASS and ds.file_meta.MediaStorageSOPClassUID == DX_SOP_CLASS
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert ds.PresentationLUTShape == "IDENTITY"
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
    assert [float(v) for v in ds.PixelSpacing] == [0.45, 0.45]
    assert "ImagerPixelSpacing" not in ds
    assert ds.BodyPartExamined == "CSPINE" and ds.ViewPosition == "LL"
    assert ds.PatientID == "SYN-0001" and ds.StudyDate == "20260101"
    assert np.array_equal(_native(ds), spine.pixels)
    low, high = float(spine.pixels.min()), float(spine.pixels.max())
    assert low < float(ds.WindowCenter) < high and 1 < float(ds.WindowWidth) <= high - low


def test_mono1_stores_inverted_values(tmp_path: Path) -> None:
    spine = film("lumbar", 40.0)
    ds = pydicom.dcmread(write_dicom(spine, tmp_path / "m1.dcm", photometric="MONOCHROME1"))
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    assert ds.PresentationLUTShape == "INVERSE"
    assert ds.BodyPartExamined == "LSPINE"
    assert np.array_equal(_native(ds), 4095 - spine.pixels.astype(np.int64))
    centre, _ = spine.default_window()
    assert float(ds.WindowCenter) == pytest.approx(4095 - centre)


def test_jpeg_lossless_round_trips(tmp_path: Path) -> None:
    spine = film("lumbar", 35.0, "right")
    path = write_dicom(spine, tmp_path / "j.dcm", transfer_syntax="jpeg-lossless")
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == JPEG_LOSSLESS_SV1
    frames = list(generate_frames(ds.PixelData, number_of_frames=1))
    assert len(frames) == 1
    assert np.array_equal(imagecodecs.jpeg8_decode(frames[0]), spine.pixels)


@pytest.mark.skipif(shutil.which("dcmdjpeg") is None, reason="DCMTK dcmdjpeg not on PATH")
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_dcmtk_accepts_jpeg_lossless(tmp_path: Path, photometric: str) -> None:
    spine = film("cervical", 30.0)
    src = write_dicom(
        spine, tmp_path / "j.dcm", transfer_syntax="jpeg-lossless", photometric=photometric
    )  # type: ignore[arg-type]
    out = tmp_path / "native.dcm"
    subprocess.run(["dcmdjpeg", str(src), str(out)], check=True, capture_output=True)
    expected = spine.pixels if photometric == "MONOCHROME2" else 4095 - spine.pixels
    assert np.array_equal(_native(pydicom.dcmread(out)), expected)


def test_uncalibrated_file_has_no_spacing(tmp_path: Path) -> None:
    ds = pydicom.dcmread(write_dicom(film("cervical", 25.0), tmp_path / "u.dcm", spacing_tag=None))
    for keyword in (
        "PixelSpacing",
        "ImagerPixelSpacing",
        "EstimatedRadiographicMagnificationFactor",
    ):
        assert keyword not in ds


def test_imager_spacing_and_ermf(tmp_path: Path) -> None:
    spine = film("lumbar", 40.0, "left", True)
    plain = pydicom.dcmread(
        write_dicom(spine, tmp_path / "i.dcm", spacing_tag="ImagerPixelSpacing")
    )
    assert "PixelSpacing" not in plain
    assert [float(v) for v in plain.ImagerPixelSpacing] == [0.4, 0.5]
    assert "EstimatedRadiographicMagnificationFactor" not in plain
    magnified = pydicom.dcmread(
        write_dicom(spine, tmp_path / "e.dcm", spacing_tag="ImagerPixelSpacing", ermf=1.2)
    )
    assert float(magnified.EstimatedRadiographicMagnificationFactor) == pytest.approx(1.2)
    detector = [float(v) for v in magnified.ImagerPixelSpacing]
    assert detector == pytest.approx([0.48, 0.6])
    assert [d / 1.2 for d in detector] == pytest.approx(list(spine.spacing_mm))


def test_files_are_deterministic_and_uids_distinct(tmp_path: Path) -> None:
    spine = film("cervical", 25.0)
    a = write_dicom(spine, tmp_path / "a.dcm", sop_instance_uid="1.2.3.4")
    b = write_dicom(spine, tmp_path / "b.dcm", sop_instance_uid="1.2.3.4")
    c = write_dicom(spine, tmp_path / "c.dcm")
    d = write_dicom(spine, tmp_path / "d.dcm", photometric="MONOCHROME1")
    assert a.read_bytes() == b.read_bytes()
    assert pydicom.dcmread(a).SOPInstanceUID == "1.2.3.4"
    ds_c, ds_d = pydicom.dcmread(c), pydicom.dcmread(d)
    assert ds_c.SOPInstanceUID != ds_d.SOPInstanceUID
    assert ds_c.StudyInstanceUID == ds_d.StudyInstanceUID
    assert c.read_bytes() == write_dicom(spine, tmp_path / "c2.dcm").read_bytes()


def test_write_options(tmp_path: Path) -> None:
    ds = pydicom.dcmread(
        write_dicom(
            film("lumbar", 40.0),
            tmp_path / "o.dcm",
            patient_id="P-9",
            patient_name="Doe^Jane",
            body_part="SPINE",
            view_position="RL",
            series_description="Demo",
            window=(1000, 500),
        )
    )
    assert (ds.PatientID, str(ds.PatientName), ds.BodyPartExamined) == ("P-9", "Doe^Jane", "SPINE")
    assert (ds.ViewPosition, ds.SeriesDescription) == ("RL", "Demo")
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (1000.0, 500.0)
    with pytest.raises(ValueError):
        write_dicom(film("lumbar", 40.0), tmp_path / "x.dcm", transfer_syntax="rle")  # type: ignore[arg-type]
