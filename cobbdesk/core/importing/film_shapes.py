"""Saved measurements checked against the pixel shape of their film's FILE.

:mod:`cobbdesk.core.store.geometry_checks` compares a film's measurements with each other and
with the shape the study recorded at import; a film holding a single wrong measurement (an SR
computed at 0.3 × 0.3 mm on a film whose file has no spacing and Pixel Aspect Ratio 2:1:
+27.90° stored, +52.13° true) agrees with itself and passes.  This module reads each measured
film's header with the import's own reader (:func:`~cobbdesk.core.importing.scan.read_header`,
so spacing and Pixel Aspect Ratio are read exactly as at import) and computes the file's pixel
shape (height:width) by the same rule as a measurement's
(:func:`~cobbdesk.core.store.geometry_checks.measurement_shape`):

* ``row_mm / col_mm`` of the header's spacing (PS3.3 C.7.6.3.1.7 / C.8.17.11 row × column);
* else Pixel Aspect Ratio (0028,0034) ``vertical / horizontal``;
* else 1 (square pixels).

Every live measurement from the file (user calibrations left out) whose shape differs from
the file's (relative :data:`~cobbdesk.core.store.geometry_checks.SHAPE_RELATIVE_TOLERANCE`)
is reported: the same points give another angle on the real pixels.  Films whose file is
missing or unreadable are listed as not checked; photos (JPEG/PNG/TIFF: no DICOM header) are
not checked here.  Reports name the patient by the pseudonymous study ID only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cobbdesk.core.dicom.photo import image_format
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.importing.header_fields import HeaderInfo
from cobbdesk.core.importing.relink import spacing_element
from cobbdesk.core.importing.scan import read_header
from cobbdesk.core.store.calibration import film_shape
from cobbdesk.core.store.geometry_checks import (
    measured_rows,
    measurement_shape,
    same_shape,
)
from cobbdesk.core.store.ordering import by_study_id
from cobbdesk.core.store.study import Study


@dataclass(frozen=True)
class FileShapeDisagreement:
    """A measurement computed with another pixel shape than its film's file has.

    ``shape``/``file_shape``: height:width as one number; ``how``/``file_how``: the values
    and the element they came from."""

    study_id: str
    film_id: int
    sop_instance_uid: str
    measurement_id: str
    rater: str
    shape: float
    how: str
    file_shape: float
    file_how: str

    def describe(self) -> str:
        """One line without patient identifiers."""
        return (
            f"{self.study_id} film #{self.film_id} ({self.sop_instance_uid}): measurement "
            f"{self.measurement_id} by {self.rater} was computed with pixel shape "
            f"{self.shape:.4g}:1 from {self.how}, but the film's file has {self.file_shape:.4g}:1 "
            f"from {self.file_how}; its angle is wrong: re-measure the film from its own file"
        )


@dataclass(frozen=True)
class FileShapes:
    """The result: ``disagreements`` (errors) and the ``not_checked`` film numbers whose
    file is missing or unreadable (warnings)."""

    disagreements: tuple[FileShapeDisagreement, ...]
    not_checked: tuple[int, ...]


def file_shape(header: HeaderInfo) -> tuple[float, str]:
    """(height/width, the values and element) of a film file's pixels: the shape of
    :func:`~cobbdesk.core.store.calibration.film_shape` (module rules)."""
    shape = film_shape(header)
    if shape is None:
        return 1.0, "no spacing and no Pixel Aspect Ratio (0028,0034): square pixels"
    vertical, horizontal = shape
    if shape == header.spacing_mm:
        element = spacing_element(header.spacing_source)
        return vertical / horizontal, f"{element} {vertical:g} × {horizontal:g} mm"
    return vertical / horizontal, (
        f"Pixel Aspect Ratio (0028,0034) {vertical:g}:{horizontal:g}, no spacing"
    )


def file_shape_disagreements(
    study: Study, measured: list[dict[str, Any]] | None = None
) -> FileShapes:
    """Every live measurement (not a user calibration) of a live film whose pixel shape
    differs from its film file's, in natural study-ID order, and the films whose file is
    missing or unreadable.  Reads each measured film's header once; never raises for a file
    (raises the store's errors)."""
    by_film: dict[int, list[dict[str, Any]]] = {}
    for row in measured_rows(study) if measured is None else measured:
        if measurement_shape(row) is not None:
            by_film.setdefault(int(row["film_id"]), []).append(row)
    found: list[FileShapeDisagreement] = []
    missing: list[int] = []
    for film_id, rows in by_film.items():
        path = study_film_path(study, str(rows[0]["path"]))
        if image_format(path) is not None:
            continue  # a photo: no DICOM pixel shape to compare with
        header = read_header(path) if path.is_file() else None
        if not isinstance(header, HeaderInfo):
            missing.append(film_id)
            continue
        found.extend(_against(film_id, rows, file_shape(header)))
    return FileShapes(tuple(by_study_id(found, lambda d: d.study_id)), tuple(missing))


def _against(
    film_id: int, rows: list[dict[str, Any]], file: tuple[float, str]
) -> list[FileShapeDisagreement]:
    """The measurements of one film whose shape is not the file's."""
    found = []
    for row in rows:
        known = measurement_shape(row)  # not None: the caller left user calibrations out
        if known is None or same_shape(known[0], file[0]):
            continue
        found.append(FileShapeDisagreement(
            str(row["study_id"]), film_id, str(row["sop_instance_uid"]), str(row["id"]),
            str(row["rater"]), known[0], known[1], file[0], file[1],
        ))  # fmt: skip
    return found


__all__ = ["FileShapeDisagreement", "FileShapes", "file_shape", "file_shape_disagreements"]
