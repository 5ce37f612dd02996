"""Country names as imported files spell them, to ISO 3166-1 alpha-2 codes.

A small table rather than a dependency: it covers every country in the Global Witness
file (monitoring/data) and the Spanish and Portuguese names of the Amazonian and Central
American countries that partners' own spreadsheets use. A name not here is not guessed:
the import lists the row with the reason, and the name can be added here.
"""

from __future__ import annotations

import unicodedata

ALPHA2_BY_NAME: dict[str, str] = {
    "argentina": "AR",
    "australia": "AU",
    "bangladesh": "BD",
    "bolivia": "BO",
    "bolivia (plurinational state of)": "BO",
    "brazil": "BR",
    "brasil": "BR",
    "burkina faso": "BF",
    "cambodia": "KH",
    "cameroon": "CM",
    "canada": "CA",
    "chad": "TD",
    "chile": "CL",
    "colombia": "CO",
    "costa rica": "CR",
    "democratic republic of congo": "CD",
    "democratic republic of the congo": "CD",
    "dr congo": "CD",
    "dominican republic": "DO",
    "republica dominicana": "DO",
    "ecuador": "EC",
    "el salvador": "SV",
    "france": "FR",
    "gabon": "GA",
    "gambia": "GM",
    "ghana": "GH",
    "guatemala": "GT",
    "guyana": "GY",
    "honduras": "HN",
    "india": "IN",
    "indonesia": "ID",
    "iran": "IR",
    "iraq": "IQ",
    "ireland": "IE",
    "kazakhstan": "KZ",
    "kenya": "KE",
    "kiribati": "KI",
    "laos": "LA",
    "liberia": "LR",
    "malaysia": "MY",
    "mexico": "MX",
    "mozambique": "MZ",
    "myanmar": "MM",
    "nepal": "NP",
    "nicaragua": "NI",
    "pakistan": "PK",
    "panama": "PA",
    "papua new guinea": "PG",
    "paraguay": "PY",
    "peru": "PE",
    "philippines": "PH",
    "romania": "RO",
    "russia": "RU",
    "saudi arabia": "SA",
    "senegal": "SN",
    "south africa": "ZA",
    "spain": "ES",
    "espana": "ES",
    "sri lanka": "LK",
    "suriname": "SR",
    "tanzania": "TZ",
    "thailand": "TH",
    "turkey": "TR",
    "uganda": "UG",
    "ukraine": "UA",
    "united states": "US",
    "united states of america": "US",
    "estados unidos": "US",
    "venezuela": "VE",
    "viet nam": "VN",
    "vietnam": "VN",
    "zambia": "ZM",
    "zimbabwe": "ZW",
    # Spanish and Portuguese names.
    "brasil (republica federativa do)": "BR",
    "colômbia": "CO",
    "equador": "EC",
    "mexique": "MX",
    "panamá": "PA",
    "perú": "PE",
    "guiana": "GY",
    "guayana": "GY",
    "surinam": "SR",
}
KNOWN_CODES = frozenset(ALPHA2_BY_NAME.values())


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_FOLDED = {_fold(name): code for name, code in ALPHA2_BY_NAME.items()}


def alpha2_of(name: str) -> str | None:
    """The ISO alpha-2 code of a country name or code; None when not known."""
    if len(name.strip()) == 2 and name.strip().upper() in KNOWN_CODES:
        return name.strip().upper()
    return _FOLDED.get(_fold(name))
