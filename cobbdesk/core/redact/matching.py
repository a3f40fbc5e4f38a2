"""Finding remembered identifiers in a text, and :func:`redact` itself (rules: the package).

A text is cut into words (runs of letters and digits; connector punctuation such as ``_``
separates words), each folded like the keys (:func:`~cobbdesk.core.redact.keys.fold`).  At each
word, longest first: a run of words equal to a multi-word key (any separators); a run of
words joined by at most :data:`JOIN_LIMIT` *joining* characters (dashes and ``_`` anywhere;
spaces, ``.`` and ``/`` between letters and digits; their compatibility forms too) whose
concatenation is a one-word key of
:data:`~cobbdesk.core.redact.keys.GLUED_LENGTH` or more characters (``MRN-4455667``,
``mrn 4455667`` for ``MRN4455667``); the word itself; a long key glued inside the word.
Birth dates are also found in their other spellings (:mod:`~cobbdesk.core.redact.dates`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from cobbdesk.core.redact.characters import (
    APOSTROPHES,
    CLOSE_BRACKETS,
    COMMAS,
    DIGIT_JOINING,
    FULL_STOPS,
    JOINING,
    OPEN_BRACKETS,
    SLASHES,
    SPACES,
)
from cobbdesk.core.redact.dates import birth_date_ranges, may_hold_date
from cobbdesk.core.redact.keys import (
    DEFAULT_IGNORABLE,
    GLUED_LENGTH,
    MIN_LENGTH,
    WORD,
    fold,
    materialise,
    registry,
)
from cobbdesk.core.redact.vocabulary import VOCABULARY

MASK = "[redacted]"
JOIN_LIMIT = 3
"""The most joining characters between two words of an identifier spelled across them."""
_ASCII_WORD = re.compile(r"([a-z0-9]+)")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PN = re.compile(r"(?<![^\W\d_])[^\W\d_][\w'.-]*(?:\^[\w'.-]*)+")  # from a word's 1st letter
_DATE = re.compile(
    r"(?<!\d)(?<!\d\.)(?:19|20)\d\d(-?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d|\.\d)"
)
#: Python's string escapes as ``repr()`` and ``ascii()`` write them (:func:`_escaped_spans`),
#: and those that stand for a character other than themselves (a quick check).
_ESCAPE = re.compile(
    r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U00(?:0[0-9a-fA-F]|10)[0-9a-fA-F]{4}|[\\'\"tnr])"
)
_ESCAPE_HINT = re.compile(
    r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U00(?:0[0-9a-fA-F]|10)[0-9a-fA-F]{4}|[tnr])"
)
#: A hexadecimal token (a hash, a UUID's group; folded: small letters) …
_HEX = re.compile(r"[0-9a-f]+")
HEX_LENGTH = 16
"""… of at least this many hex digits is a hash, never an identifier with a key glued."""
#: A password inside a database URL (``scheme://user:PASSWORD@host``).
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@")
_JOINS = re.compile(f"[{re.escape(JOINING)}]{{1,{JOIN_LIMIT}}}")
_DIGIT_JOINS = re.compile(f"[{re.escape(DIGIT_JOINING)}]{{1,{JOIN_LIMIT}}}")
_WORD_SPLIT = re.compile(f"({WORD.pattern})")
_SPACE_RUN = re.compile(f"[{SPACES}]{{1,{JOIN_LIMIT}}}")
#: How a gap joins the words on either side (:func:`_join_kind`): not; letters to digits
#: only (``/``, ``:``, ``#``); always (dashes, ``_``); letters to digits and digit groups
#: (spaces: ``778 899``; one full stop, comma or apostrophe: ``778.899``, ``778,899``,
#: ``778'899``, the whole number in thousands only: :data:`_THOUSANDS`).
#: Also after an ID's letters only: a solidus (``MRN: 778/899``); after a first digit group
#: in brackets: the closing bracket (``(778) 899``).
_APART, _LETTER_DIGIT, _ALWAYS, _SPACED, _DOTTED, _COMMA, _QUOTED, _SLASHED, _BRACKETED = range(9)
_THOUSANDS = (_DOTTED, _COMMA, _QUOTED)
_ONE_CHARACTER = (
    dict.fromkeys(FULL_STOPS, _DOTTED)
    | dict.fromkeys(COMMAS, _COMMA)
    | dict.fromkeys(APOSTROPHES, _QUOTED)
    | dict.fromkeys(SLASHES, _SLASHED)
)  # gaps of one of these characters (:func:`_join_kind`)
#: What a non-ASCII character is to matching (:func:`_kind`).
_PLAIN, _MARK, _IGNORABLE, _OTHER = range(4)


def redact(text: str) -> str:
    """``text`` with remembered identifiers, PN-looking and date-looking values masked, and
    without default ignorable characters (invisible: ``J\u200bane`` is ``Jane``)."""
    kinds = _kinds(text)
    if _IGNORABLE in kinds:
        text = DEFAULT_IGNORABLE.sub("", text)
        kinds = _kinds(text)
    spans = _known_spans(text, kinds)
    if "\\" in text and _ESCAPE_HINT.search(text):
        spans = _merge(spans + _escaped_spans(text))
    if spans:
        pieces, last = [], 0
        for start, end in spans:
            pieces += [text[last:start], MASK]
            last = end
        text = "".join(pieces) + text[last:]
    text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    return _DATE.sub(MASK, _PN.sub(MASK, text))


def _known_spans(text: str, kinds: set[int]) -> list[tuple[int, int]]:
    """(start, end) of every remembered key in ``text`` (:func:`_spans_in`; ``kinds``: of its
    non-ASCII characters, :func:`_kinds`), also where combining marks or format characters
    are inserted into it (``Ja\u0301ne``): a text holding some is matched a second time
    without them."""
    spans = _spans_in(text, kinds <= {_PLAIN})
    if _MARK in kinds:
        kept = [k for k, char in enumerate(text) if _kind(char) != _MARK]
        plain = _spans_in("".join(map(text.__getitem__, kept)), False)
        kept.append(len(text))  # a span ends where the next character kept starts: its marks
        spans = _merge(spans + [(kept[start], kept[end]) for start, end in plain])
    return spans


def _escaped_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every remembered key in ``text`` read with Python's backslash escapes
    decoded (an OS error's path is written as ``repr()`` writes it:
    ``'/x/Waylon S\\u200bmithers'``, ``M\\xfcller`` by ``ascii()``): escapes as
    ``repr()`` and ``ascii()`` produce them (``\\xhh``, ``\\uhhhh``, ``\\Uhhhhhhhh``,
    ``\\t``, ``\\n``, ``\\r``, ``\\\\``, quotes), read left to right; a span covers
    the escapes inside it."""
    chars: list[str] = []
    starts: list[int] = []  # where each decoded character starts in ``text`` …
    ends: list[int] = []  # … and ends
    last = 0
    for found in _ESCAPE.finditer(text):
        chars += text[last : found.start()]
        starts += range(last, found.start())
        ends += range(last + 1, found.start() + 1)
        chars.append(_unescape(found[0]))
        starts.append(found.start())
        ends.append(found.end())
        last = found.end()
    chars += text[last:]
    starts += range(last, len(text))
    ends += range(last + 1, len(text) + 1)
    kept = [k for k, char in enumerate(chars) if not DEFAULT_IGNORABLE.fullmatch(char)]
    decoded = "".join(map(chars.__getitem__, kept))
    spans = _known_spans(decoded, _kinds(decoded))
    return [(starts[kept[start]], ends[kept[end - 1]]) for start, end in spans]


def _unescape(escape: str) -> str:
    """The character a Python string escape (``\\u200b``, ``\\t``, ``\\\\``) stands for."""
    if escape[1] in "xuU":
        return chr(int(escape[2:], 16))
    return {"t": "\t", "n": "\n", "r": "\r"}.get(escape[1], escape[1])


def _kinds(text: str) -> set[int]:
    """The kinds (:func:`_kind`) of the non-ASCII characters of ``text`` (empty: ASCII)."""
    return set(map(_kind, set(_NON_ASCII.findall(text)))) if not text.isascii() else set()


@functools.lru_cache(maxsize=4096)
def _kind(char: str) -> int:
    """What a non-ASCII character is to matching (cached: log lines repeat them):
    :data:`_IGNORABLE` (Unicode Default_Ignorable_Code_Point), :data:`_MARK` (another
    combining mark, Mn, Mc, Me, or format character, Cf), :data:`_PLAIN` (a symbol no word
    holds that NFKC leaves as it is: ``°``, ``×``, ``…``), :data:`_OTHER`."""
    if DEFAULT_IGNORABLE.fullmatch(char):
        return _IGNORABLE
    if unicodedata.category(char) in ("Mn", "Mc", "Me", "Cf"):
        return _MARK
    plain = WORD.match(char) is None and unicodedata.normalize("NFKC", char) == char
    return _PLAIN if plain and char.lower() == char else _OTHER


def _spans_in(text: str, ascii_words: bool) -> list[tuple[int, int]]:
    """(start, end) of every remembered key in ``text``, longest match first, left to right;
    sorted, not overlapping; ``ascii_words``: its words are its ASCII words (ASCII text, or
    only plain symbols besides).  Pending identifiers (:func:`~.keys.remember_later`) are
    built first, on this thread (:func:`~.keys.materialise`)."""
    materialise()  # never match while a batch is pending
    reg = registry
    found: list[tuple[int, int]] = []
    with reg.lock:
        if not reg.single and not reg.multi:
            return found
        if ascii_words:
            parts = _ASCII_WORD.split(text.lower())
            raw = words = parts[1::2]
        else:
            parts = _WORD_SPLIT.split(text)
            raw = parts[1::2]
            words = [fold(w) for w in raw]
        gaps = parts[::2]  # gaps[k]: the text before word k
        joins = [_SPACED if g == " " else _join_kind(g) for g in gaps[1:-1]]
        joins.append(0)  # joins[i]: how word i and the next are joined (_join_kind)
        i = 0
        while i < len(words):
            word = words[i]
            size = _run_at(words, i) if word in reg.starts else 0
            if not size and joins[i]:
                size = _joined_at(words, joins, i, (gaps[i] or " ")[-1] in OPEN_BRACKETS)
            if not size and len(word) >= MIN_LENGTH and _is_key_word(word):
                size = 0 if _in_longer_token(words, gaps, joins, i) else 1
            if size:
                found.append(_span(raw, gaps, i, i + size))
            i += size or 1
        dates = birth_date_ranges(words, gaps) if may_hold_date(text) else []
    dates = [_span(raw, gaps, first, stop) for first, stop in dates]
    return _merge(found + dates) if dates else found


@functools.lru_cache(maxsize=1024)
def _join_kind(gap: str) -> int:
    """How a gap between two words joins them (:data:`_APART` … :data:`_BRACKETED`;
    :func:`_joined_at`)."""
    if gap == " ":
        return _SPACED
    if gap in _ONE_CHARACTER:
        return _ONE_CHARACTER[gap]
    if gap[0] in CLOSE_BRACKETS and len(gap) <= 2 and gap[1:] in SPACES:
        return _BRACKETED
    if _JOINS.fullmatch(gap) is None:
        return _APART
    if _DIGIT_JOINS.fullmatch(gap):
        return _ALWAYS
    return _SPACED if _SPACE_RUN.fullmatch(gap) else _LETTER_DIGIT


def _span(raw: list[str], gaps: list[str], first: int, stop: int) -> tuple[int, int]:
    """(start, end) in the text of its words ``first`` to ``stop - 1`` (``raw``: the text's
    words as written, ``gaps[k]``: the text before word ``k``)."""
    start = sum(map(len, gaps[: first + 1])) + sum(map(len, raw[:first]))
    inside = sum(map(len, gaps[first + 1 : stop])) + sum(map(len, raw[first:stop]))
    return start, start + inside


def _joined_at(words: list[str], joins: list[int], i: int, bracketed: bool = False) -> int:
    """The word count (2 or more) of the longest run from word ``i``, its words joined
    (``joins``: :func:`_join_kind` of each gap), whose concatenation is a one-word key of
    :data:`GLUED_LENGTH` or more characters; 0 when none.  Two words are joined across a dash
    or ``_`` always; across a space or one ``.`` from letters to digits or back, or between
    two digits (a number written in digit groups, ``778 899``, ``778.899``; one comma or
    apostrophe too, ``778,899``, ``778'899``; a closing bracket after a first group in
    brackets, ``bracketed``: ``(778) 899``; one ``/`` only in a run that starts with the ID's
    letters, ``MRN: 778/899``, not ``778/899``); across ``/``, ``:``, ``#`` from letters to
    digits or back (``MRN: 4455667``); never between two letters across anything but dashes
    (``a nan is``: words).  A number is split into digit
    groups one way (spaces, full stops, commas or apostrophes, not two of them: ``12.5
    13.25`` is two numbers), and a dotted one is found only whole (:func:`_whole_number`)."""
    reg, joined, j = registry, words[i], i
    checked = len(joined) >= GLUED_LENGTH  # its first GLUED_LENGTH characters begin a key
    if checked and joined[:GLUED_LENGTH] not in reg.prefixes:
        return 0
    best, grouped = 0, _APART  # grouped: how digit groups were split (_SPACED, _DOTTED)
    while True:
        kind = joins[j]
        if kind == _APART or len(joined) + len(words[j + 1]) > reg.glued_longest:
            return best
        if kind != _ALWAYS:
            digit = words[j][-1].isdigit()
            if digit == words[j + 1][0].isdigit():  # two letters, or two digits
                if not digit or kind < _SPACED or grouped not in (_APART, kind):
                    return best
                if kind == _SLASHED and words[i][0].isdigit():
                    return best  # ``778/899``: a fraction, a path
                if kind == _BRACKETED and not (j == i and bracketed):
                    return best
                grouped = kind
        j += 1
        joined += words[j]
        if len(joined) >= GLUED_LENGTH:
            if not checked and joined[:GLUED_LENGTH] not in reg.prefixes:
                return best
            checked = True
            if joined in reg.single and (not grouped or _whole_number(words, joins, i, j, grouped)):
                best = j - i + 1


def _whole_number(words: list[str], joins: list[int], i: int, j: int, grouped: int) -> bool:
    """Whether words ``i`` to ``j``, a number split into digit groups (``grouped``: by spaces,
    full stops, commas or apostrophes), are not glued to more digits by one of the last three
    before or after them (``1.2.778.899.5``: a UID's components, ``778 899.5``, ``778,899.5``:
    decimals, ``1,778,899``: a longer number), and, split by one of them, are written in
    thousands with it alone (``778.899``, ``4,455,667``, ``778'899``; not a version, an
    address or a decimal: ``1.26.10``, ``127.0.0.1``, ``4455.667``, ``4,455.667``).  A list
    without spaces written in thousands is that number: ``101,102`` is 101102."""
    before = i > 0 and joins[i - 1] in _THOUSANDS and words[i - 1][-1].isdigit()
    after = j + 1 < len(words) and joins[j] in _THOUSANDS and words[j + 1][0].isdigit()
    if (before and words[i][0].isdigit()) or (after and words[j][-1].isdigit()):
        return False
    if grouped not in _THOUSANDS:
        return True
    first = True  # the next digit group is a number's first: 1 to 3 digits
    for m in range(i, j):
        if joins[m] == grouped and words[m][-1].isdigit() and words[m + 1][0].isdigit():
            if first and len(words[m]) - len(words[m].rstrip("0123456789")) > 3:
                return False
            if len(words[m + 1]) != 3 or not words[m + 1].isdigit():
                return False
            first = False
        else:
            first = True
    return True


def _in_longer_token(words: list[str], gaps: list[str], joins: list[int], i: int) -> bool:
    """Whether word ``i``, a key or holding one, is part of a longer token that is no
    identifier: a number's digits after its decimal point (``0.778899``; a dotted number of
    three or more parts, a UID, keeps its components masked), or a hexadecimal token holding a
    key glued inside it (a hash, :data:`HEX_LENGTH` or more hex digits; a UUID's group: an
    MRN's digits by chance)."""
    word = words[i]
    if word.isdigit():
        point = i > 0 and joins[i - 1] == _DOTTED and words[i - 1].isdigit()
        uid = i > 1 and joins[i - 2] == _DOTTED and words[i - 2][-1:].isdigit()
        more = i + 1 < len(words) and joins[i] == _DOTTED and words[i + 1][0].isdigit()
        return point and not uid and not more
    if word in registry.single or _HEX.fullmatch(word) is None:
        return False
    return len(word) >= HEX_LENGTH or _in_uuid(words, gaps, i)


def _in_uuid(words: list[str], gaps: list[str], i: int) -> bool:
    """Whether word ``i`` (hex digits) is a group of a UUID written 8-4-4-4-12 (RFC 9562)."""
    for first in range(max(0, i - 4), min(i, len(words) - 5) + 1):
        group = words[first : first + 5]
        dashes = gaps[first + 1 : first + 5]
        if list(map(len, group)) == [8, 4, 4, 4, 12] and dashes == ["-"] * 4:
            return all(_HEX.fullmatch(g) for g in group)
    return False


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _run_at(words: list[str], i: int) -> int:
    """The word count of the longest multi-word key starting at ``words[i]`` (0: none)."""
    for n in range(min(registry.longest, len(words) - i), 1, -1):
        if " ".join(words[i : i + n]) in registry.multi:
            return n
    return 0


def _is_key_word(word: str) -> bool:
    """Whether ``word`` (of :data:`MIN_LENGTH` or more characters) is a remembered key and
    not CobbDesk's own, or holds one glued inside it, or is a name written without its
    separator."""
    if word in registry.single and word not in VOCABULARY:
        return True
    return len(word) >= GLUED_LENGTH and (_holds_glued_key(word) or _is_glued_name(word))


def _is_glued_name(word: str) -> bool:
    """Whether ``word`` of :data:`GLUED_LENGTH` or more characters is a two-word key written
    without its separator (``DoeJane``, ``janedoe``): split after each of its first
    characters that begin a multi-word key (a set lookup per split point)."""
    reg, size = registry, len(word)
    if size < GLUED_LENGTH or word in VOCABULARY:
        return False
    for k in range(2, size - 1):
        if word[:k] in reg.starts and f"{word[:k]} {word[k:]}" in reg.multi:
            return True
    return False


def _holds_glued_key(word: str) -> bool:
    """Whether ``word`` (not CobbDesk's own) holds a one-word key of :data:`GLUED_LENGTH` or
    more characters glued to other letters or digits (``xMRN4455667``, ``SMITHERS20200101``);
    a key starting or ending with a digit does not count where the digits run on
    (``Surname20000`` does not hold ``Surname2000``: a longer number is another number).
    One prefix-set lookup per character, more only where a prefix is found."""
    reg, size = registry, len(word)
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
