"""Read an inbound SMS body as a command (DESIGN.md section 8).

Spanish, Portuguese and English keywords; case, accents, surrounding whitespace and
punctuation around a word are ignored:

    ALERTA|SOS|AYUDA|HELP|SOCORRO [text]                  panic alert
    AMENAZA|AMEACA|AMEAÇA|THREAT [BAJA|MEDIA|ALTA] [text]  threat report
    OK|RECIBIDO|RECEBIDO <code> [text]                      acknowledge an alert
    LLEGUE|LLEGUÉ|CHEGUEI|CHECKIN|CHECK-IN|CHECK IN <pin> [text]   check-in

The keyword is the whole first word: "ALERTAS" or "OKAY" are not commands, a typo must
not raise an alarm nor acknowledge one. "CHECK IN" (two words) is accepted because phone
autocorrect splits "CHECKIN"; "CHECK" alone is nothing. A bare "AMENAZA" is a threat
report without text: a signal of danger is never turned away for lacking details.

Everything else is "unknown", which the channel stores and answers with help_text();
DESIGN.md: an unknown message is never dropped. parse() never raises.

Pure functions, no Django: the SMS view calls parse() and then the same actions as the web.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# Free text kept from a message: ten concatenated GSM-7 segments' worth.
MAX_TEXT_LENGTH: Final = 1600


class Kind(StrEnum):
    # Values match alerts.models.AlertKind where the two meet (panic, threat).
    PANIC = "panic"
    THREAT = "threat"
    ACKNOWLEDGE = "acknowledge"
    CHECKIN = "checkin"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    """Why a message is unknown, so the reply and the log can say what was missing."""

    EMPTY = "empty"
    UNKNOWN_KEYWORD = "unknown_keyword"
    INVALID_CODE = "invalid_code"
    INVALID_PIN = "invalid_pin"


@dataclass(frozen=True, slots=True)
class SmsCommand:
    kind: str
    # The sender's words, as written (accents kept), at most MAX_TEXT_LENGTH characters.
    # For an unknown message: the whole body.
    text: str = ""
    # "low", "medium", "high" (alerts.models.Severity values) or None when not given.
    level: str | None = None
    code: str | None = None
    pin: str | None = None
    # The keyword as matched: upper case, accents and surrounding punctuation removed.
    keyword: str = ""
    # Set only when kind is "unknown" (a Reason value).
    reason: str = ""


PANIC_KEYWORDS: Final = frozenset({"ALERTA", "SOS", "AYUDA", "HELP", "SOCORRO"})
THREAT_KEYWORDS: Final = frozenset({"AMENAZA", "AMEACA", "THREAT"})
ACKNOWLEDGE_KEYWORDS: Final = frozenset({"OK", "RECIBIDO", "RECEBIDO"})
CHECKIN_KEYWORDS: Final = frozenset({"LLEGUE", "CHEGUEI", "CHECKIN", "CHECK-IN", "CHECK IN"})

LEVELS: Final = {
    "BAJA": "low",
    "BAIXA": "low",
    "LOW": "low",
    "MEDIA": "medium",  # Spanish MEDIA, Portuguese MÉDIA
    "MEDIUM": "medium",
    "ALTA": "high",
    "HIGH": "high",
}

# Alerts carry a code of at most 12 characters (alerts.models.Alert.code).
_CODE = re.compile(r"[A-Z0-9]{4,12}", re.ASCII)
_PIN = re.compile(r"[0-9]{4,8}", re.ASCII)

# Keywords that say which language the sender writes in; ALERTA, SOS and OK say nothing.
_LANGUAGE_OF_KEYWORD: Final = {
    "AYUDA": "es",
    "AMENAZA": "es",
    "RECIBIDO": "es",
    "LLEGUE": "es",
    "SOCORRO": "pt",
    "AMEACA": "pt",
    "RECEBIDO": "pt",
    "CHEGUEI": "pt",
    "HELP": "en",
    "THREAT": "en",
    "CHECKIN": "en",
    "CHECK-IN": "en",
    "CHECK IN": "en",
}
DEFAULT_LANGUAGE: Final = "es"

# Each fits one GSM-7 segment (160 septets, no character outside the GSM alphabet: no
# á í ó ú ç ã), checked by the tests. Not in the gettext catalogue on purpose: the
# keywords are per language and a translation could silently cost a second SMS.
_HELP_TEXT: Final = {
    "es": (
        "Amparo: ALERTA <texto> pide ayuda. AMENAZA BAJA/MEDIA/ALTA <texto> reporta "
        "amenaza. OK <codigo> confirma alerta. LLEGUE <pin> marca llegada."
    ),
    "pt": (
        "Amparo: SOCORRO <texto> pede ajuda. AMEACA BAIXA/MEDIA/ALTA <texto> relata "
        "risco. OK <codigo> confirma alerta. CHEGUEI <pin> marca chegada."
    ),
    "en": (
        "Amparo: SOS <text> asks for help. THREAT LOW/MEDIUM/HIGH <text> reports a "
        "threat. OK <code> confirms an alert. CHECKIN <pin> says you arrived."
    ),
}


def _fold(word: str) -> str:
    """Upper case without accents, invisible format characters, and with any dash as
    "-": the form keywords are compared in."""
    kept = []
    for ch in unicodedata.normalize("NFKD", word):
        category = unicodedata.category(ch)
        if unicodedata.combining(ch) or category == "Cf":
            continue
        kept.append("-" if category == "Pd" else ch)
    return "".join(kept).upper()


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _word_key(word: str) -> str:
    """A word as compared: folded, without punctuation around it ("¡Ayuda!" -> AYUDA)."""
    folded = _fold(word)
    start, end = 0, len(folded)
    while start < end and _is_punctuation(folded[start]):
        start += 1
    while end > start and _is_punctuation(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _sanitise(body: object) -> str:
    """The body as text that can be stored: no NUL or other control characters (the
    PostgreSQL backend refuses NUL), no lone surrogates (not encodable as UTF-8)."""
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", errors="replace")
    elif not isinstance(body, str):
        body = str(body)
    kept = []
    for ch in body:
        category = unicodedata.category(ch)
        if category == "Cs":
            continue
        if category == "Cc" and ch not in "\t\n\r":
            if ch.isspace():
                kept.append(" ")
            continue
        kept.append(ch)
    return "".join(kept)


def _split_word(text: str) -> tuple[str, str]:
    """The first word and the rest, both without surrounding whitespace."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    return parts[0], parts[1].strip()


def _free_text(text: str) -> str:
    return text.strip()[:MAX_TEXT_LENGTH].rstrip()


def parse(body: str | bytes | None) -> SmsCommand:
    """The command in an inbound SMS body. Never raises; unknown bodies come back as
    kind "unknown" with the body in text and a reason."""
    clean = _sanitise(body)
    first, rest = _split_word(clean)
    if not first:
        return SmsCommand(kind=Kind.UNKNOWN, reason=Reason.EMPTY)
    keyword = _word_key(first)
    if keyword == "CHECK":
        second, after = _split_word(rest)
        if _word_key(second) == "IN":
            keyword, rest = "CHECK IN", after

    if keyword in PANIC_KEYWORDS:
        return SmsCommand(kind=Kind.PANIC, text=_free_text(rest), keyword=keyword)

    if keyword in THREAT_KEYWORDS:
        level_word, after = _split_word(rest)
        level = LEVELS.get(_word_key(level_word))
        text = after if level else rest
        return SmsCommand(kind=Kind.THREAT, text=_free_text(text), level=level, keyword=keyword)

    if keyword in ACKNOWLEDGE_KEYWORDS:
        token, after = _split_word(rest)
        code = _word_key(token)
        if not _CODE.fullmatch(code):
            return _unknown(clean, Reason.INVALID_CODE, keyword)
        return SmsCommand(kind=Kind.ACKNOWLEDGE, text=_free_text(after), code=code, keyword=keyword)

    if keyword in CHECKIN_KEYWORDS:
        token, after = _split_word(rest)
        pin = _word_key(token)
        if not _PIN.fullmatch(pin):
            return _unknown(clean, Reason.INVALID_PIN, keyword)
        return SmsCommand(kind=Kind.CHECKIN, text=_free_text(after), pin=pin, keyword=keyword)

    return _unknown(clean, Reason.UNKNOWN_KEYWORD, "")


def _unknown(clean: str, reason: Reason, keyword: str) -> SmsCommand:
    return SmsCommand(kind=Kind.UNKNOWN, text=_free_text(clean), keyword=keyword, reason=reason)


def guess_language(keyword: str) -> str:
    """ "es", "pt" or "en" from the keyword the sender used, for the reply; "es" when the
    keyword is shared (ALERTA, SOS, OK) or not one of ours."""
    key = " ".join(_word_key(word) for word in _sanitise(keyword).split())
    return _LANGUAGE_OF_KEYWORD.get(key, DEFAULT_LANGUAGE)


def help_text(language: str = DEFAULT_LANGUAGE) -> str:
    """A short reply listing the commands, in one GSM-7 SMS. "pt-BR" or "en_GB" work;
    any other language gets Spanish."""
    base = _sanitise(language).strip().lower().replace("_", "-").split("-")[0]
    return _HELP_TEXT.get(base, _HELP_TEXT[DEFAULT_LANGUAGE])
