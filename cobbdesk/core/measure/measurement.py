"""The measurement model: frozen, validated values that the study database persists unchanged.

A :class:`CobbMeasurement` stores the clicked (or snapped) endplate points, never the angle:
:attr:`CobbMeasurement.angle` is recomputed from the points by
:func:`~cobbdesk.core.measure.geometry.cobb_angle` every time, so an angle can never
disagree with the points it came from.

>>> m = CobbMeasurement(
...     sop_instance_uid="1.2.3", pixel_sha256="", template="C2-C7",
...     upper=EndplateLine((100, 100), (140, 110)), lower=EndplateLine((100, 300), (140, 290)),
...     spacing=None, rater="ab")
>>> m.template, round(m.angle, 2), m.units
(<Template.C2_C7: 'C2-C7'>, 28.07, 'pixel-based; uncalibrated')
>>> CobbMeasurement.from_dict(m.to_dict()) == m
True
>>> m.template.prompts[0]
'C2 inferior endplate: click the anterior corner'
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.geometry import Point, cobb_angle, validate_line

ALGORITHM_VERSION = "cobbdesk-cobb-1"
"""Identifies the angle construction; bump if :func:`cobb_angle` ever changes meaning."""
CONVENTION = "positive = lordosis (endplate lines converge posteriorly); negative = kyphosis"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Template(StrEnum):
    """Which endplates a measurement uses."""

    C2_C7 = "C2-C7"
    """Inferior endplate of C2 to inferior endplate of C7."""
    L1_S1 = "L1-S1"
    """Superior endplate of L1 to superior endplate of S1."""
    FREE = "FREE"
    """Any two lines."""

    @property
    def levels(self) -> tuple[str, str]:
        """Labels of the upper and lower endplates."""
        return _LEVELS[self]

    @property
    def bone_sides(self) -> tuple[str | None, str | None]:
        """Where the vertebral body lies relative to each line ("above"/"below"/None)."""
        return _BONE_SIDES[self]

    @property
    def prompts(self) -> tuple[str, str, str, str]:
        """Guided prompt for each of the four clicks, in click order."""
        upper, lower = self.levels
        return (
            f"{upper}: click the anterior corner",
            f"{upper}: click the posterior corner",
            f"{lower}: click the anterior corner",
            f"{lower}: click the posterior corner",
        )


_LEVELS = {
    Template.C2_C7: ("C2 inferior endplate", "C7 inferior endplate"),
    Template.L1_S1: ("L1 superior endplate", "S1 superior endplate"),
    Template.FREE: ("Upper line", "Lower line"),
}
_BONE_SIDES: dict[Template, tuple[str | None, str | None]] = {
    Template.C2_C7: ("above", "above"),
    Template.L1_S1: ("below", "below"),
    Template.FREE: (None, None),
}


class PointName(StrEnum):
    """The four handles of a measurement."""

    UPPER_ANTERIOR = "upper.anterior"
    UPPER_POSTERIOR = "upper.posterior"
    LOWER_ANTERIOR = "lower.anterior"
    LOWER_POSTERIOR = "lower.posterior"

    @property
    def line(self) -> LineName:
        """The line this handle belongs to (:attr:`LineName.UPPER` or :attr:`LineName.LOWER`)."""
        return LineName(self.value.split(".")[0])

    @property
    def end(self) -> str:
        """``"anterior"`` or ``"posterior"``."""
        return self.value.split(".")[1]

    @property
    def partner(self) -> PointName:
        """The other end of the same line."""
        other = "posterior" if self.end == "anterior" else "anterior"
        return PointName(f"{self.line.value}.{other}")


class LineName(StrEnum):
    """The two endplate lines of a measurement: ``"upper"`` and ``"lower"``."""

    UPPER = "upper"
    LOWER = "lower"


def utc_now() -> str:
    """The current UTC time as ISO 8601 with offset, to the microsecond."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    """A fresh random measurement id: a UUID4 as 36-character text."""
    return str(uuid.uuid4())


def _point(value: Any, name: str) -> Point:
    try:
        x, y = value
        point = (float(x), float(y))
    except (TypeError, ValueError) as exc:
        raise ValidationError(None, f"{name} must be an (x, y) pair, got {value!r}") from exc
    return point


def _iso_utc(value: str, name: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(None, f"{name} must be an ISO 8601 time, got {value!r}") from exc
    if parsed.utcoffset() is None:
        raise ValidationError(None, f"{name} must carry a UTC offset, got {value!r}")
    return value


@dataclass(frozen=True)
class EndplateLine:
    """An endplate: its anterior and posterior corners in image coordinates (px)."""

    anterior: Point
    posterior: Point

    def __post_init__(self) -> None:
        object.__setattr__(self, "anterior", _point(self.anterior, "anterior point"))
        object.__setattr__(self, "posterior", _point(self.posterior, "posterior point"))

    def as_tuple(self) -> tuple[Point, Point]:
        """``(anterior, posterior)``, each an (x, y) point in px."""
        return (self.anterior, self.posterior)

    def translated(self, dx: float, dy: float) -> EndplateLine:
        """A copy shifted by ``dx`` px along x (columns) and ``dy`` px along y (rows).

        >>> EndplateLine((1, 2), (5, 2)).translated(1, -2)
        EndplateLine(anterior=(2.0, 0.0), posterior=(6.0, 0.0))
        """
        (ax, ay), (px, py) = self.anterior, self.posterior
        return EndplateLine((ax + dx, ay + dy), (px + dx, py + dy))


@dataclass(frozen=True)
class CobbMeasurement:
    """One signed Cobb measurement on one film.

    Validated at construction: ``template`` and ``spacing_source`` accept their string values;
    both lines must have non-zero length; ``spacing`` is None exactly when the source is
    ``"none"``.  Raises :class:`ValidationError` (or :class:`GeometryError` for the lines).
    """

    sop_instance_uid: str
    pixel_sha256: str
    template: Template
    upper: EndplateLine
    lower: EndplateLine
    spacing: tuple[float, float] | None = None
    spacing_source: SpacingSource = SpacingSource.NONE
    rater: str = ""
    id: str = field(default_factory=new_id)
    created_utc: str = field(default_factory=utc_now)
    updated_utc: str = ""
    algorithm_version: str = ALGORITHM_VERSION
    pixel_aspect: tuple[float, float] | None = None
    """``(vertical, horizontal)`` pixel shape of an uncalibrated film (Pixel Aspect Ratio): the
    angle honours it while lengths stay in pixels.  None for square pixels or calibrated films."""
    upper_snapped: bool = False
    """True when the upper line's points were moved by endplate snapping."""
    lower_snapped: bool = False
    """True when the lower line's points were moved by endplate snapping."""

    def __post_init__(self) -> None:
        setter = object.__setattr__
        try:
            setter(self, "template", Template(self.template))
            setter(self, "spacing_source", SpacingSource(self.spacing_source))
        except ValueError as exc:
            raise ValidationError(None, str(exc)) from exc
        for name in ("sop_instance_uid", "pixel_sha256", "rater", "id", "algorithm_version"):
            if not isinstance(getattr(self, name), str):
                raise ValidationError(None, f"{name} must be a string")
        if not self.id:
            raise ValidationError(None, "measurement id must not be empty")
        if self.pixel_sha256 and not _SHA256.fullmatch(self.pixel_sha256):
            raise ValidationError(None, "pixel_sha256 must be 64 lowercase hex digits")
        self._check_spacing()
        self._check_aspect()
        for name in ("upper", "lower"):
            line = getattr(self, name)
            if not isinstance(line, EndplateLine):
                raise ValidationError(None, f"{name} must be an EndplateLine, got {line!r}")
            validate_line(line.as_tuple(), f"{self.template.levels[name == 'lower']} line")
        setter(self, "updated_utc", self.updated_utc or self.created_utc)
        _iso_utc(self.created_utc, "created_utc")
        _iso_utc(self.updated_utc, "updated_utc")

    def _check_spacing(self) -> None:
        spacing = self.spacing
        if spacing is not None:
            row, col = _point(spacing, "spacing")
            if not (row > 0 and col > 0 and row < float("inf") and col < float("inf")):
                raise ValidationError(None, f"spacing must be positive mm values: {spacing}")
            object.__setattr__(self, "spacing", (row, col))
        if (spacing is None) != (self.spacing_source is SpacingSource.NONE):
            raise ValidationError(
                None, f"spacing {spacing} contradicts spacing_source {self.spacing_source.value!r}"
            )

    def _check_aspect(self) -> None:
        aspect = self.pixel_aspect
        if aspect is None:
            return
        row, col = _point(aspect, "pixel_aspect")
        if not (0 < row < float("inf") and 0 < col < float("inf")):
            raise ValidationError(None, f"pixel_aspect must be two positive numbers: {aspect}")
        if self.spacing is not None:
            raise ValidationError(None, "pixel_aspect is only for films without a spacing")
        object.__setattr__(self, "pixel_aspect", None if row == col else (row, col))

    @property
    def angle_spacing(self) -> tuple[float, float] | None:
        """The spacing the angle is computed with: mm, else the pixel aspect ratio, else None."""
        return self.spacing if self.spacing is not None else self.pixel_aspect

    @property
    def angle(self) -> float:
        """Signed Cobb angle in degrees, recomputed from the points (positive = lordosis)."""
        return cobb_angle(self.upper.as_tuple(), self.lower.as_tuple(), self.angle_spacing)

    @property
    def units(self) -> str:
        """``"mm-based"`` when the film has a spacing, else ``"pixel-based; uncalibrated"``."""
        return "mm-based" if self.spacing is not None else "pixel-based; uncalibrated"

    @property
    def convention(self) -> str:
        """The sign convention text (:data:`CONVENTION`: positive = lordosis)."""
        return CONVENTION

    def line(self, name: LineName | str) -> EndplateLine:
        """The upper or lower :class:`EndplateLine` (``ValueError`` for another name)."""
        return self.upper if LineName(name) is LineName.UPPER else self.lower

    def point(self, which: PointName | str) -> Point:
        """One handle's (x, y) image point in px (``ValueError`` for an unknown name)."""
        which = PointName(which)
        return getattr(self.line(which.line), which.end)  # type: ignore[no-any-return]

    def with_lines(self, upper: EndplateLine, lower: EndplateLine) -> CobbMeasurement:
        """A copy with new lines and a fresh ``updated_utc``."""
        return replace(self, upper=upper, lower=lower, updated_utc=utc_now())

    def with_point(self, which: PointName | str, point: Point) -> CobbMeasurement:
        """A copy with one handle moved by hand (that line is no longer snapped)."""
        which = PointName(which)
        line = replace(self.line(which.line), **{which.end: point})
        if which.line is LineName.UPPER:
            return replace(self.with_lines(line, self.lower), upper_snapped=False)
        return replace(self.with_lines(self.upper, line), lower_snapped=False)

    def with_line_moved(self, name: LineName | str, dx: float, dy: float) -> CobbMeasurement:
        """A copy with one line shifted by hand (that line is no longer snapped)."""
        if LineName(name) is LineName.UPPER:
            moved = self.with_lines(self.upper.translated(dx, dy), self.lower)
            return replace(moved, upper_snapped=False)
        moved = self.with_lines(self.upper, self.lower.translated(dx, dy))
        return replace(moved, lower_snapped=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; ``angle_deg``/``units``/``convention`` are informative only."""
        return {
            "id": self.id,
            "sop_instance_uid": self.sop_instance_uid,
            "pixel_sha256": self.pixel_sha256,
            "template": self.template.value,
            "upper": {"anterior": list(self.upper.anterior),
                      "posterior": list(self.upper.posterior)},
            "lower": {"anterior": list(self.lower.anterior),
                      "posterior": list(self.lower.posterior)},
            "spacing": None if self.spacing is None else list(self.spacing),
            "spacing_source": self.spacing_source.value,
            "rater": self.rater,
            "created_utc": self.created_utc,
            "updated_utc": self.updated_utc,
            "algorithm_version": self.algorithm_version,
            "pixel_aspect": None if self.pixel_aspect is None else list(self.pixel_aspect),
            "upper_snapped": self.upper_snapped,
            "lower_snapped": self.lower_snapped,
            "angle_deg": self.angle,
            "units": self.units,
            "convention": self.convention,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CobbMeasurement:
        """Inverse of :meth:`to_dict`; raises :class:`ValidationError` on missing keys."""
        try:
            spacing = data["spacing"]
            return cls(
                id=data["id"],
                sop_instance_uid=data["sop_instance_uid"],
                pixel_sha256=data["pixel_sha256"],
                template=data["template"],
                upper=EndplateLine(data["upper"]["anterior"], data["upper"]["posterior"]),
                lower=EndplateLine(data["lower"]["anterior"], data["lower"]["posterior"]),
                spacing=None if spacing is None else (spacing[0], spacing[1]),
                spacing_source=data["spacing_source"],
                rater=data["rater"],
                created_utc=data["created_utc"],
                updated_utc=data["updated_utc"],
                algorithm_version=data["algorithm_version"],
                pixel_aspect=_optional_pair(data.get("pixel_aspect")),
                upper_snapped=bool(data.get("upper_snapped", False)),
                lower_snapped=bool(data.get("lower_snapped", False)),
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise ValidationError(None, f"measurement record is incomplete: {exc!r}") from exc


def _optional_pair(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    return (float(value[0]), float(value[1]))
