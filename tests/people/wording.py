"""What a user should read, in their language. App messages are compared with the
catalogue (so the tests hold while the Spanish catalogue is still being filled); Django's
own messages prove that the page really is in the user's language."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.translation import gettext, override

LANGUAGES = ["es", "en"]


def message(language: str, msgid: str, **params: Any) -> str:
    with override(language):
        text = gettext(msgid)
    return text % params if params else text


def shown(response: Any, text: str) -> bool:
    """Is the text on the page (HTML-escaped, as the template prints it)?"""
    return escape(text) in response.content.decode()


def set_language(persona: Any, language: str) -> None:
    persona.user.language = language
    persona.user.save(update_fields=["language"])
