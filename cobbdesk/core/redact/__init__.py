"""Keep patient identifiers out of logs, error dialogs and stderr: one redaction boundary.

Every text that leaves the program for a log file, a dialog's message or detail, or the
command line's stderr or stdout (a film named by its file) passes :func:`redact`, which
replaces with ``[redacted]``:

1. *known identifiers*: each value :func:`remember` was given — the name, MRN, birth date
   and hospital patient ID of every patient of each study opened (:meth:`Study.open`) or
   written (``add_patient``/``update_patient``, before the write, so a failed write is
   covered).  Both the values and the text are compared in one spelling: Unicode NFKC,
   casefolded, without default ignorable characters (``ＭＲＮ４４５５６６７`` is ``mrn4455667``,
   ``J\u200bane`` and ``Do\u00ade`` are ``jane`` and ``doe``; they are dropped from the
   text); a text holding combining marks or format characters is also matched without them
   (``Ja\u0301ne``), and one holding Python's backslash escapes with them decoded (an OS
   error's path as ``repr()`` writes it, ``S\\u200bmithers``, ``M\\xfcller``).  Matching
   works on *words* (runs of letters and digits; ``_`` and other connector punctuation
   separate words like ``-``,
   ``.``, ``^`` and spaces do): a value is the sequence of its words, and a run of the same
   words in a text is masked whatever separates them (``MRN-55501`` also hides
   ``mrn 55501``).  Separators are also optional: a value's words written together or apart
   (``MRN4455667``, ``MRN-4455667``, ``mrn 4455667``, ``MRN_4455-667``: dashes and ``_``
   anywhere; spaces, ``.`` and ``/`` between letters and digits — ``a nan is`` stays three
   words; spaces and one ``.``, ``,`` or ``'`` between digits as a number's digit groups,
   ``778 899``, ``4.455.667``, ``4,455,667``, ``778’899``, the last three only whole and in
   thousands — ``1.2.840.10008`` stays a UID, ``127.0.0.1`` an address, ``1,778,899`` and
   ``778,899.5`` other numbers; ``101,102`` is 101102) are found when they make
   :data:`GLUED_LENGTH` or more characters.  Names are also matched in other orders (``Doe^Jane``
   → ``Jane Doe``, ``DoeJane``) and by each word of a name on its own
   (``Doe``, ``Jane``; a value with two or more parts split at ``^``, commas or spaces is
   treated as a name), a part of several words also spaced or glued (``O Brien``,
   ``OBrien`` for ``O'Brien^Siobhan``); birth dates in DICOM DA (``19700101``),
   ISO (``1970-01-01``) and the usual other spellings (``01.01.1970``, ``1/1/1970``,
   ``1970/1/1``, ``01011970``, ``1 Jan 1970``, ``Jan 1, 1970``, ``1st Jan 1970``,
   ``01JAN1970``, ``1st of January 1970``, ``January the 1st, 1970``, ``First of January
   1970``, month names of seven languages and Roman numerals: ``1. Januar 1970``,
   ``1 janv. 1970``, ``1.I.1970``; a two-digit year:
   ``1.1.70``, ``1/1/70``, ``70-01-01``, ``010170``, ``Jan 1 '70``); the
   digit run of an MRN or patient ID (``4455667`` of ``MRN4455667``) as a whole number; a
   name with diacritics also in ASCII (``Müller`` → ``Muller``, ``Mueller``).  Keys shorter than
   :data:`MIN_LENGTH` characters are not matched (a two-letter name part is covered only
   inside the whole name, or a caret name, rule 2).  A one-word key of :data:`GLUED_LENGTH`
   or more characters is also found glued inside a longer word (``xMRN4455667``,
   ``SmithersWaylon``), which is then masked whole — unless digits run on past a digit end
   of the key (a longer number is another number).
2. *DICOM PN-looking* text: words joined by ``^`` (PS3.5 section 6.2, Person Name); a
   component with spaces (``van der Berg^Jan``) is masked from its last word on.
3. *date-looking* text: ``YYYYMMDD`` (PS3.5 DA) or ``YYYY-MM-DD`` with a plausible month and
   day, not inside a longer number or a dotted UID (``_20200101.dcm`` is a date).

**CobbDesk's own words are never a name on their own**
(:mod:`~cobbdesk.core.redact.vocabulary`): ``Patient^Zero`` does not turn "Patient ID" into
"[redacted] ID"; the whole name and every other word are still masked.

Matching looks each word, each run of words starting at a word that begins a multi-word key,
and each run of joined words whose first :data:`GLUED_LENGTH` characters begin a key, up in
hash sets (and, for glued keys, each 6-character slice of a longer word in a set of key
prefixes): a log line is redacted in tens of microseconds whatever the number of patients.
:meth:`Study.open` reads every patient's identifiers, deleted patients' too, with one
aggregate query and hands them over *pending* (:func:`remember_later`): their keys are built
(:func:`remember_joined`: whole-text passes, no Python code per patient; :func:`materialise`)
by the first :func:`redact` — whatever its thread, under a lock, before it matches anything —
or earlier by the GUI on a worker thread after its first paint.  A command that never redacts
builds nothing; a study closed first stays redacted (its rows are kept, not re-read).
Modules: :mod:`~cobbdesk.core.redact.keys` (the index; :mod:`~.translit` ASCII spellings),
:mod:`~cobbdesk.core.redact.matching` (:func:`redact`; :mod:`~.dates` birth date spellings,
:mod:`~.characters` joining characters), :mod:`~cobbdesk.core.redact.log`.

The boundaries using it: :class:`RedactingFilter` on the log handlers (:func:`install`), the
GUI's error helper (``cobbdesk.gui.errors.report``), the command line's error printing
(``cobbdesk.cli.output``) and every command line line naming a film's file.  Redaction errs
towards hiding: a visit date or an unrelated eight-digit date in an error message is hidden
too (rule 3: every ISO and DA date, a birth date or not; visit and admission dates identify a
patient too), and with many patients remembered most dates of their birth years are someone's
birth date in any spelling.  One narrowing is safe: three dotted numbers after a version's
label (``version 1.26.10``; :data:`~.dates.VERSION_LABELS`) are a version, never a birth date.

>>> remember(["Doe^Jane", "MRN4455667", "1970-01-31"])
>>> redact("write failed for Doe^Jane (MRN-4455667), born 19700131; JANE asked")
'write failed for [redacted] ([redacted]), born [redacted]; [redacted] asked'
>>> redact("ＭＲＮ４４５５６６７; mrn 4455667; 31.01.1970; Jan 31, 1970; DoeJane.dcm, 12.5°")
'[redacted]; [redacted]; [redacted]; [redacted]; [redacted].dcm, 12.5°'
>>> redact("Smith^John at 2026-01-05, UID 1.2.3.20260105.4")
'[redacted] at [redacted], UID 1.2.3.20260105.4'
>>> remember(["Patient^Zero"])
>>> redact("Patient ID P001: film of Patient Zero, zero patient")
'Patient ID P001: film of [redacted], [redacted]'
>>> forget_all()
"""

from __future__ import annotations

from cobbdesk.core.redact.keys import (
    GLUED_LENGTH,
    MIN_LENGTH,
    PATIENT_FIELDS,
    fold,
    forget_all,
    materialise,
    pending,
    remember,
    remember_joined,
    remember_later,
    remember_patients,
    remember_study,
    variants,
)
from cobbdesk.core.redact.log import (
    QUIET_LIBRARIES,
    OneLineHandler,
    RedactingFilter,
    install,
    quiet_libraries,
)
from cobbdesk.core.redact.matching import MASK, redact
from cobbdesk.core.redact.vocabulary import VOCABULARY

__all__ = [
    "GLUED_LENGTH",
    "MASK",
    "MIN_LENGTH",
    "PATIENT_FIELDS",
    "QUIET_LIBRARIES",
    "VOCABULARY",
    "OneLineHandler",
    "RedactingFilter",
    "fold",
    "forget_all",
    "install",
    "materialise",
    "pending",
    "quiet_libraries",
    "redact",
    "remember",
    "remember_joined",
    "remember_later",
    "remember_patients",
    "remember_study",
    "variants",
]
