"""CobbDesk's own message and UI words: never matched alone as a name part.

A patient named ``Patient^Zero`` or ``Study^Ann`` must not turn "Patient ID" into
"[redacted] ID": a single word of :data:`VOCABULARY` is not matched on its own (the whole name,
its other orders and every other word still are).  Each word appears in the program's own
text (a test checks it).  The cost, accepted: a vocabulary word that *is* one part of a
patient's name is not hidden when it stands alone.
"""

from __future__ import annotations

_VOCABULARY_TEXT = """
    about above access add added admission after again age all already also and angle angles
    another anterior any are audit auto background backup before both but calibrate
    calibrated calibration can cancel cancelled cannot case cervical change changed changes
    check checking class click closed cobb cobbdesk column columns complete computed
    conflict consensus copy could count create created csv current data database date dates
    day days default delete deleted demo derived dicom differ differs does done drag each
    edit empty end error exact expected export exported failed field file files film films
    first flag flagged folder for found free from full given has have header image import
    imported inside instance its json kept kind known lab label labels labs last lateral
    left length line lines list load loading log lumbar measure measured measurement
    measurements message missing month months more move moved must name names need needs
    new next none not nothing now null number numbers off old one only open opened opening
    order other outside own patient patients per pixel pixels plan plans point points
    posterior print range read reading readings reason record recorded region removed
    report rater raters right round rounds row rows same save saved scan select series
    server session set shown side sign signed size skip skipped some source spacing spine
    start state status stats still stored studies study table template test text than that
    the their them then there this too total true two type uid uids unknown update updated
    upper use used user value values version view visit visits was when which whose with
    without write written wrong yes zero
"""
VOCABULARY = frozenset(_VOCABULARY_TEXT.split())
"""CobbDesk's own message and UI words: never matched alone as a name part (module rules)."""
