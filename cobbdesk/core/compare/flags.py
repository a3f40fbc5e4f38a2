"""What the study browser flags on a film: implausible angles, stale stored angles, and
measurements whose template does not match the film's region (no Qt).

>>> from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
>>> m = CobbMeasurement("1.2", "", "C2-C7", EndplateLine((100, 130), (140, 100)),
...                     EndplateLine((100, 270), (140, 300)))        # −73.7°: kyphosis
>>> film_flags({"1.2": 7}, [m], [], {})
{7: ['−73.7° kyphosis (px, uncalibrated): outside the plausible range −40…+60° for C2–C7']}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.guards import plausibility_flag
from cobbdesk.core.measure.measurement import CobbMeasurement


def film_flags(
    film_of_uid: Mapping[str, int],
    measurements: Iterable[CobbMeasurement],
    discrepancies: Iterable[Any],
    mismatched: Mapping[int, int],
) -> dict[int, list[str]]:
    """Film id → one-line flags.  ``film_of_uid`` maps SOP Instance UID → film id;
    ``discrepancies`` are :class:`~cobbdesk.core.store.checks.AngleDiscrepancy` values
    (``film_id``, ``stored_deg``, ``recomputed_deg``); ``mismatched`` is film id → count of
    measurements whose template does not match the film's region."""
    flags: dict[int, list[str]] = {}
    for m in measurements:
        film_id = film_of_uid.get(m.sop_instance_uid)
        flag = plausibility_flag(m.template, m.angle)
        if film_id is not None and flag:
            text = angle_text(m.angle, calibrated=m.spacing is not None)
            flags.setdefault(film_id, []).append(f"{text}: {flag}")
    for d in discrepancies:
        flags.setdefault(d.film_id, []).append(
            f"stored angle {d.stored_deg:+.1f}° differs from its recomputation "
            f"{d.recomputed_deg:+.1f}°"
        )
    for film_id, count in mismatched.items():
        if count:
            flags.setdefault(film_id, []).append(
                f"{count} measurement(s) with another region's template"
            )
    return flags
