"""Structured logs without personal data (issue 10, point 10; docs/operations.md 4.8).

What ``settings.LOGGING`` puts on its one handler:

- ``RequestIdFilter`` stamps every record with the id of the request it was written in
  (``request_id``): the proxy's ``X-Request-ID`` when it is a plain token, else a fresh
  one. Outside a request (the worker, commands) there is none.
- ``RedactFilter``, belt and braces: phone numbers, e-mail addresses, IP addresses and the
  tokens of acknowledgement and invitation links are masked in the message, its arguments
  and any traceback before a line is written. Amparo's own log calls name records by id
  only; this catches what a library or an exception message lets through. It cannot know
  a name or a threat's words: those must never be logged in the first place.
- ``JsonFormatter`` (``AMPARO_LOG_FORMAT=json``): one JSON object per line with ``time``,
  ``level``, ``logger``, ``message``, ``request_id`` and, when there is one,
  ``exception``. ``TextFormatter`` (``text``): the same fields on one readable line.

The request id is kept in a context variable set on Django's ``request_started`` signal,
connected when this module is imported, which ``settings.LOGGING`` makes happen at start.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.core.signals import request_finished, request_started

# The request id


_request_id: ContextVar[str | None] = ContextVar("amparo_request_id", default=None)
# An id passed in by the proxy is kept only if it is a plain token (nginx's $request_id,
# a UUID); anything else is replaced, so a client cannot write into the log through it.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
NO_REQUEST = "-"


def current_request_id() -> str | None:
    return _request_id.get()


def _header_from_scope(scope: Mapping[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _request_started(sender: Any, **kwargs: Any) -> None:
    environ = kwargs.get("environ")
    scope = kwargs.get("scope")
    given = ""
    if environ is not None:
        given = environ.get("HTTP_X_REQUEST_ID", "")
    elif scope is not None:
        given = _header_from_scope(scope, b"x-request-id")
    _request_id.set(given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex)


def _request_finished(sender: Any, **kwargs: Any) -> None:
    _request_id.set(None)


request_started.connect(_request_started, dispatch_uid="amparo.core.logs.request_started")
request_finished.connect(_request_finished, dispatch_uid="amparo.core.logs.request_finished")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or NO_REQUEST
        return True


# Redaction

EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# Seven digits or more, with at most two spaces (also "%20" in a URL), dashes or brackets
# between two digits, optionally after "+" (or "%2B"); not glued to a word, a UUID or a
# decimal, and not a date ("2025-03-10 20:00" stays).
PHONE = re.compile(
    r"(?<![\w.+-])(?!\d{4}-\d\d-\d\d)(?:\+|%2[Bb])?\(?\d"
    r"(?:(?:[ \u00a0()-]|%20){0,2}\d){6,}(?![\w-]|\.\d)"
)
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_H = "[0-9A-Fa-f]{1,4}"
IPV6 = re.compile(
    rf"(?<![\w:.])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{0,6}}(?:{_H})?::(?:{_H}:){{0,6}}(?:{_H})?)"
    r"(?![\w:])"
)
# Secrets in paths and query strings: acknowledgement links, invitations, webhook tokens.
LINK_TOKEN = re.compile(r"(/(?:a|invite)/)[^/\s?#\"'<>]+")
QUERY_SECRET = re.compile(r"([?&](?:token|secret|password|key)=)[^&\s#\"'<>]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with phone numbers, e-mail and IP addresses and link tokens masked."""
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = LINK_TOKEN.sub(r"\1[token]", text)
    text = QUERY_SECRET.sub(r"\1[redacted]", text)
    text = IPV6.sub("[ip]", text)
    text = IPV4.sub("[ip]", text)
    return PHONE.sub("[phone]", text)


def _redact_arg(value: Any) -> Any:
    # Numbers stay numbers ("%d", and a row id is not a phone number); anything else is
    # replaced by its masked text only when masking changed it.
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked


class RedactFilter(logging.Filter):
    """Masks what ``redact`` finds in a record's message, arguments and traceback."""

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        msg, args = record.msg, record.args
        try:
            record.msg = redact(str(msg))
            if isinstance(args, Mapping):
                record.args = {key: _redact_arg(value) for key, value in args.items()}
            elif args:
                record.args = tuple(_redact_arg(value) for value in args)
            record.getMessage()
        except Exception:  # noqa: BLE001 - a log call must never fail because of the mask
            record.msg, record.args = msg, args
            try:
                record.msg, record.args = redact(record.getMessage()), None
            except Exception:  # noqa: BLE001 - a broken call: mask its template at least
                record.msg, record.args = redact(str(msg)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# Formatters


def _request_id_of(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None) or current_request_id()
    return None if value in (None, NO_REQUEST) else str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; non-ASCII escaped, so any terminal or collector reads it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id_of(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """``2025-03-10 20:00:00,123 WARNING amparo.alerts.clock [<request id>] message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or NO_REQUEST
        return super().format(record)
