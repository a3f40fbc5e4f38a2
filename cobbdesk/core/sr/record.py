"""CobbDesk's exact measurement record, as the TEXT "CobbDesk measurement record" of an SR
group carries it (:data:`~cobbdesk.core.sr.codes.RECORD`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement


def parse_record(text: str, number: int, source: Path) -> dict[str, Any]:
    """The CobbDesk record of group ``number``: a JSON object that
    :meth:`CobbMeasurement.from_dict` accepts.  Raises ValidationError naming the SR file and
    the group (never the record's text) when it is not valid JSON, not an object or has a
    field of the wrong type (e.g. ``"pixel_aspect": "2:1"``)."""
    try:
        record = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and number strings Python refuses
        raise ValidationError(source, f"group {number}: the CobbDesk measurement record is not "
                              f"valid JSON ({type(exc).__name__} at position "
                              f"{getattr(exc, 'pos', '?')})") from None  # fmt: skip
    if not isinstance(record, dict):
        raise ValidationError(source, f"group {number}: the CobbDesk measurement record is a "
                              f"JSON {type(record).__name__}, not an object")  # fmt: skip
    try:  # a CobbdeskError (incomplete record, zero-length line) refuses the group later
        CobbMeasurement.from_dict({**record, "sop_instance_uid": "", "pixel_sha256": ""})
    except CobbdeskError:
        pass
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        problem = f"field of the wrong type ({type(exc).__name__})"
        raise ValidationError(source, f"group {number}: the CobbDesk measurement record has a "
                              f"{problem}") from None  # fmt: skip
    return record


__all__ = ["parse_record"]
