"""Cobb angles as DICOM Structured Reports (TID 1500 Measurement Report), both directions.

:mod:`~cobbdesk.core.sr.writer` writes one Comprehensive SR per film and rater into a folder
(:mod:`~cobbdesk.core.sr.outputs`: which names it may take, the moves, no folder left behind);
:mod:`~cobbdesk.core.sr.reader` reads CobbDesk's own SRs and OHIF/cornerstone Cobb-angle SRs
back into measurements, checking each against the study film: its geometry
(:mod:`~cobbdesk.core.sr.fit`), its pixels (:mod:`~cobbdesk.core.sr.pixels`) and, for OHIF
angles, the template the user names (:mod:`~cobbdesk.core.sr.template`).
:mod:`~cobbdesk.core.sr.codes` holds the coded concepts and the coordinate conversion shared
by both.
"""
