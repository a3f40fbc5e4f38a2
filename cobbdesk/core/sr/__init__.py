"""Cobb angles as DICOM Structured Reports (TID 1500 Measurement Report), both directions.

:mod:`~cobbdesk.core.sr.writer` writes one Comprehensive SR per film and rater;
:mod:`~cobbdesk.core.sr.reader` reads CobbDesk's own SRs and OHIF/cornerstone Cobb-angle SRs
back into measurements.  :mod:`~cobbdesk.core.sr.codes` holds the coded concepts and the
coordinate conversion shared by both.
"""
