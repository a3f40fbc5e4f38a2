"""The index of remembered identifiers: keys built from patients' values (no matching here).

A *key* is an identifier's text in one canonical spelling: Unicode NFKC then casefold
(:func:`fold`; full-width ``ＭＲＮ４４５５６６７`` and ``mrn4455667`` are one key), its words
(runs of letters and digits) joined by one space.  Kept per value, in the registry:

* its words joined by one space (``MRN-55501`` → ``mrn 55501``), and for a name its other
  order (given names first, PS3.5 section 6.2 Person Name: family^given^middle^prefix^suffix)
  and each word alone;
* its *compact* form, the words with nothing between them (``mrn55501``), when it has at
  least :data:`GLUED_LENGTH` characters — the text ``MRN55501`` or ``MRN-55501``; a name's
  two-word compact forms (``DoeJane``) are not kept by :func:`remember_joined` (a study
  opened: 200,000 more keys at 100,000 patients, twice the time): the matcher splits a word
  in two instead;
* a date's DICOM DA and ISO forms (``19700101``, ``1970 01 01``; PS3.5 section 6.2, DA).
* its *digit run*, each run of :data:`GLUED_LENGTH` or more digits of its compact form
  (``4455667`` of ``MRN4455667``, ``778899`` of ``HOSP-778899``: the digits written without
  their prefix, ``4455667.csv``; also in digit groups, ``778 899``, ``778.899``).  The
  matcher finds it only as a whole number (not inside a longer run of digits, ``44556678``,
  nor as a dotted number's part, ``1.2.778.899.5``, nor a decimal's fraction, ``0.778899``,
  nor glued inside a hexadecimal hash or a UUID's group); a component of a dotted UID equal to
  it is masked — over-redaction of an occasional number, where a leaked MRN is not acceptable;
* for a name with diacritics, the keys of its ASCII spellings too
  (:mod:`~cobbdesk.core.redact.translit`: ``Müller^Jürgen`` → ``muller jurgen``,
  ``mueller juergen``).

Keys shorter than :data:`MIN_LENGTH` characters and single words of CobbDesk's own
:data:`~cobbdesk.core.redact.vocabulary.VOCABULARY` are never matched alone.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from itertools import compress, repeat
from operator import contains, itemgetter
from typing import Any

from cobbdesk.core.redact.translit import ascii_spellings
from cobbdesk.core.redact.vocabulary import VOCABULARY

MIN_LENGTH = 3
GLUED_LENGTH = 6
"""One-word keys of at least this many characters are also found glued inside a longer word,
and spelled across separators (``MRN-4455667`` for ``MRN4455667``)."""
PATIENT_FIELDS = ("name", "mrn", "birth_date", "dicom_patient_id")

#: Unicode's connector punctuation (category Pc, ``_`` and ``＿`` among them): ``\w`` counts
#: it, but in ``SMITH_JOHN_1961.dcm`` it separates words like ``-`` and ``.`` do.
PC = "_\u203f\u2040\u2054\ufe33\ufe34\ufe4d-\ufe4f\uff3f"
#: Characters that belong to a word besides ``\w`` ones: combining marks (a decomposed
#: ``José``) and enclosed letters whose NFKC form is a letter (circled ``Ⓜ``, squared ``🄼``).
WORD_EXTRA = (
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"  # combining marks
    "\u24b6-\u24e9\U0001f12b\U0001f12c\U0001f130-\U0001f149"  # enclosed letters (a test checks)
)
WORD = re.compile(rf"(?:[^\W{PC}]|[{WORD_EXTRA}])+")
_PARTS = re.compile(r"[\^\s,]+")
_COMPONENTS = re.compile(r"[\^,]")
_NONWORD = re.compile(r"[^\w\n]+")
_OTHER_PC = re.compile(f"[{PC[1:]}]")
_FIRST_WORD = re.compile(rf"^([^\W{PC}]+) ", re.MULTILINE)
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
_LONG_LINE = re.compile(rf"^.{{{GLUED_LENGTH},}}$", re.MULTILINE)
_THREE_WORDS = re.compile(r"^[^ \n]+ [^ \n]+ [^\n]+$", re.MULTILINE)
_PARTED_LINE = re.compile(r"^[^\n]*\t[^\n]*$", re.MULTILINE)  # a name of two or more parts
_PART_OF_WORDS = re.compile(r"[^\t\n ]+(?: [^\t\n ]+)+")  # one of its parts, of two words or more
_ISO_OR_DA = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
#: A value's run of digits that is a key of its own (``4455667`` of ``MRN4455667``); the
#: matcher finds it only as a whole number, never inside a longer run of digits.
_DIGIT_RUN = re.compile(rf"\d{{{GLUED_LENGTH},}}")
#: Unicode's Default_Ignorable_Code_Point characters (DerivedCoreProperties.txt, Unicode
#: 15.1: soft hyphen, zero-width space and joiners, word joiner, BOM, bidi controls,
#: variation selectors, Hangul fillers, tags…): invisible, never part of a spelling.
DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]+"
)


def fold(text: str) -> str:
    """``text`` in the one spelling keys and matched words use: Unicode NFKC, casefolded, NFKC
    again, without default ignorable characters (:data:`DEFAULT_IGNORABLE`; Unicode's
    NFKC_Casefold; UAX #15 and Unicode 3.13): ``J\u200bane`` is ``jane``."""
    if text.isascii():
        return text.lower()
    text = DEFAULT_IGNORABLE.sub("", text)
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


class _Registry:
    """The remembered keys (folded, words joined by one space), thread-safe: ``single``
    (one-word keys, compact forms among them), ``multi`` (two or more words),
    ``starts`` (their first words), ``longest`` (the most words of a multi-word key),
    ``prefixes`` (the first :data:`GLUED_LENGTH` characters of one-word keys),
    ``glued_longest`` (characters of the longest one-word key); ``pending``: batches of
    (names, values) one a line whose keys are not built yet (:func:`remember_later`), each
    left in the list until its keys are in the sets; ``build_lock``: held while building them
    (taken before ``lock``, never while holding it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.build_lock = threading.Lock()
        self.pending: list[tuple[str, str]] = []
        self.single: set[str] = set()
        self.multi: set[str] = set()
        self.starts: set[str] = set()
        self.longest = 1
        self.prefixes: set[str] = set()
        self.glued_longest = 0


registry = _Registry()


def variants(value: object) -> set[str]:
    """The keys of one identifier (module rules): a set of folded strings.

    >>> sorted(variants("Doe^Jane"))
    ['doe', 'doe jane', 'doejane', 'jane', 'jane doe', 'janedoe']
    >>> sorted(variants("1970-01-01")), sorted(variants("Patient^Li"))
    (['1970 01 01', '19700101'], ['li patient', 'lipatient', 'patient li', 'patientli'])
    >>> sorted(variants("ＭＲＮ－４４５５６６７"))
    ['4455667', 'mrn 4455667', 'mrn4455667']
    """
    text = fold(str(value).strip()) if value is not None else ""
    spellings = ascii_spellings(text).split("\n")  # ``Müller`` → ``muller``, ``mueller``
    return _value_keys(text).union(*(_value_keys(s) for s in spellings if s and s != text))


def _value_keys(text: str) -> set[str]:
    """The keys of one folded identifier written as it is (:func:`variants`)."""
    words = WORD.findall(text)
    if not words:
        return set()
    out = {" ".join(words)}
    if len(_PARTS.split(text)) > 1:  # a name: other orders, and each word alone
        groups = [WORD.findall(c) for c in _COMPONENTS.split(text)]
        given_first = groups[1:] + groups[:1]  # PS3.5 6.2: family^given^middle^prefix^suffix
        out.add(" ".join(w for group in given_first for w in group))
        out.update(words)
        parts = [group for group in groups if len(group) > 1] if len(groups) > 1 else []
        out.update(" ".join(group) for group in parts)  # ``O Brien`` of ``O'Brien^Siobhan``
        out.update("".join(group) for group in parts)  # ``OBrien``, ``SmithJones``
    date = _ISO_OR_DA.fullmatch(text)
    if date:
        out |= {"".join(date.groups()), " ".join(date.groups())}
    compact = {v.replace(" ", "") for v in out if " " in v}
    out |= {c for c in compact if len(c) >= GLUED_LENGTH}
    out.update(_DIGIT_RUN.findall("".join(words)))  # ``4455667`` of ``MRN4455667``
    return {v for v in out if len(v) >= MIN_LENGTH and v not in VOCABULARY}


def remember(values: Iterable[object]) -> None:
    """Add identifier values (None and empty values are ignored) to those redacted."""
    keys: set[str] = set()
    for value in values:
        if value is not None and value != "":
            keys |= variants(value)
    single = {k for k in keys if " " not in k}
    _add(single, keys - single)


def remember_patients(names: Iterable[str], values: Iterable[str], *, later: bool = False) -> None:
    """Add many patients' identifiers at once: ``names`` (each treated as a name, whatever its
    separators) and ``values`` (MRNs, patient IDs, birth dates; as :func:`remember`), joined
    one a line (a line break inside a value is a space).  ``later``: hand them over pending
    (:func:`remember_later`; built by the next :func:`~.matching.redact`, before it matches)
    instead of building their keys now (:func:`remember_joined`).

    The same keys as :func:`remember`, except that every word of a name counts alone
    (``O'Brien`` → ``Brien``) even when the name has one part.
    """
    joined_names = "\n".join(n.replace("\n", " ") for n in names if n)
    joined_values = "\n".join(v.replace("\n", " ") for v in values if v)
    (remember_later if later else remember_joined)(joined_names, joined_values)


def remember_later(names: str, values: str) -> None:
    """Hand over names and values one a line (as :func:`remember_joined`) whose keys are
    built later: by :func:`materialise`, which every matching call
    (:func:`~cobbdesk.core.redact.matching.redact`, so the logging filter and handlers too)
    runs first, whatever its thread — a text is never matched while a batch is pending.  The
    strings are kept (a few MB at 100,000 patients; no database access later), so a study
    closed before its keys were built stays redacted.  Costs nothing now: a study opened by a
    command that never redacts, or before the GUI's first paint, does not build its index."""
    if not names and not values:
        return
    with registry.lock:
        if (names, values) not in registry.pending:  # the same study opened again meanwhile
            registry.pending.append((names, values))


def pending() -> bool:
    """Whether some identifiers handed to :func:`remember_later` have no keys built yet."""
    return bool(registry.pending)


def materialise() -> None:
    """Build the keys of every pending batch (:func:`remember_later`), oldest first, under
    the registry's build lock: a second caller waits for the build and then finds nothing
    pending.  A batch leaves ``pending`` in the same locked step that adds its keys, so a
    caller that sees nothing pending sees every key.  Errors of a build propagate and leave
    its batch pending (never matched without it)."""
    if not registry.pending:
        return
    with registry.build_lock:
        while registry.pending:
            batch = registry.pending[0]
            _build_joined(*batch, batch=batch)


def remember_joined(names: str, values: str) -> None:
    """:func:`remember_patients` of names and values given one a line (as a database's
    ``group_concat``/``string_agg`` returns them).  A few whole-text passes (NFKC, casefold,
    regex substitutions, C-level splits and set operations): 100,000 patients take a fraction
    of a second, where building every variant of every value took seconds."""
    _build_joined(names, values)


def _build_joined(names: str, values: str, batch: tuple[str, str] | None = None) -> None:
    """:func:`remember_joined`; ``batch``: the pending batch these keys are (it leaves
    ``pending`` when they are added)."""
    names = fold(names)
    spelled = ascii_spellings(names)  # ``Müller^Jürgen`` → ``muller^jurgen``, ``mueller^…``
    words, multi = _name_keys(f"{names}\n{spelled}" if spelled else names)
    values = fold(values)
    flat = _NONWORD.sub(" ", _connectors_to_spaces(values))
    if flat.startswith(" ") or flat.endswith(" ") or "\n " in flat or " \n" in flat:
        flat = "\n".join(line.strip() for line in flat.split("\n"))  # ``(123)`` → ``123``
    keys = set(flat.split("\n"))
    keys.update(_DIGIT_RUN.findall(flat.replace(" ", "")))  # ``778899`` of ``HOSP-778899``
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
    keys |= _compact_keys("\n".join(multi_values))  # a two-word name's: the matcher splits
    keys |= _compact_keys("\n".join(_THREE_WORDS.findall("\n".join(multi))))
    starts = words | set(_FIRST_WORD.findall("\n".join(multi_values)))
    _add(words | keys, multi | multi_values, starts, batch)


def _compact_keys(lines: str) -> set[str]:
    """The compact forms (spaces removed) of multi-word keys given one a line that have at
    least :data:`GLUED_LENGTH` characters."""
    compact = lines.replace(" ", "")
    return set(_LONG_LINE.findall(compact))


def _name_keys(text: str) -> tuple[set[str], set[str]]:
    """(one-word, multi-word) keys of folded names given one a line: every word (the matcher
    skips words shorter than :data:`MIN_LENGTH` and vocabulary words), the whole name in its
    order and with the given names first (PS3.5 6.2: family^given^middle^prefix^suffix).
    Whole-text passes and C-level ``map``: no Python code runs per name."""
    flat = _connectors_to_spaces(text.replace("^", "\t").replace(",", "\t"))
    flat = _NONWORD_NAME.sub(" ", flat)
    if " \t" in flat or "\t " in flat or "\t\t" in flat:  # ``Doe ^ Jane``, ``Doe^^Jane``
        flat = _TAB_RUN.sub("\t", flat)
    if flat[:1] in (" ", "\t") or flat[-1:] in (" ", "\t") or _EDGE_BLANK.search(flat):
        flat = _LINE_EDGES.sub("", flat)
    lines = flat.split("\n")
    rotated = map(" ".join, map(_REST_THEN_FAMILY, map(str.partition, lines, repeat("\t"))))
    multi = ("\n".join(lines) + "\n" + "\n".join(rotated)).replace("\t", " ")
    words, multi_keys = set(flat.split()), set(multi.split("\n"))
    if (
        "\t" in flat and " " in flat
    ):  # a part of several words alone, spaced and glued (``O Brien``, ``OBrien``)
        parts = _PART_OF_WORDS.findall("\n".join(_PARTED_LINE.findall(flat)))
        multi_keys.update(parts)
        words.update("\n".join(parts).replace(" ", "").split("\n") if parts else ())
    return words, multi_keys


def _connectors_to_spaces(text: str) -> str:
    """``text`` with every connector punctuation character (``_``, ``＿``…) a space."""
    text = text.replace("_", " ")
    return _OTHER_PC.sub(" ", text) if _OTHER_PC.search(text) else text


def _add(single: set[str], multi: set[str], starts: set[str] | None = None,
         batch: tuple[str, str] | None = None) -> None:  # fmt: skip
    """Merge one-word and multi-word keys into the registry (under its lock); ``starts``: a
    set holding every multi-word key's first word (computed when not given); ``batch``: the
    pending batch they were built from, removed in the same locked step."""
    if starts is None:
        starts = set(_FIRST_WORD.findall("\n".join(multi)))
    longest = (max(map(len, multi), default=0) + 1) // 2  # k words take 2k − 1 characters
    prefixes = set(_GLUED_PREFIX.findall("\n".join(single)))  # a vocabulary word's too: harmless
    with registry.lock:
        registry.prefixes = _merged(registry.prefixes, prefixes)
        registry.glued_longest = max(registry.glued_longest, max(map(len, single), default=0))
        registry.single = _merged(registry.single, single)
        registry.multi = _merged(registry.multi, multi)
        registry.starts = _merged(registry.starts, starts)
        registry.longest = max(registry.longest, longest)
        if batch is not None:
            registry.pending = [b for b in registry.pending if b is not batch]


def _merged(kept: set[str], new: set[str]) -> set[str]:
    """``kept`` updated with ``new`` in place; ``new`` itself when ``kept`` is empty (a study
    opened in a fresh session: no copy of its hundreds of thousands of keys)."""
    if not kept:
        return new
    kept |= new
    return kept


def remember_study(study: Any) -> None:
    """Remember every patient identifier of an open study (``study.patients()`` records)."""
    records = study.patients()
    remember_patients(
        (str(p.name) for p in records if p.name),
        (str(v) for p in records for f in PATIENT_FIELDS[1:] if (v := getattr(p, f, None))),
    )


def forget_all() -> None:
    """Forget every remembered value (tests; a new session)."""
    with registry.lock:
        registry.pending = []
        registry.single.clear()
        registry.multi.clear()
        registry.starts.clear()
        registry.longest = 1
        registry.prefixes.clear()
        registry.glued_longest = 0
