"""Whether a CobbDesk SR was computed on the study film's pixels: a mirrored, cropped or
processed copy keeps the SOP Instance UID and the spacing, so neither the UID nor the geometry
(:mod:`~cobbdesk.core.sr.fit`) tells it from the film.

Two checks, each where it can be made:

* **Pixel hash.** CobbDesk's SR carries, in each measurement group, a TEXT "Source image pixel
  SHA-256" (:data:`~cobbdesk.core.sr.codes.PIXEL_HASH`): the SHA-256 of the decoded pixels of
  the film the angle was measured on — the study's recorded hash (taken when the film was
  first opened), else the hash of its file decoded at export
  (:func:`~cobbdesk.core.dicom.reader.read_film`, the same decoder and hash).  On import it
  must equal the study film's (its recorded hash, else its file's, decoded once per film),
  else the angle is refused.
* **Sign under the film's facing.** A CobbDesk SR states the signed angle (positive =
  lordosis) with its anterior/posterior labels.  Oriented by the study film's facing
  (:func:`~cobbdesk.core.importing.point_checks.checked_measurement`), the points of a
  mirrored copy have their labels swapped, which flips the sign: an angle whose sign differs
  from the one the SR states (both beyond 0.01°) is refused.  Needs the film's facing; OHIF
  SRs store |angle| (no sign to compare) and no hash, so neither check applies to them.
"""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset

from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.measure.facing import Facing
from cobbdesk.core.sr import codes as c
from cobbdesk.core.sr.content import code_of as _code
from cobbdesk.core.store.records import FilmRecord
from cobbdesk.core.store.study import Study

TOLERANCE_DEG = 0.01
"""Angles within this of zero have no sign to compare."""


def file_pixel_sha256(path: Path) -> str:
    """SHA-256 (64 hex digits) of the decoded pixels of the film file ``path``, as the study
    records it at first open (:attr:`~cobbdesk.core.dicom.film.Film.pixel_sha256`).  Raises
    the reader's :class:`~cobbdesk.core.errors.FilmError`."""
    from cobbdesk.core.dicom.reader import read_film

    return read_film(path).pixel_sha256


def study_pixel_sha256(study: Study, film: FilmRecord, cache: dict[int, str]) -> str:
    """The study film's pixel hash: the one recorded, else its file's (decoded once per film;
    ``cache``: film id -> hash).  Raises ValidationError naming the film when the file cannot
    be decoded."""
    if film.pixel_sha256:
        return film.pixel_sha256
    if film.id not in cache:
        path = study_film_path(study, film.path)
        try:
            cache[film.id] = file_pixel_sha256(path)
        except CobbdeskError as exc:
            raise ValidationError(None, f"film #{film.id}: its file {path.name} cannot be "
                                  f"decoded to compare its pixels with the SR's: "
                                  f"{exc.problem}") from None  # fmt: skip
    return cache[film.id]


def check_pixel_hash(stated: str, film: FilmRecord, actual: str) -> None:
    """Raise ValidationError when the SR's pixel hash ``stated`` is not ``actual``, the study
    film's (an empty ``stated``: an SR without the item, nothing to compare)."""
    if stated and stated.lower() != actual.lower():
        raise ValidationError(None, f"film #{film.id} (SOP Instance UID "
                              f"{film.sop_instance_uid}): the SR was computed on other pixels "
                              "(its source image pixel SHA-256 is not the film's): a mirrored, "
                              "cropped or processed copy with the same SOP Instance UID; the "
                              "Cobb angle was refused")  # fmt: skip


def check_sign(stated: float, angle: float, film: FilmRecord, facing: Facing | None) -> None:
    """Raise ValidationError when ``angle`` (recomputed with the film's ``facing``) and the
    signed angle the SR ``stated`` have opposite signs, both beyond :data:`TOLERANCE_DEG`
    (module docstring); nothing to check without a facing."""
    if facing is None or abs(stated) <= TOLERANCE_DEG or abs(angle) <= TOLERANCE_DEG:
        return
    if (stated > 0) != (angle > 0):
        raise ValidationError(None, f"film #{film.id}: the SR states {stated:+.2f}°, its "
                              f"points give {angle:+.2f}° with the film's facing "
                              f"({facing.value}): the SR was computed on a mirrored copy of "
                              "the film or with the other facing; the Cobb angle was refused "
                              "(check the film's facing)")  # fmt: skip


FINDING = ("121071", "DCM")
"""TID 1501 "Finding" (DCM 121071): CobbDesk writes Lordotic / Kyphotic / Straight there."""
_SIGNS = {c.LORDOSIS.value: 1.0, c.KYPHOSIS.value: -1.0, c.STRAIGHT.value: 0.0}


def stated_signed(items: list[Dataset], value: float | None) -> float | None:
    """The signed angle (degrees, positive = lordosis) a CobbDesk measurement group states
    even without its record and hash (a stripped copy, read as OHIF's): its Finding
    (:data:`FINDING`: Lordotic → +|value|, Kyphotic → −|value|, Straight → 0; ±1 when the NUM
    has no value), else the NUM ``value`` itself when the group's "Sign convention" item says
    positive = lordosis (:data:`~cobbdesk.core.sr.codes.POSITIVE_LORDOSIS`).  None when the
    group states no sign (OHIF's: |angle|).  ``items``: the group's content items."""
    codes = {_code(i, "ConceptNameCodeSequence"): _code(i, "ConceptCodeSequence")
             for i in items if i.get("ValueType") == "CODE"}  # fmt: skip
    finding = codes.get(FINDING, ("", ""))
    if finding[1] == c.PRIVATE_SCHEME and finding[0] in _SIGNS:
        return _SIGNS[finding[0]] * (1.0 if value is None else abs(value))
    convention = codes.get((c.SIGN_CONVENTION.value, c.PRIVATE_SCHEME))
    if convention == (c.POSITIVE_LORDOSIS.value, c.PRIVATE_SCHEME):
        return value
    return None


__all__ = [
    "FINDING",
    "TOLERANCE_DEG",
    "check_pixel_hash",
    "check_sign",
    "file_pixel_sha256",
    "stated_signed",
    "study_pixel_sha256",
]
