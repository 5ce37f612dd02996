"""The travel tests read the rules' reasons in English (the catalogues translate them;
tests/travel/test_gates.py checks that the Spanish text differs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield
