"""The monitoring tests read messages in English, as their assertions are written (the
catalogues translate them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from tests.people.wording import set_language


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def login(login: Any) -> Any:
    """Pages in English, as the assertions read them."""

    def _login(persona: Any, c: Any = None) -> Any:
        set_language(persona, "en")
        return login(persona, c)

    return _login
