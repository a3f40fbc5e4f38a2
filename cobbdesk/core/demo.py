"""Demo films: a few synthetic lateral spine radiographs covering what the viewer must handle.

Deterministic (same files every time); used by ``cobbdesk --demo`` and the GUI tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cobbdesk.core.synth import make_lateral_spine
from cobbdesk.core.synth_dicom import write_dicom


@dataclass(frozen=True)
class DemoFilm:
    name: str
    region: Literal["cervical", "lumbar"]
    lordosis_deg: float
    photometric: Literal["MONOCHROME2", "MONOCHROME1"]
    transfer_syntax: Literal["explicit", "jpeg-lossless"]
    spacing_tag: Literal["PixelSpacing", "ImagerPixelSpacing"] | None
    facing: Literal["left", "right"]


DEMO_FILMS = (
    DemoFilm(
        "demo_cervical_lordosis.dcm",
        "cervical",
        14.0,
        "MONOCHROME2",
        "explicit",
        "PixelSpacing",
        "left",
    ),
    DemoFilm(
        "demo_cervical_kyphosis_mono1.dcm",
        "cervical",
        -8.0,
        "MONOCHROME1",
        "jpeg-lossless",
        "PixelSpacing",
        "right",
    ),
    DemoFilm(
        "demo_lumbar_lordosis.dcm",
        "lumbar",
        38.0,
        "MONOCHROME2",
        "jpeg-lossless",
        "ImagerPixelSpacing",
        "left",
    ),
    DemoFilm(
        "demo_lumbar_uncalibrated.dcm", "lumbar", 31.0, "MONOCHROME1", "explicit", None, "right"
    ),
)


def write_demo_films(folder: str | Path) -> list[Path]:
    """Write the demo films into ``folder`` (created if needed) and return their paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, demo in enumerate(DEMO_FILMS):
        spine = make_lateral_spine(demo.region, demo.lordosis_deg, facing=demo.facing, seed=index)
        paths.append(
            write_dicom(
                spine,
                target / demo.name,
                photometric=demo.photometric,
                transfer_syntax=demo.transfer_syntax,
                spacing_tag=demo.spacing_tag,
                patient_id=f"DEMO-{index + 1:03d}",
                series_description=f"Lateral {demo.region} spine (synthetic demo)",
            )
        )
    return paths
