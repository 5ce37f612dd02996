"""Rate limits on the doors anyone can knock on (issue 10): anonymous threat reports (the
web form and the API), receipt lookups, the SMS webhooks and OpenRosa submissions. Login is limited
separately, by django-axes.

Counting is django-ratelimit's (``get_usage``); the counters live in a database table
(``RateLimitCache``, created by a migration), so every web process of an installation
shares them.

**No IP address is stored.** DESIGN.md section 7 promises anonymous reporters that their
address is kept nowhere, and the limiter must not break that promise. The key that
identifies a client is ``HMAC-SHA-256(key derived from SECRET_KEY, UTC day | address)``
(``client_key``), with IPv6 addresses cut to their /64; django-ratelimit then hashes that
again, with the limit's name and time window, into the cache key. The table holds that
SHA-256, a counter and an expiry, nothing else, and rows are deleted once their window is
over. Without ``SECRET_KEY`` a copy of the table cannot be tested against addresses; with
it, someone could test a given address against the rows of the current windows only.

The limits are settings (``AMPARO_RATE_*``, ``"<count>/<period>"`` or ``"off"``), read at
each request; ``AMPARO_RATE_LIMITS=false`` turns every limit off (the benchmarks do).
When the counter table cannot be reached, the request is let through: a report is never
refused because the limiter failed.
"""

from __future__ import annotations

import base64
import functools
import io
import ipaddress
import logging
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connections, models, router, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.utils.crypto import salted_hmac
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

log = logging.getLogger("amparo.ratelimit")

# The table the migration core.0004 creates; settings.CACHES["ratelimit"] names it too.
TABLE = "core_ratelimit_cache"


@dataclass(frozen=True)
class Limit:
    """One limit: its name (the counters' group), the setting that holds its rate, the
    methods it counts, and whether each organisation is counted apart."""

    group: str
    setting: str
    methods: tuple[str, ...] = ("POST",)
    per_organisation: bool = False


# One budget for the web form and the API, across organisations.
ANONYMOUS_REPORTS = Limit("anonymous-report", "AMPARO_RATE_ANON_REPORTS")
# Per gateway address and organisation: one flooded number does not silence another
# organisation's gateway on the same installation (Twilio calls from shared addresses).
SMS_WEBHOOKS = Limit("sms-webhook", "AMPARO_RATE_SMS", per_organisation=True)
OPENROSA_SUBMISSIONS = Limit("openrosa-submission", "AMPARO_RATE_OPENROSA", per_organisation=True)
# Receipt codes (60 random bits) cannot be guessed; the limit keeps it that way against a
# client trying many, and the lookups cheap. One budget for the page's lookups (POSTs:
# the page counts only those, not showing its empty form) and the API's (GETs).
RECEIPT_LOOKUPS = Limit("receipt-lookup", "AMPARO_RATE_RECEIPTS", methods=("GET", "POST"))


def rate_of(limit: Limit) -> str | None:
    """The limit's rate now, or None when it is off."""
    if not getattr(settings, "AMPARO_RATE_LIMITS", True):
        return None
    rate = str(getattr(settings, limit.setting, "") or "").strip().lower()
    if rate in {"", "off"}:
        return None
    return rate


# Who is asking


def client_address(request: HttpRequest) -> str:
    """The client's address as the limiter counts it: from the header the proxy sets
    (``AMPARO_CLIENT_IP_HEADER``; the last address when it holds a list, the one the proxy
    added), else the connection's; an IPv6 address cut to its /64, which one subscriber
    usually holds whole. Never stored."""
    raw = ""
    header = getattr(settings, "AMPARO_CLIENT_IP_HEADER", "")
    if header:
        meta = "HTTP_" + header.strip().upper().replace("-", "_")
        raw = str(request.META.get(meta, "")).split(",")[-1].strip()
    if not raw:
        raw = str(request.META.get("REMOTE_ADDR", "")).strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False).network_address)
    return str(address)


def login_client_address(request: HttpRequest) -> str | None:
    """The address django-axes counts failed sign-ins by (``AXES_CLIENT_IP_CALLABLE``):
    the same as the rate limits', so behind a proxy that sets ``AMPARO_CLIENT_IP_HEADER``
    each client is locked out on its own rather than all of them as the proxy. Axes keeps
    it in its table of failed attempts (staff sign-ins; no reporter signs in)."""
    address = client_address(request)
    return None if address == "unknown" else address


def client_key(request: HttpRequest, limit: Limit | None = None) -> str:
    """An HMAC of the client's address, under a key derived from SECRET_KEY, that changes
    every UTC day. The address itself goes no further than this function."""
    day = int(time.time() // 86400)
    value = f"{day}|{client_address(request)}"
    if limit is not None and limit.per_organisation:
        match = request.resolver_match
        value += "|" + str(match.kwargs.get("slug", "") if match else "")
    return salted_hmac("amparo.core.ratelimit.client", value, algorithm="sha256").hexdigest()


def seconds_to_wait(request: HttpRequest, limit: Limit) -> int | None:
    """Count this request against the limit; the seconds until the window ends when it is
    over the limit, None when it may go on (or the limit is off, or cannot be counted)."""
    rate = rate_of(limit)
    if rate is None:
        return None
    try:
        usage = get_usage(
            request,
            group=limit.group,
            key=lambda _group, req: client_key(req, limit),
            rate=rate,
            method=list(limit.methods),
            increment=True,
        )
    except (DatabaseError, pickle.UnpicklingError):
        # Fail open: a person reporting a threat is never turned away because the counter
        # table is missing, locked or holds something planted.
        log.warning("rate limit %s not counted: the counter table is unavailable", limit.group)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


# How each door refuses


Refusal = Callable[[HttpRequest, int], HttpResponse]

_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}<article data-testid="rate-limited" role="alert">
<h1>{{ title }}</h1><p><strong>{{ not_saved }}</strong></p><p>{{ again }}</p><p>{{ danger }}</p>
</article>{% endblock %}"""


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def refuse_page(request: HttpRequest, seconds: int) -> HttpResponse:
    """The web form's answer: a page that says the report was not saved, when to send it
    again, and that going back keeps what was written."""
    context = {
        "title": _("Too many reports from this connection"),
        "not_saved": _("Your report was not saved."),
        "again": _(
            "Go back with your browser's back button: what you wrote is kept there. "
            "Send it again in %(minutes)s minutes."
        )
        % {"minutes": _minutes(seconds)},
        "danger": _(
            "If you are in danger now, call or text your organisation, or send an SMS to "
            "its number."
        ),
    }
    body = engines["django"].from_string(_PAGE).render(context, request)
    return HttpResponse(body, status=429, headers={"Retry-After": str(seconds)})


def refuse_lookup_page(request: HttpRequest, seconds: int) -> HttpResponse:
    """The receipt page's answer: no status shown, when to look again, and that a report
    in danger goes to the organisation directly."""
    context = {
        "title": _("Too many receipt lookups from this connection"),
        "not_saved": _("No status was looked up."),
        "again": _("Look again in %(minutes)s minutes.") % {"minutes": _minutes(seconds)},
        "danger": _(
            "If you are in danger now, call or text your organisation, or send an SMS to "
            "its number."
        ),
    }
    body = engines["django"].from_string(_PAGE).render(context, request)
    return HttpResponse(body, status=429, headers={"Retry-After": str(seconds)})


def refuse_json(request: HttpRequest, seconds: int) -> HttpResponse:
    """The API's answer, in its error shape (``{"detail": ...}``)."""
    detail = _("Too many requests from this address. Try again in %(minutes)s minutes.") % {
        "minutes": _minutes(seconds)
    }
    return JsonResponse({"detail": detail}, status=429, headers={"Retry-After": str(seconds)})


def refuse_plain(request: HttpRequest, seconds: int) -> HttpResponse:
    """The SMS gateways' answer: a bare 429 that names nothing (no organisation, no
    reason) and sends nothing back to the sender. A gateway that retries waits for
    Retry-After; Twilio does not retry, so the message is then only in Twilio's log."""
    return HttpResponse(
        "Too many requests.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": str(seconds)},
    )


def rate_limited(limit: Limit, refuse: Refusal) -> Callable[[Any], Any]:
    """Decorate a Django view: over the limit, answer ``refuse(request, seconds)`` before
    the view runs (and before anything reads the request body)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            wait = seconds_to_wait(request, limit)
            if wait is not None:
                return refuse(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# The counters' table


class _PlainValues(pickle.Unpickler):
    """Opens pickled numbers and strings only. Django's DatabaseCache unpickles whatever
    is in the table; this one refuses anything that would import code, so whoever can
    write to the database cannot make the web process run code through this table."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name} in the rate-limit table")


def _loads(text: str) -> Any:
    return _PlainValues(io.BytesIO(base64.b64decode(text.encode()))).load()


def _dumps(value: Any) -> str:
    return base64.b64encode(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)).decode("latin1")


class RateLimitCache(DatabaseCache):
    """Django's DatabaseCache with what a limiter needs, on SQLite and PostgreSQL alike:

    - ``incr`` is atomic (the row is locked while it is read and written; on SQLite the
      transaction holds the database) and keeps the counter's expiry. Django's inherited
      ``incr`` is a get and a set: two processes can both write n + 1, and the set
      restarts the expiry at the default timeout.
    - ``add`` first deletes expired rows, so the table holds only current windows.
    - Values are read back without running pickled code (``_PlainValues``).
    """

    _table: str  # set by BaseDatabaseCache from LOCATION

    def _where(self) -> tuple[Any, str, Callable[[str], str]]:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        return connection, db, connection.ops.quote_name

    def _purge_expired(self) -> None:
        connection, _db, qn = self._where()
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {qn(self._table)} WHERE {qn('expires')} < %s",  # noqa: S608
                [now],
            )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        self._purge_expired()
        # A row that exists is not inserted again (Django's add would try, and PostgreSQL
        # would log a duplicate-key error for every request after a window's first).
        if self.has_key(key, version=version):
            return False
        return bool(super().add(key, value, timeout, version))

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        connection, db, qn = self._where()
        table = qn(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('value')} FROM {table} "  # noqa: S608
                f"WHERE {qn('cache_key')} = %s AND {qn('expires')} >= %s{lock}",
                [key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = _loads(connection.ops.process_clob(row[0])) + delta
            cursor.execute(
                f"UPDATE {table} SET {qn('value')} = %s WHERE {qn('cache_key')} = %s",  # noqa: S608
                [_dumps(value), key],
            )
        return int(value)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(k, version=version): k for k in keys}
        connection, _db, qn = self._where()
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('cache_key')}, {qn('value')}, {qn('expires')} "  # noqa: S608
                f"FROM {qn(self._table)} WHERE {qn('cache_key')} IN "
                f"({', '.join(['%s'] * len(key_map))})",
                list(key_map),
            )
            rows = cursor.fetchall()
        result: dict[Any, Any] = {}
        now = tz_now()
        for cache_key, value, expires in rows:
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires >= now:
                result[key_map[cache_key]] = _loads(connection.ops.process_clob(value))
        return result
