"""SMS length and splitting as the networks count (3GPP TS 23.038): GSM-7 septets with a
two-septet extension table, UCS-2 in UTF-16 code units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amparo.alerts.sms import (
    DEFAULT_TRANSLITERATION,
    GSM7_BASIC_TABLE,
    GSM7_CHARACTERS,
    GSM7_EXTENSION,
    encoding,
    fit_one_segment,
    segment_count,
    segments,
    unit_count,
)

FAMILY = "👨\u200d👩\u200d👧"  # 8 UTF-16 code units drawn as one emoji


def units_of(part: str, enc: str) -> int:
    if enc == "GSM-7":
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in part)
    return len(part.encode("utf-16-le")) // 2


# --- the alphabet ----------------------------------------------------------------------


def test_it_holds_the_default_alphabet_in_code_order():
    assert len(GSM7_BASIC_TABLE) == 128
    assert GSM7_BASIC_TABLE[0x00] == "@"
    assert GSM7_BASIC_TABLE[0x02] == "$"
    assert GSM7_BASIC_TABLE[0x09] == "Ç"
    assert GSM7_BASIC_TABLE[0x1B] == "\x1b"
    assert GSM7_BASIC_TABLE[0x24] == "¤"
    assert GSM7_BASIC_TABLE[0x40] == "¡"
    assert GSM7_BASIC_TABLE[0x60] == "¿"
    assert GSM7_BASIC_TABLE[0x7F] == "à"


@pytest.mark.parametrize("ch", list("éèùìòÇØøÅåÄÖÑÜ§¿¡äöñüàÆæßÉΔΩ@£¥\n\r"))
def test_it_counts_letters_of_the_default_alphabet_as_gsm7(ch):
    assert encoding(f"a{ch}b") == "GSM-7"
    assert unit_count(ch) == 1


@pytest.mark.parametrize("ch", list("áíóúçãõâêôÁÍÓÚÃÕÊÔÀÈÌÒÙ`\x1b’“…") + ["\u00a0"])
def test_it_counts_characters_outside_the_alphabet_as_ucs2(ch):
    assert encoding(f"a{ch}b") == "UCS-2"


@pytest.mark.parametrize("ch", list("^{}\\[~]|€\f"))
def test_it_counts_extension_characters_as_two_septets(ch):
    assert encoding(ch) == "GSM-7"
    assert unit_count(ch) == 2


def test_it_counts_an_emoji_as_two_ucs2_units():
    assert encoding("😀") == "UCS-2"
    assert unit_count("😀") == 2
    assert unit_count("á😀") == 3
    assert unit_count(FAMILY) == 8


def test_it_counts_an_empty_text_as_nothing_to_send():
    assert encoding("") == "GSM-7"
    assert segments("") == []
    assert segment_count("") == 0


# --- exact boundaries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("a" * 306, [153, 153]),
        ("a" * 307, [153, 153, 1]),
        ("á" * 70, [70]),
        ("á" * 71, [67, 4]),
        ("á" * 134, [67, 67]),
        ("á" * 135, [67, 67, 1]),
    ],
)
def test_it_splits_at_the_exact_limits(text, sizes):
    parts = segments(text)
    assert [len(part) for part in parts] == sizes
    assert segment_count(text) == len(sizes)
    assert "".join(parts) == text


def test_it_counts_extension_characters_against_the_single_segment():
    assert segment_count("a" * 158 + "€") == 1
    assert segment_count("a" * 159 + "€") == 2
    assert segment_count("[" * 80) == 1
    assert segment_count("[" * 81) == 2


def test_it_never_splits_an_escape_pair_across_segments():
    # 152 septets + "€" (2) would be 154: the euro sign moves whole to the next segment.
    parts = segments("a" * 152 + "€" + "b" * 10)
    assert parts == ["a" * 152, "€" + "b" * 10]


def test_it_fills_a_segment_exactly_with_an_escape_pair_at_its_end():
    parts = segments("a" * 151 + "€" + "b" * 10)
    assert parts == ["a" * 151 + "€", "b" * 10]


def test_it_counts_emoji_against_the_single_segment():
    assert segment_count("a" * 68 + "😀") == 1
    assert segment_count("a" * 69 + "😀") == 2


def test_it_never_splits_a_surrogate_pair_across_segments():
    # 66 units + "😀" (2) would be 68: the emoji moves whole to the next segment.
    parts = segments("a" * 66 + "😀" + "b" * 10)
    assert parts == ["a" * 66, "😀" + "b" * 10]


def test_it_fills_a_segment_exactly_with_a_surrogate_pair_at_its_end():
    parts = segments("a" * 65 + "😀" + "b" * 10)
    assert parts == ["a" * 65 + "😀", "b" * 10]


def test_it_keeps_a_zwj_emoji_sequence_in_one_segment():
    parts = segments("a" * 63 + FAMILY + "b" * 10)
    assert parts == ["a" * 63, FAMILY + "b" * 10]


def test_it_keeps_a_combining_accent_with_its_letter():
    parts = segments("a" * 66 + "e\u0301" + "b" * 10)
    assert parts == ["a" * 66, "e\u0301" + "b" * 10]


# --- where it splits -------------------------------------------------------------------


def test_it_splits_at_a_space_near_the_end_of_a_segment():
    text = "palabra " * 40
    parts = segments(text)
    assert "".join(parts) == text
    for part in parts[:-1]:
        assert part.endswith(" ")
        assert 0.8 * 153 <= len(part) <= 153


def test_it_splits_just_before_a_space_that_does_not_fit():
    parts = segments("a" * 153 + " " + "b" * 10)
    assert parts == ["a" * 153, " " + "b" * 10]


def test_it_splits_hard_when_the_only_space_is_too_early():
    parts = segments("a" * 10 + " " + "b" * 300)
    assert [len(part) for part in parts] == [153, 153, 5]


def test_it_splits_a_ucs2_text_at_a_space():
    text = "ação " * 30
    parts = segments(text)
    assert "".join(parts) == text
    for part in parts[:-1]:
        assert part.endswith(" ")
        assert len(part) <= 67


# --- properties ------------------------------------------------------------------------

GSM7_ALPHABET = sorted(GSM7_CHARACTERS)
MIXED_ALPHABET = st.sampled_from(GSM7_ALPHABET + list("áçõ😀🆘👍🏽\u200d\u0301 "))


def check_parts(text: str) -> None:
    parts = segments(text)
    assert "".join(parts) == text
    assert all(parts)
    enc = encoding(text)
    single, concatenated = (160, 153) if enc == "GSM-7" else (70, 67)
    if units_of(text, enc) <= single:
        assert parts == ([text] if text else [])
    else:
        assert len(parts) > 1
        assert all(units_of(part, enc) <= concatenated for part in parts)
    assert segment_count(text) == len(parts)
    for part in parts:
        # No part starts with the second half of a surrogate pair.
        part.encode("utf-16", errors="strict")


@given(st.text(alphabet=GSM7_ALPHABET, max_size=1000))
def test_it_joins_gsm7_segments_back_into_the_text_within_limits(text):
    check_parts(text)


@given(st.text(alphabet=MIXED_ALPHABET, max_size=600))
def test_it_joins_ucs2_segments_back_into_the_text_within_limits(text):
    check_parts(text)


@given(st.text(max_size=600))
def test_it_joins_any_text_back_within_limits(text):
    check_parts(text)


@given(st.text(alphabet=GSM7_ALPHABET, max_size=1000))
def test_it_counts_gsm7_segments_like_the_arithmetic(text):
    septets = unit_count(text)
    if septets <= 160:
        expected = 1 if text else 0
    else:
        expected = -(-septets // 153)
    # An escape pair that cannot straddle a boundary may cost one more segment.
    assert expected <= segment_count(text) <= expected + 1


# --- fitting one segment ---------------------------------------------------------------


def test_it_transliterates_a_spanish_alert_to_fit_one_segment():
    text = "Amparo: María pidió ayuda en la reunión comunitaria de Río Claro. Responda OK 7K2M9Q"
    assert encoding(text) == "UCS-2"
    assert segment_count(text) == 2
    fitted = fit_one_segment(text)
    assert fitted == (
        "Amparo: Maria pidio ayuda en la reunion comunitaria de Rio Claro. Responda OK 7K2M9Q"
    )
    assert encoding(fitted) == "GSM-7"
    assert segment_count(fitted) == 1


def test_it_transliterates_a_portuguese_alert_to_fit_one_segment():
    text = "Amparo: ameaça contra a associação em São João. Não responda; confirme com OK 7K2M9Q"
    fitted = fit_one_segment(text)
    assert fitted == (
        "Amparo: ameaca contra a associacao em Sao Joao. Nao responda; confirme com OK 7K2M9Q"
    )
    assert segment_count(fitted) == 1


def test_it_keeps_the_letters_that_gsm7_has():
    text = "Ñandú: niño, pingüino, café, Ç, à. " + "ó" * 40
    fitted = fit_one_segment(text)
    assert fitted == "Ñandu: niño, pingüino, café, Ç, à. " + "o" * 40


def test_it_replaces_typographic_quotes_and_dashes():
    text = "“Alerta” — María’s team… " * 3
    assert fit_one_segment(text) == '"Alerta" - Maria\'s team... ' * 3


def test_it_leaves_a_text_that_already_fits_unchanged():
    assert fit_one_segment("Reunión mañana") == "Reunión mañana"
    assert fit_one_segment("") == ""


def test_it_leaves_a_text_too_long_even_transliterated_unchanged():
    text = "ó" * 161
    assert fit_one_segment(text) == text


def test_it_leaves_a_long_gsm7_text_unchanged():
    text = "a" * 200
    assert fit_one_segment(text) == text


def test_it_leaves_a_text_with_emoji_unchanged():
    text = "Alerta 🆘 reunión " + "ó" * 60
    assert fit_one_segment(text) == text


def test_it_takes_other_replacements():
    text = "ł" * 80
    assert fit_one_segment(text) == text
    assert fit_one_segment(text, replacements={"ł": "l"}) == "l" * 80


def test_it_never_replaces_a_gsm7_character_even_if_asked():
    text = "é" + "ó" * 80
    assert fit_one_segment(text, replacements={"é": "e", "ó": "o"}) == "é" + "o" * 80


def test_it_transliterates_only_characters_outside_gsm7_into_gsm7():
    for ch, replacement in DEFAULT_TRANSLITERATION.items():
        assert ch not in GSM7_CHARACTERS
        assert encoding(replacement) == "GSM-7"


@given(st.text(max_size=300))
def test_it_fits_one_segment_or_returns_the_text(text):
    fitted = fit_one_segment(text)
    assert fitted == text or (encoding(fitted) == "GSM-7" and segment_count(fitted) == 1)
