"""Reading the VOI attributes of a dataset: windows, VOI LUT Function and VOI LUT Sequence.

Invalid items are skipped with a notice rather than failing the film: a film with a broken
window still displays (with an automatic window), and the user is told why.
"""

from __future__ import annotations

from typing import Any

from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window
from cobbdesk.core.dicom.lut import read_lut


def _values(raw: Any) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str | bytes | int | float):
        return [raw]
    return list(raw)


def voi_function(ds: Any, notices: list[str]) -> VoiFunction:
    """VOI LUT Function (0028,1056); LINEAR when absent or unknown (with a notice)."""
    raw = str(ds.get("VOILUTFunction", "") or "").strip().upper()
    if not raw:
        return VoiFunction.LINEAR
    try:
        return VoiFunction(raw)
    except ValueError:
        notices.append(f"VOI LUT Function (0028,1056) {raw!r} is unknown; LINEAR used")
        return VoiFunction.LINEAR


def windows(ds: Any, function: VoiFunction, notices: list[str]) -> list[Window]:
    """All Window Center/Width pairs (0028,1050/1051) with their explanations."""
    try:
        centers = _values(ds.get("WindowCenter"))
        widths = _values(ds.get("WindowWidth"))
        explanations = _values(ds.get("WindowCenterWidthExplanation"))
    except Exception:  # a damaged DS value: the film still displays, with the auto window
        notices.append("Window Center/Width (0028,1050/1051) cannot be read; ignored")
        return []
    if len(centers) != len(widths):
        notices.append(
            f"Window Center has {len(centers)} value(s) but Window Width has {len(widths)}; "
            "only complete pairs used"
        )
    result: list[Window] = []
    for index, (center, width) in enumerate(zip(centers, widths, strict=False)):
        text = str(explanations[index]) if index < len(explanations) else ""
        try:
            result.append(Window(float(center), float(width), function, text))
        except (TypeError, ValueError) as exc:
            notices.append(f"Window Center/Width (0028,1050/1051) pair {index + 1} ignored: {exc}")
    return result


def _lut_item(
    item: Any, index: int, notices: list[str], signed_input: bool, little_endian: bool
) -> VoiLut | None:
    try:
        parsed = read_lut(item, signed_input, little_endian)
        if not 1 <= parsed.bits <= 16:
            raise ValueError(f"entries of {parsed.bits} bits")
        notices.extend(f"VOI LUT Sequence item {index + 1}: {n}" for n in parsed.notices)
        text = str(item.get("LUTExplanation", "") or "")
        return VoiLut(parsed.first_mapped, parsed.table, parsed.bits, text)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        notices.append(f"VOI LUT Sequence (0028,3010) item {index + 1} ignored: {exc}")
        return None


def voi_luts(
    ds: Any, notices: list[str], signed_input: bool = False, little_endian: bool = True
) -> list[VoiLut]:
    """The usable items of the VOI LUT Sequence (0028,3010).

    ``signed_input`` is the sign of the values the LUTs map (see :mod:`.lut`): it decides how
    the first-mapped value of each LUT Descriptor is read (PS3.3 C.11.2.1.1).
    """
    items = ds.get("VOILUTSequence") or []
    parsed = (
        _lut_item(item, i, notices, signed_input, little_endian) for i, item in enumerate(items)
    )
    return [lut for lut in parsed if lut is not None]
