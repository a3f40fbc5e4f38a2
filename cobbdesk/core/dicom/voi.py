"""Reading the VOI attributes of a dataset: windows, VOI LUT Function and VOI LUT Sequence.

Invalid items are skipped with a notice rather than failing the film: a film with a broken
window still displays (with an automatic window), and the user is told why.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window


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
    centers = _values(ds.get("WindowCenter"))
    widths = _values(ds.get("WindowWidth"))
    explanations = _values(ds.get("WindowCenterWidthExplanation"))
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
            notices.append(f"window {index + 1} ({center}/{width}) ignored: {exc}")
    return result


def _lut_item(item: Any, index: int, notices: list[str]) -> VoiLut | None:
    try:
        entries, first, bits = (int(v) for v in item.LUTDescriptor)
        data = item.LUTData
        table = np.asarray(data if not isinstance(data, bytes) else np.frombuffer(data, "<u2"))
        entries = entries or 65536
        if table.size < entries or not 8 <= bits <= 16:
            raise ValueError(f"{table.size} values for {entries} entries of {bits} bits")
        # The first-mapped value is signed when pixel data are signed (PS3.3 C.11.2.1.1).
        first = first - 65536 if first > 32767 else first
        text = str(item.get("LUTExplanation", "") or "")
        return VoiLut(first, table[:entries].astype(np.uint16), bits, text)
    except (AttributeError, TypeError, ValueError) as exc:
        notices.append(f"VOI LUT Sequence item {index + 1} ignored: {exc}")
        return None


def voi_luts(ds: Any, notices: list[str]) -> list[VoiLut]:
    """The usable items of the VOI LUT Sequence (0028,3010)."""
    items = ds.get("VOILUTSequence") or []
    parsed = (_lut_item(item, i, notices) for i, item in enumerate(items))
    return [lut for lut in parsed if lut is not None]
