"""``cobbdesk selftest``: prove an installation works end to end, headless, in a few seconds.

Writes a synthetic JPEG-lossless lateral cervical film, reads it back through the real loader
(decoder plugin included), renders it, measures C2–C7 from the film's known endplates, checks
the signed angle against the truth, exports the measurement as CSV, and reports each step.
Used by the frozen-bundle smoke test, and useful to a hospital IT department after installing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

#: Largest accepted difference between the measured and the designed angle, in degrees.
TOLERANCE_DEG = 0.01


def run_selftest(
    output: Path | None = None, report: Callable[[str], None] = lambda _: None
) -> Path:
    """Run every step; return the CSV written.  Raises on the first failing step."""
    from cobbdesk.core.dicom.display import render_film
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
    from cobbdesk.core.measure.measurement_files import write_measurements_csv
    from cobbdesk.synth.dicom import write_dicom
    from cobbdesk.synth.spine import make_lateral_spine

    folder = output or Path(tempfile.mkdtemp(prefix="cobbdesk-selftest-"))
    folder.mkdir(parents=True, exist_ok=True)
    spine = make_lateral_spine("cervical", 17.5, rows=900, columns=720, spacing_mm=(0.3, 0.3))
    path = write_dicom(spine, folder / "selftest.dcm", transfer_syntax="jpeg-lossless")
    report(f"wrote {path.name} (JPEG lossless)")
    film = read_film(path)
    image = render_film(film, max_size=256)
    report(f"read {film.rows}×{film.columns} {film.transfer_syntax_name}; rendered {image.shape}")
    upper, lower = spine.template_endplates
    m = CobbMeasurement(
        sop_instance_uid=film.sop_instance_uid,
        pixel_sha256=film.pixel_sha256,
        template=Template.C2_C7,
        upper=EndplateLine(*upper),
        lower=EndplateLine(*lower),
        spacing=film.spacing_mm,
        spacing_source=film.spacing_source,
        rater="selftest",
    )
    if abs(m.angle - spine.true_angle_deg) > TOLERANCE_DEG:
        raise RuntimeError(
            f"measured {m.angle:.4f}° but the film was made with {spine.true_angle_deg:.4f}°"
        )
    report(f"measured C2–C7 {m.angle:+.2f}° (designed {spine.true_angle_deg:+.2f}°)")
    csv_path = write_measurements_csv([m], folder / "selftest.csv")
    report(f"exported {csv_path}")
    return csv_path
