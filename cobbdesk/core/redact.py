"""Keep patient identifiers out of logs, error dialogs and stderr: one redaction boundary.

Every text that leaves the program for a log file, a dialog's message or detail, or the
command line's stderr passes :func:`redact`, which replaces with ``[redacted]``:

1. *known identifiers*: each value :func:`remember` was given — the name, MRN, birth date
   and hospital patient ID of every patient of each study opened (:meth:`Study.open`) or
   written (``add_patient``/``update_patient``, before the write, so a failed write is
   covered).  Matching ignores case and works on *words* (runs of letters and digits; ``_``
   and other connector punctuation separate words like ``-``, ``.``, ``^`` and spaces do):
   a value is the sequence of its words, and a run of the same words in a text is masked
   whatever separates them (``MRN-55501`` also hides ``mrn 55501``, ``MRN_55501``).  Names are also
   matched in other orders (``Doe^Jane`` → ``Jane Doe``, ``Doe Jane``) and by each word of
   a name on its own (``Doe``, ``Jane``; a value with two or more parts split at ``^``,
   commas or spaces is treated as a name); dates in both DICOM DA (``19700101``) and ISO
   (``1970-01-01``) form.  Keys shorter than :data:`MIN_LENGTH` characters are not matched
   (a two-letter name part is covered only inside the whole name, or a caret name, rule 2).
   A one-word key of :data:`GLUED_LENGTH` or more characters is also found glued inside a
   longer word (``xMRN4455667``, ``SmithersWaylon``), which is then masked whole — unless
   digits run on past a digit end of the key (a longer number is another number).
2. *DICOM PN-looking* text: words joined by ``^`` (PS3.5 section 6.2, Person Name); a
   component with spaces (``van der Berg^Jan``) is masked from its last word on.
3. *date-looking* text: ``YYYYMMDD`` (PS3.5 DA) or ``YYYY-MM-DD`` with a plausible month and
   day, not inside a longer number or a dotted UID (``_20200101.dcm`` is a date).

**CobbDesk's own words are never a name on their own.**  A single word of
:data:`VOCABULARY` — words of CobbDesk's own messages and UI (*patient*, *film*, *study*,
*visit*, *admission*, *month*, *rater*, …; each appears in the program's text, a test checks
it; *ID* is shorter than :data:`MIN_LENGTH` anyway) — is not matched alone, so a patient
named ``Patient^Zero`` or ``Study^Ann`` does not turn "Patient ID" into "[redacted] ID".
The whole name and its multi-word forms (``Patient Zero``, ``Zero Patient``) and every
other word (``Ann``) are still masked, as is the caret form by rule 2.  The cost, accepted:
a vocabulary word that *is* one part of a patient's name is not hidden when it stands alone.

Matching looks each word, and each run of up to the longest remembered key's word count
starting at a word that begins a multi-word key, up in hash sets (and, for glued keys, each
6-character slice of a longer word in a set of key prefixes): a log line is redacted in
tens of microseconds whatever the number of patients (it used to be one alternation regex of
every value, which took minutes to compile at 100,000 patients).  :meth:`Study.open`
remembers every patient's identifiers, deleted patients' too, from one aggregate query
through :func:`remember_joined` (whole-text passes, no Python code per patient): a few
hundred milliseconds at 100,000 patients, before ``open`` returns.

The boundaries using it: :class:`RedactingFilter` on the log handlers (:func:`install`), the
GUI's error helper (``cobbdesk.gui.errors.report``) and the command line's error printing
(``cobbdesk.cli.output``).  Redaction errs towards hiding: a visit date or an unrelated
eight-digit date in an error message is hidden too.

>>> remember(["Doe^Jane", "MRN-55501", "1970-01-01"])
>>> redact("write failed for Doe^Jane (MRN-55501), born 19700101; JANE asked")
'write failed for [redacted] ([redacted]), born [redacted]; [redacted] asked'
>>> redact("Smith^John at 2026-01-05, UID 1.2.3.20260105.4")
'[redacted] at [redacted], UID 1.2.3.20260105.4'
>>> remember(["Patient^Zero"])
>>> redact("Patient ID P001: film of Patient Zero, zero patient")
'Patient ID P001: film of [redacted], [redacted]'
>>> forget_all()
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from itertools import compress, repeat
from operator import contains, itemgetter
from typing import Any

MASK = "[redacted]"
MIN_LENGTH = 3
GLUED_LENGTH = 6
"""One-word keys of at least this many characters are also found glued inside a longer word."""
PATIENT_FIELDS = ("name", "mrn", "birth_date", "dicom_patient_id")

_PN = re.compile(r"(?<![^\W\d_])[^\W\d_][\w'.-]*(?:\^[\w'.-]*)+")  # from a word's 1st letter
_DATE = re.compile(
    r"(?<!\d)(?<!\d\.)(?:19|20)\d\d(-?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d|\.\d)"
)
_PARTS = re.compile(r"[\^\s,]+")
#: Unicode's connector punctuation (category Pc, ``_`` and ``＿`` among them): ``\w`` counts
#: it, but in ``SMITH_JOHN_1961.dcm`` it separates words like ``-`` and ``.`` do.
_PC = "_\u203f\u2040\u2054\ufe33\ufe34\ufe4d-\ufe4f\uff3f"
_WORD = re.compile(rf"[^\W{_PC}]+")
_COMPONENTS = re.compile(r"[\^,]")
_NONWORD = re.compile(r"[^\w\n]+")
_OTHER_PC = re.compile(f"[{_PC[1:]}]")
_FIRST_WORD = re.compile(rf"^([^\W{_PC}]+) ", re.MULTILINE)
_NONWORD_NAME = re.compile(r"[^\w\n\t]+")
_TAB_RUN = re.compile(r"[ \t]*\t[ \t]*")
_EDGE_BLANK = re.compile(r"\n[ \t]|[ \t]\n")
_LINE_EDGES = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)
_REST_THEN_FAMILY = itemgetter(2, 0)
_WORD_SEPARATOR_WORD = re.compile(r"\w[\^, \t\r\f\v]+\w")
_ISO_DATE_LINE = re.compile(r"^\d{4} \d{2} \d{2}$", re.MULTILINE)
_COMPACT_DATE = re.compile(r"^((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$", re.MULTILINE)
_NAME_SEPARATOR = re.compile(r"[\^, \t\r\f\v]")
_GLUED_PREFIX = re.compile(rf"^(.{{{GLUED_LENGTH}}}).*$", re.MULTILINE)
_ISO_OR_DA = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
#: A password inside a database URL (``scheme://user:PASSWORD@host``).
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@")

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


class _Registry:
    """The remembered keys (casefolded, words joined by one space), thread-safe: ``single``
    (one-word keys), ``multi`` (two or more words), ``starts`` (their first words),
    ``longest`` (the most words of a multi-word key), ``prefixes`` (the first
    :data:`GLUED_LENGTH` characters of one-word keys), ``glued_longest`` (characters)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.single: set[str] = set()
        self.multi: set[str] = set()
        self.starts: set[str] = set()
        self.longest = 1
        self.prefixes: set[str] = set()
        self.glued_longest = 0


_registry = _Registry()


def variants(value: object) -> set[str]:
    """The keys of one identifier: casefolded word runs joined by one space (module rules).

    >>> sorted(variants("Doe^Jane"))
    ['doe', 'doe jane', 'jane', 'jane doe']
    >>> sorted(variants("1970-01-01")), sorted(variants("Patient^Li"))
    (['1970 01 01', '19700101'], ['li patient', 'patient li'])
    """
    text = str(value).strip().casefold() if value is not None else ""
    words = _WORD.findall(text)
    if not words:
        return set()
    out = {" ".join(words)}
    if len(_PARTS.split(text)) > 1:  # a name: other orders, and each word alone
        groups = [_WORD.findall(c) for c in _COMPONENTS.split(text)]
        given_first = groups[1:] + groups[:1]  # PS3.5 6.2: family^given^middle^prefix^suffix
        out.add(" ".join(w for group in given_first for w in group))
        out.update(words)
    date = _ISO_OR_DA.fullmatch(text)
    if date:
        out |= {"".join(date.groups()), " ".join(date.groups())}
    return {v for v in out if len(v) >= MIN_LENGTH and v not in VOCABULARY}


def remember(values: Iterable[object]) -> None:
    """Add identifier values (None and empty values are ignored) to those redacted."""
    keys: set[str] = set()
    for value in values:
        if value is not None and value != "":
            keys |= variants(value)
    single = {k for k in keys if " " not in k}
    _add(single, keys - single)


def remember_patients(names: Iterable[str], values: Iterable[str]) -> None:
    """Add many patients' identifiers at once: ``names`` (each treated as a name, whatever its
    separators) and ``values`` (MRNs, patient IDs, birth dates; as :func:`remember`).

    The same keys as :func:`remember`, except that every word of a name counts alone
    (``O'Brien`` → ``Brien``) even when the name has one part.

    >>> remember_patients(["Doe^Jane", "Li^Bo"], ["MRN-55501", "1970-01-01"])
    >>> redact("Jane Doe, bo li, mrn 55501, 19700101")
    '[redacted], [redacted], [redacted], [redacted]'
    >>> forget_all()
    """
    remember_joined(
        "\n".join(n.replace("\n", " ") for n in names if n),
        "\n".join(v.replace("\n", " ") for v in values if v),
    )


def remember_joined(names: str, values: str) -> None:
    """:func:`remember_patients` of names and values given one a line (as a database's
    ``group_concat``/``string_agg`` returns them).  A few whole-text passes (casefold, regex
    substitutions, C-level splits and set operations): 100,000 patients take a fraction of a
    second, where building every variant of every value took seconds."""
    words, multi = _name_keys(names)
    flat = _NONWORD.sub(" ", _connectors_to_spaces(values.casefold()))
    if flat.startswith(" ") or flat.endswith(" ") or "\n " in flat or " \n" in flat:
        flat = "\n".join(line.strip() for line in flat.split("\n"))  # ``(123)`` → ``123``
    keys = set(flat.split("\n"))
    multi_values = set(compress(keys, map(contains, keys, repeat(" "))))  # C-level filter
    keys -= multi_values
    spaced = "\n".join(multi_values)
    keys |= set("\n".join(_ISO_DATE_LINE.findall(spaced)).replace(" ", "").split("\n"))
    multi_values |= {" ".join(d) for d in _COMPACT_DATE.findall("\n".join(keys))}
    if _NAME_SEPARATOR.search(values):  # ``H 4711``: as remember, like a name
        for found in _WORD_SEPARATOR_WORD.finditer(values):
            line_start = values.rfind("\n", 0, found.start()) + 1
            line_end = values.find("\n", found.end())
            for key in variants(values[line_start : None if line_end < 0 else line_end]):
                (multi_values if " " in key else keys).add(key)
    keys.discard("")
    starts = words | set(_FIRST_WORD.findall("\n".join(multi_values)))
    _add(words | keys, multi | multi_values, starts)


def _name_keys(text: str) -> tuple[set[str], set[str]]:
    """(one-word, multi-word) keys of names given one a line: every word (the matcher skips
    words shorter than :data:`MIN_LENGTH` and :data:`VOCABULARY`), the whole name in its
    order and with the given names first (PS3.5 6.2: family^given^middle^prefix^suffix).
    Whole-text passes and C-level ``map``: no Python code runs per name."""
    flat = _connectors_to_spaces(text.casefold().replace("^", "\t").replace(",", "\t"))
    flat = _NONWORD_NAME.sub(" ", flat)
    if " \t" in flat or "\t " in flat or "\t\t" in flat:  # ``Doe ^ Jane``, ``Doe^^Jane``
        flat = _TAB_RUN.sub("\t", flat)
    if flat[:1] in (" ", "\t") or flat[-1:] in (" ", "\t") or _EDGE_BLANK.search(flat):
        flat = _LINE_EDGES.sub("", flat)
    lines = flat.split("\n")
    rotated = map(" ".join, map(_REST_THEN_FAMILY, map(str.partition, lines, repeat("\t"))))
    multi = ("\n".join(lines) + "\n" + "\n".join(rotated)).replace("\t", " ")
    return set(flat.split()), set(multi.split("\n"))


def _connectors_to_spaces(text: str) -> str:
    """``text`` with every connector punctuation character (``_``, ``＿``…) a space."""
    text = text.replace("_", " ")
    return _OTHER_PC.sub(" ", text) if _OTHER_PC.search(text) else text


def _add(single: set[str], multi: set[str], starts: set[str] | None = None) -> None:
    """Merge one-word and multi-word keys into the registry (under its lock); ``starts``: a
    set holding every multi-word key's first word (computed when not given)."""
    if starts is None:
        starts = set(_FIRST_WORD.findall("\n".join(multi)))
    longest = (max(map(len, multi), default=0) + 1) // 2  # k words take 2k − 1 characters
    prefixes = set(_GLUED_PREFIX.findall("\n".join(single)))  # a vocabulary word's too: harmless
    with _registry.lock:
        _registry.prefixes |= prefixes
        _registry.glued_longest = max(_registry.glued_longest, max(map(len, single), default=0))
        _registry.single |= single
        _registry.multi |= multi
        _registry.starts |= starts
        _registry.longest = max(_registry.longest, longest)


def remember_study(study: Any) -> None:
    """Remember every patient identifier of an open study (``study.patients()`` records)."""
    records = study.patients()
    remember_patients(
        (str(p.name) for p in records if p.name),
        (str(v) for p in records for f in PATIENT_FIELDS[1:] if (v := getattr(p, f, None))),
    )


def forget_all() -> None:
    """Forget every remembered value (tests; a new session)."""
    with _registry.lock:
        _registry.single.clear()
        _registry.multi.clear()
        _registry.starts.clear()
        _registry.longest = 1
        _registry.prefixes.clear()
        _registry.glued_longest = 0


def _known_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every remembered key in ``text``, longest match first, left to right."""
    reg = _registry
    found: list[tuple[int, int]] = []
    with reg.lock:
        if not reg.single and not reg.multi:
            return found
        matches = list(_WORD.finditer(text))
        words = [m.group().casefold() for m in matches]
        i = 0
        while i < len(words):
            size = _run_at(words, i) if words[i] in reg.starts else 0
            if not size and (_is_single_key(words[i]) or _holds_glued_key(words[i])):
                size = 1
            if size:
                found.append((matches[i].start(), matches[i + size - 1].end()))
            i += size or 1
    return found


def _run_at(words: list[str], i: int) -> int:
    """The word count of the longest multi-word key starting at ``words[i]`` (0: none)."""
    for n in range(min(_registry.longest, len(words) - i), 1, -1):
        if " ".join(words[i : i + n]) in _registry.multi:
            return n
    return 0


def _is_single_key(word: str) -> bool:
    """A remembered word long enough and not CobbDesk's own (module rules)."""
    return len(word) >= MIN_LENGTH and word in _registry.single and word not in VOCABULARY


def _holds_glued_key(word: str) -> bool:
    """Whether ``word`` (not CobbDesk's own) holds a one-word key of :data:`GLUED_LENGTH` or
    more characters glued to other letters or digits (``xMRN4455667``, ``SMITHERS20200101``);
    a key starting or ending with a digit does not count where the digits run on
    (``Surname20000`` does not hold ``Surname2000``: a longer number is another number).
    One prefix-set lookup per character, more only where a prefix is found."""
    reg, size = _registry, len(word)
    if size <= GLUED_LENGTH or not reg.prefixes or word in VOCABULARY:
        return False
    for i in range(size - GLUED_LENGTH + 1):
        if word[i : i + GLUED_LENGTH] not in reg.prefixes:
            continue
        if i and word[i].isdigit() and word[i - 1].isdigit():
            continue
        for end in range(i + GLUED_LENGTH, min(size, i + reg.glued_longest) + 1):
            if end < size and word[end - 1].isdigit() and word[end].isdigit():
                continue
            if word[i:end] in reg.single and word[i:end] not in VOCABULARY:
                return True
    return False


def redact(text: str) -> str:
    """``text`` with remembered identifiers, PN-looking and date-looking values masked."""
    spans = _known_spans(text)
    if spans:
        pieces, last = [], 0
        for start, end in spans:
            pieces += [text[last:start], MASK]
            last = end
        text = "".join(pieces) + text[last:]
    text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    return _DATE.sub(MASK, _PN.sub(MASK, text))


class RedactingFilter(logging.Filter):
    """Redacts a record's message, traceback and stack text (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message (its arguments merged in), traceback and stack; keep it."""
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(*loggers: logging.Logger) -> None:
    """Put one :class:`RedactingFilter` on every handler of ``loggers`` (default: the root
    and ``cobbdesk`` loggers) and on logging's last-resort stderr handler; idempotent."""
    chosen = loggers or (logging.getLogger(), logging.getLogger("cobbdesk"))
    handlers = [h for lg in chosen for h in lg.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


#: Libraries whose log records never reach stderr (logging's last resort would print them
#: with their tracebacks): SQLAlchemy's pool logs "Exception terminating connection …" with
#: the driver's traceback when a server connection drops, before CobbDesk's own one line.
QUIET_LIBRARIES = ("sqlalchemy",)


class OneLineHandler(logging.Handler):
    """Passes a library's WARNING+ records on to ``target`` as one redacted line: the
    traceback is replaced by the exception's type (never its text, which may hold values);
    with no ``target`` the records are dropped."""

    def __init__(self, target: logging.Handler | None) -> None:
        super().__init__(logging.WARNING)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        """Hand a one-line, redacted copy of ``record`` to the target handler."""
        if self.target is None:
            return
        line = logging.makeLogRecord(record.__dict__)
        text = line.getMessage()
        if line.exc_info and line.exc_info[1] is not None:
            text += f" ({type(line.exc_info[1]).__name__})"
        line.msg, line.args = redact(" ".join(text.split())), None
        line.exc_info, line.exc_text, line.stack_info = None, None, None
        self.target.handle(line)


def quiet_libraries(target: logging.Handler | None = None) -> None:
    """Keep the :data:`QUIET_LIBRARIES` loggers off stderr: their WARNING+ records go to
    ``target`` (the GUI's log file) as one redacted line without traceback, or nowhere (the
    command line); they no longer propagate.  Idempotent: a second call replaces the target."""
    for name in QUIET_LIBRARIES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, OneLineHandler)]:
            logger.removeHandler(old)
        logger.addHandler(OneLineHandler(target))
        logger.propagate = False
