"""The in-memory film: pixels after the Modality LUT plus what display and measurement need.

Coordinate conventions (the same everywhere in CobbDesk, after highdicom ``spatial``):

* image coordinates are ``(x, y) = (column, row)``, origin at the **centre** of the
  top-left pixel, x to the right, y down;
* ``spacing_mm`` is ``(row_spacing, column_spacing)`` in millimetres, in the order of DICOM
  Pixel Spacing (0028,0030): the first value is the distance between rows (vertical), the
  second between columns (horizontal);
* ``spacing_source`` says where the spacing came from, and is ``"none"`` when the film is
  uncalibrated (then ``spacing_mm`` is ``None`` and measurements are in pixels).
"""

from __future__ import annotations

import math
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy stays out of start-up: the GUI's first paint needs no arrays
    import numpy as np
    import numpy.typing as npt


class SpacingSource(StrEnum):
    """Where a film's physical pixel size came from."""

    PIXEL_SPACING = "PixelSpacing"
    """(0028,0030): calibrated in the patient plane (or by the modality)."""
    IMAGER = "ImagerPixelSpacing"
    """(0018,1164): detector plane, so distances are magnified; angles are unaffected."""
    IMAGER_ERMF = "ImagerPixelSpacing/ERMF"
    """(0018,1164) divided by EstimatedRadiographicMagnificationFactor (0018,1114)."""
    NOMINAL_SCANNED = "NominalScannedPixelSpacing"
    """(0018,2010): the scanner's nominal spacing of a digitised film (Secondary Capture)."""
    USER = "user calibration"
    """A line the user drew over an object of known length (stored per film in the study)."""
    NONE = "none"
    """No usable spacing: measurements are in pixels and labelled so."""


class VoiFunction(StrEnum):
    """VOI LUT Function (0028,1056); LINEAR is the default when absent."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"


@dataclass(frozen=True)
class Window:
    """A VOI window in modality units (after the Modality LUT)."""

    center: float
    width: float
    function: VoiFunction = VoiFunction.LINEAR
    explanation: str = ""

    def __post_init__(self) -> None:
        """Centre and width must be finite and the width > 0, for every function.

        PS3.3 C.11.2.1.2 asks for width ≥ 1 with LINEAR, a bound meant for integer data; for
        float modality values (a rescale slope mapping the data to 0.24…0.73) a narrower window
        is the only way to show them, so any width > 0 is accepted and a LINEAR window
        narrower than 1 is evaluated with the LINEAR_EXACT formula (see ``display.voi_unit``).
        """
        if not math.isfinite(self.center) or not math.isfinite(self.width):
            raise ValueError(f"window centre/width must be finite, got {self.center}/{self.width}")
        if self.width <= 0:
            raise ValueError(f"window width must be > 0: {self.width}")


@dataclass(frozen=True)
class VoiLut:
    """One item of the VOI LUT Sequence (0028,3010): ``table[v - first_mapped]`` per value."""

    first_mapped: int
    table: npt.NDArray[np.uint16]
    bits: int
    explanation: str = ""


@dataclass
class Film:
    """A decoded radiograph ready for display and measurement.

    ``pixels`` is the 2-D array of the displayed frame after the Modality LUT (rescale
    slope/intercept or Modality LUT Sequence): an integer array when the mapping keeps values
    integral, ``float32`` otherwise.
    """

    path: Path
    pixels: npt.NDArray[np.generic]
    rows: int
    columns: int
    bits_stored: int
    bits_allocated: int
    pixel_representation: int
    photometric: str
    transfer_syntax: str
    transfer_syntax_name: str
    windows: list[Window]
    voi_luts: list[VoiLut]
    voi_function: VoiFunction
    presentation_lut_shape: str
    spacing_mm: tuple[float, float] | None
    spacing_source: SpacingSource
    digest: Future[str] | str
    """SHA-256 of the decoded pixels, computed in the background (read ``pixel_sha256``)."""
    pixel_range: tuple[float, float]
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    modality: str = ""
    body_part_examined: str = ""
    view_position: str = ""
    series_description: str = ""
    number_of_frames: int = 1
    notices: list[str] = field(default_factory=list)
    pixel_aspect: tuple[float, float] | None = None
    """Pixel Aspect Ratio (0028,0034) as ``(vertical, horizontal)`` when the film has no spacing
    and its pixels are not square: angles honour it, lengths stay in pixels."""
    padding: npt.NDArray[np.bool_] | None = None
    """Pixels that are Pixel Padding Value (0028,0120/0121), not image (None: no padding)."""
    patient_orientation: tuple[str, str] | None = None
    """Patient Orientation (0020,0020): the patient directions of the row (left → right) and
    column (top → bottom) axes, e.g. ``("A", "F")``; None when absent."""
    spacing_calibration: str = ""
    """Pixel Spacing Calibration Type (0028,0A02) and Description (0028,0A04), "" when absent;
    or how a user calibration was made (e.g. "ruler 100 mm")."""

    @property
    def pixel_sha256(self) -> str:
        """SHA-256 of the decoded stored values (the film's identity; waits for the hash)."""
        if not isinstance(self.digest, str):
            self.digest = self.digest.result()
        return self.digest

    def __getstate__(self) -> dict[str, object]:
        """Pickled (e.g. from the isolated reader's process) with the hash resolved."""
        state = dict(self.__dict__)
        state["digest"] = self.pixel_sha256
        return state

    @property
    def calibrated(self) -> bool:
        """True when distances can be given in mm."""
        return self.spacing_mm is not None

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the image in pixels, like ``numpy.shape``."""
        return (self.rows, self.columns)

    @property
    def inverted(self) -> bool:
        """True when high values must display dark: MONOCHROME1, or Presentation LUT INVERSE.

        Inversion is applied exactly once, after VOI.  The DX IOD (PS3.3 C.8.11.6.1.2) requires
        MONOCHROME1 films to carry Presentation LUT Shape INVERSE: both say the same thing, so
        they must not cancel or compound (the "double inversion" trap).
        """
        return self.photometric == "MONOCHROME1" or self.presentation_lut_shape == "INVERSE"
