"""SMS length and splitting, counted the way the encodings count (3GPP TS 23.038).

A message that uses only the GSM 7-bit default alphabet travels as GSM-7: 160 septets in
one segment, 153 per segment once concatenated (the user data header takes the rest).
Characters of the extension table are sent as ESC + code and count 2 septets. One
character outside the alphabet turns the whole message into UCS-2: 70 UTF-16 code units
in one segment, 67 per concatenated segment; a character outside the BMP (most emoji) is
a surrogate pair and counts 2.

Pure functions, no Django: the outbox and the SMS channel both use them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7: Final = "GSM-7"
UCS2: Final = "UCS-2"

GSM7_SINGLE: Final = 160
GSM7_CONCATENATED: Final = 153
UCS2_SINGLE: Final = 70
UCS2_CONCATENATED: Final = 67

# 3GPP TS 23.038, section 6.2.1: the default alphabet, in code order 0x00..0x7F.
# 0x1B is the escape to the extension table, not a character of its own.
_ESCAPE = "\x1b"
GSM7_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# 3GPP TS 23.038, section 6.2.1.1: the basic character set extension, sent as ESC + code.
GSM7_EXTENSION_TABLE: Final = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

GSM7_BASIC: Final = frozenset(GSM7_BASIC_TABLE) - {_ESCAPE}
GSM7_EXTENSION: Final = frozenset(GSM7_EXTENSION_TABLE.values())
GSM7_CHARACTERS: Final = GSM7_BASIC | GSM7_EXTENSION

# Letters and punctuation that force UCS-2 in Spanish and Portuguese text, with their
# closest GSM-7 spelling. é è ì ò ù à ñ ü Ç É are in the alphabet and stay as they are.
DEFAULT_TRANSLITERATION: Final[Mapping[str, str]] = {
    "á": "a",
    "â": "a",
    "ã": "a",
    "í": "i",
    "î": "i",
    "ï": "i",
    "ó": "o",
    "ô": "o",
    "õ": "o",
    "ú": "u",
    "û": "u",
    "ç": "c",
    "ê": "e",
    "ë": "e",
    "Á": "A",
    "À": "A",
    "Â": "A",
    "Ã": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Í": "I",
    "Ì": "I",
    "Î": "I",
    "Ó": "O",
    "Ò": "O",
    "Ô": "O",
    "Õ": "O",
    "Ú": "U",
    "Ù": "U",
    "Û": "U",
    "ª": "a",
    "º": "o",
    # Phones turn quotes and dashes into typographic ones, which alone force UCS-2.
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",
}

# A split is moved back to the last whitespace if that keeps the segment at least this
# full, so words are not cut when a nearby space allows it.
_SOFT_SPLIT_FILL: Final = 0.8
# Never back off further than this to keep a character sequence together.
_MAX_CLUSTER_BACKOFF: Final = 8
_ZWJ: Final = "\u200d"


def encoding(text: str) -> Encoding:
    """ "GSM-7" when every character is in the default alphabet or its extension, else
    "UCS-2"."""
    if all(ch in GSM7_CHARACTERS for ch in text):
        return GSM7
    return UCS2


def _unit_weights(text: str, enc: Encoding) -> list[int]:
    if enc == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def unit_count(text: str) -> int:
    """The length as the network counts it: septets for GSM-7, UTF-16 code units for
    UCS-2."""
    return sum(_unit_weights(text, encoding(text)))


def _limits(enc: Encoding) -> tuple[int, int]:
    if enc == GSM7:
        return GSM7_SINGLE, GSM7_CONCATENATED
    return UCS2_SINGLE, UCS2_CONCATENATED


def _joins_previous(ch: str) -> bool:
    """A character that is drawn together with the one before it."""
    code = ord(ch)
    return (
        unicodedata.combining(ch) != 0
        or ch == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji or text style)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xDC00 <= code <= 0xDFFF  # a low surrogate held as its own code point
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _inseparable(text: str, cut: int) -> bool:
    """True when cutting text before index `cut` would break a drawn character."""
    return _joins_previous(text[cut]) or text[cut - 1] == _ZWJ


def _cut(text: str, start: int, end: int, prefix: list[int], limit: int) -> int:
    """Where to end the segment text[start:end], the longest that fits `limit`."""
    if end >= len(text) or text[end].isspace():
        return end
    # Prefer the last whitespace in the last ~20% of the segment (kept at its end).
    lowest = prefix[start] + int(limit * _SOFT_SPLIT_FILL)
    for i in range(end - 1, start, -1):
        if prefix[i + 1] < lowest:
            break
        if text[i].isspace():
            return i + 1
    # Else a hard split, moved back a little rather than cut an accent, a ZWJ sequence or
    # a skin tone off its character.
    cut = end
    while cut - start > 1 and end - cut < _MAX_CLUSTER_BACKOFF and _inseparable(text, cut):
        cut -= 1
    if _inseparable(text, cut):
        return end
    return cut


def segments(text: str) -> list[str]:
    """The parts the message is sent as. One part when it fits a single segment, else
    parts of at most 153 septets (GSM-7) or 67 code units (UCS-2). A character is never
    split, so an escape pair or a surrogate pair stays in one part. "".join(parts) is the
    text. An empty text sends nothing: []."""
    if not text:
        return []
    enc = encoding(text)
    single, concatenated = _limits(enc)
    weights = _unit_weights(text, enc)
    if sum(weights) <= single:
        return [text]
    prefix = [0]
    for weight in weights:
        prefix.append(prefix[-1] + weight)
    parts: list[str] = []
    start = 0
    end = 0
    while start < len(text):
        # Extend end as far as the segment allows; prefix is monotonic.
        end = max(end, start)
        while end < len(text) and prefix[end + 1] - prefix[start] <= concatenated:
            end += 1
        cut = _cut(text, start, end, prefix, concatenated)
        parts.append(text[start:cut])
        start = cut
    return parts


def segment_count(text: str) -> int:
    return len(segments(text))


def fit_one_segment(text: str, replacements: Mapping[str, str] = DEFAULT_TRANSLITERATION) -> str:
    """The text, or a GSM-7 spelling of it when only letters such as á ç õ keep it in
    UCS-2 and the GSM-7 spelling fits one segment: a Spanish or Portuguese alert then
    reaches the phone as one SMS. Characters already in GSM-7 are never replaced."""
    if segment_count(text) <= 1 or encoding(text) == GSM7:
        return text
    candidate = "".join(ch if ch in GSM7_CHARACTERS else replacements.get(ch, ch) for ch in text)
    if encoding(candidate) == GSM7 and segment_count(candidate) <= 1:
        return candidate
    return text
