"""The cobbdesk command: inspect and render."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from cobbdesk.cli import main


def _film(factory: Callable[..., Path]) -> Path:
    pixels = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (64, 1))
    return factory(pixels, bits_stored=12, WindowCenter="2048", WindowWidth="4096")


def test_inspect_json_reports_ok_and_errors(
    dicom_factory: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _film(dicom_factory)
    bad = tmp_path / "notes.txt"
    bad.write_text("not a film")
    code = main(["inspect", str(good), str(bad), "--json"])
    out, err = capsys.readouterr()
    records = json.loads(out)
    assert code == 1
    assert records[0]["ok"] and records[0]["rows"] == 64 and records[0]["columns"] == 256
    assert records[0]["spacing_mm"] == [0.15, 0.15]
    assert records[0]["spacing_source"] == "PixelSpacing"
    assert records[0]["window"] == {
        "center": 2048,
        "width": 4096,
        "function": "LINEAR",
        "source": "file",
    }
    assert records[1] == {"file": str(bad), "ok": False, "error": records[1]["error"]}
    assert err.strip().splitlines() == [f"cobbdesk: error: {records[1]['error']}"]
    assert "Synthetic" not in out, "inspect must not print patient names"


def test_inspect_text_exit_zero(
    dicom_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(_film(dicom_factory))]) == 0
    assert ": ok 64×256 12-bit MONOCHROME2" in capsys.readouterr().out


@pytest.mark.shared
def test_inspect_text_shows_a_non_square_pixel_aspect(
    shared_data: Path, dicom_factory: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The field case's Pixel Aspect Ratio 2\\1 (no spacing) is on the text line, since
    angles honour it; a square-pixel film says nothing about its aspect."""
    film = shared_data / "field-cases/pixel_aspect_2to1_no_spacing.dcm"
    assert main(["inspect", str(film), str(_film(dicom_factory))]) == 0
    shaped, square = capsys.readouterr().out.splitlines()
    assert shaped.endswith("spacing uncalibrated (px) [none]; pixel aspect 2:1 (row:column; "
                           "angles use it)")  # fmt: skip
    assert "pixel aspect" not in square


def test_render_window_and_max_size(dicom_factory: Callable[..., Path], tmp_path: Path) -> None:
    out = tmp_path / "film.png"
    assert (
        main(
            [
                "render",
                str(_film(dicom_factory)),
                "-o",
                str(out),
                "--window",
                "1024",
                "1024",
                "--max-size",
                "128",
            ]
        )
        == 0
    )
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image.shape == (32, 128) and image.dtype == np.uint8
    # value = 16 × column: ≤ 512 (column ≤ 32, i.e. ≤ 16 after halving) is black, ≥ 1536 white
    assert image[:, :15].max() == 0 and image[:, 49:].min() == 255


def test_render_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "absent.dcm"), "-o", str(tmp_path / "x.png")]) == 1
    assert capsys.readouterr().err == "cobbdesk: error: absent.dcm: no such file\n"


def test_python_dash_m_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cobbdesk", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("cobbdesk ")
